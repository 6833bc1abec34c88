package check

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/actormq/actormq/storage/vfs"
	"github.com/actormq/actormq/wire/message"
)

// Record is one message record found in the CommitLog.
type Record struct {
	Phys        int64 // global CommitLog offset
	Size        int32
	Topic       string
	Queue       int32
	QueueOffset int64
	ID          string // UNIQ_KEY property
	Body        []byte
	BodyAt      int32 // where the body starts inside the record
}

// Unit is one consume-queue unit.
type Unit struct {
	Phys int64
	Size int32
}

// QueueKey names a consume queue.
type QueueKey struct {
	Topic string
	Queue int32
}

// Store is what a stopped broker left on disk, read without the product's
// recovery code: every record of the CommitLog (CRC checked) in log order
// and the consume queues of the topics asked for.
type Store struct {
	Records []Record
	Queues  map[QueueKey][]Unit // unit i is queue offset i; fillers below the min offset have Size 0
	// Problems are breaks of the format found by the scan: a record that
	// does not decode or fails its CRC before the end of the data, a
	// segment that ends without a filler, a unit past the end of a queue
	// file. Bytes after the last record of the newest segment are not a
	// problem: recovery leaves the tail it cut off in place, and new
	// appends overwrite it.
	Problems []string
}

// Layout locates a store on an FS.
type Layout struct {
	FS             vfs.FS
	RootDir        string
	CommitLogDir   string // default <RootDir>/commitlog
	CommitLogBytes int64  // mapedFileSizeCommitLog
	Topics         []string
}

// cqUnitBytes is the size of one consume-queue unit; fillerSize marks a
// filler unit (storage-format.md §4).
const (
	cqUnitBytes = 20
	fillerSize  = 0x7FFFFFFF
)

// ScanStore reads the CommitLog and the consume queues of l.Topics. The
// broker must be stopped (nothing writes the files meanwhile).
func ScanStore(l Layout) (*Store, error) {
	if l.CommitLogDir == "" {
		l.CommitLogDir = filepath.Join(l.RootDir, "commitlog")
	}
	st := &Store{Queues: map[QueueKey][]Unit{}}
	segs, err := sortedFiles(l.FS, l.CommitLogDir)
	if err != nil {
		return nil, err
	}
	for i, name := range segs {
		start, err := strconv.ParseInt(name, 10, 64)
		if err != nil {
			st.Problems = append(st.Problems, fmt.Sprintf("commitlog file %q is not named by an offset", name))
			continue
		}
		b, err := readFile(l.FS, filepath.Join(l.CommitLogDir, name))
		if err != nil {
			return nil, err
		}
		if int64(len(b)) != l.CommitLogBytes {
			st.Problems = append(st.Problems, fmt.Sprintf("commitlog file %s is %d bytes, want %d", name, len(b), l.CommitLogBytes))
		}
		st.scanSegment(start, b, i == len(segs)-1)
	}
	for _, topic := range l.Topics {
		dir := filepath.Join(l.RootDir, "consumequeue", topic)
		queues, err := sortedFiles(l.FS, dir)
		if err != nil {
			return nil, err
		}
		for _, q := range queues {
			id, err := strconv.Atoi(q)
			if err != nil {
				continue
			}
			key := QueueKey{Topic: topic, Queue: int32(id)}
			if st.Queues[key], err = st.scanQueue(l.FS, filepath.Join(dir, q)); err != nil {
				return nil, err
			}
		}
	}
	return st, nil
}

// scanSegment walks the records of one segment. In the newest segment the
// data ends at the first position that is not a valid record, unless that
// bad record frames correctly (only its CRC is wrong) and a valid record
// follows it: then it is damage inside the data. Older segments must end
// with the filler.
func (st *Store) scanSegment(start int64, b []byte, newest bool) {
	pos := 0
	for pos+message.BlankBytes <= len(b) {
		if binary.BigEndian.Uint32(b[pos:]) == 0 {
			if !newest {
				st.Problems = append(st.Problems, fmt.Sprintf("commitlog segment %d: data ends at %d without a filler", start, start+int64(pos)))
			}
			return
		}
		m, n, err := decodeAt(b, start, pos)
		if errors.Is(err, message.ErrBlank) {
			return
		}
		if err != nil {
			_, framed, ferr := message.DecodeRecord(b[pos:], false)
			resumes := ferr == nil && validAt(b, start, pos+framed)
			if !newest || resumes {
				st.Problems = append(st.Problems, fmt.Sprintf("commitlog offset %d: %v", start+int64(pos), err))
			}
			if !resumes {
				return
			}
			pos += framed // damage inside the data: go on after it
			continue
		}
		id, _ := message.PropertyValue(m.Properties, message.PropertyUniqKey)
		// After the body: the topic's length (1 byte in V1, 2 in V2), the
		// topic, the properties' length (2 bytes), the properties.
		topicLenBytes := 1
		if int32(binary.BigEndian.Uint32(b[pos+4:])) == message.MagicV2 {
			topicLenBytes = 2
		}
		tail := topicLenBytes + len(m.Topic) + 2 + len(m.Properties)
		st.Records = append(st.Records, Record{
			Phys: m.PhysicalOffset, Size: m.TotalSize, Topic: m.Topic, Queue: m.QueueID,
			QueueOffset: m.QueueOffset, ID: id, Body: slices.Clone(m.Body), BodyAt: int32(n - tail - len(m.Body)),
		})
		pos += n
	}
	// Fewer than BlankBytes left: too short for a filler, the segment is full.
}

// decodeAt decodes the record at pos of the segment starting at start,
// checking its CRC and its PHYSICALOFFSET field.
func decodeAt(b []byte, start int64, pos int) (message.Message, int, error) {
	m, n, err := message.DecodeRecord(b[pos:], true)
	if err == nil && m.PhysicalOffset != start+int64(pos) {
		err = fmt.Errorf("PHYSICALOFFSET field %d", m.PhysicalOffset)
	}
	return m, n, err
}

// validAt reports whether a valid record or the filler starts at pos.
func validAt(b []byte, start int64, pos int) bool {
	if pos+message.BlankBytes > len(b) {
		return false
	}
	_, _, err := decodeAt(b, start, pos)
	return err == nil || errors.Is(err, message.ErrBlank)
}

// scanQueue reads one queue's files into units. A unit with size 0 ends the
// queue.
func (st *Store) scanQueue(fs vfs.FS, dir string) ([]Unit, error) {
	files, err := sortedFiles(fs, dir)
	if err != nil {
		return nil, err
	}
	var units []Unit
	for _, name := range files {
		start, err := strconv.ParseInt(name, 10, 64)
		if err != nil || start%cqUnitBytes != 0 {
			st.Problems = append(st.Problems, fmt.Sprintf("consume queue file %s/%s is not named by a unit offset", dir, name))
			continue
		}
		b, err := readFile(fs, filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		if first := start / cqUnitBytes; int64(len(units)) != first {
			st.Problems = append(st.Problems, fmt.Sprintf("consume queue %s: file %s starts at unit %d after %d units", dir, name, first, len(units)))
			return units, nil
		}
		for p := 0; p+cqUnitBytes <= len(b); p += cqUnitBytes {
			phys := int64(binary.BigEndian.Uint64(b[p:]))
			size := int32(binary.BigEndian.Uint32(b[p+8:]))
			switch {
			case size == 0:
				return units, nil
			case size == fillerSize && phys == 0:
				units = append(units, Unit{})
			default:
				units = append(units, Unit{Phys: phys, Size: size})
			}
		}
	}
	return units, nil
}

func sortedFiles(fs vfs.FS, dir string) ([]string, error) {
	ents, err := fs.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("check: read dir %s: %w", dir, err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	slices.Sort(names) // segment names are zero-padded offsets: text order is offset order
	return names, nil
}

func readFile(fs vfs.FS, name string) ([]byte, error) {
	f, err := fs.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("check: open %s: %w", name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("check: stat %s: %w", name, err)
	}
	b := make([]byte, fi.Size())
	if _, err := f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("check: read %s: %w", name, err)
	}
	return b, nil
}
