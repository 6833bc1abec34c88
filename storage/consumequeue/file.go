package consumequeue

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/actormq/actormq/storage/vfs"
)

// fileNameDigits is the width of a file name: the zero-padded start offset.
const fileNameDigits = 20

// zeroChunkBytes is the granularity at which zeroTail checks for non-zero
// bytes: writing zeros over an already-zero page would still dirty it (and
// allocate blocks of a sparse file), so only chunks holding data are cleared.
const zeroChunkBytes = 4096

// cqFile is one mapped queue file.
type cqFile struct {
	start int64 // byte offset of the file's first unit in the queue
	f     vfs.File
	m     vfs.Mapping
	b     []byte // m.Bytes(), FileSize long
}

func fileName(start int64) string { return fmt.Sprintf("%020d", start) }

// parseFileName returns the start offset encoded in a queue file name.
func parseFileName(name string) (int64, bool) {
	if len(name) != fileNameDigits {
		return 0, false
	}
	v, err := strconv.ParseInt(name, 10, 64)
	if err != nil || v < 0 {
		return 0, false
	}
	return v, true
}

// mapFile opens (create: creates and zeroes) the file at start and maps it.
// A file shorter than FileSize (crash while it was being created) is
// extended with zeros; a longer one means FileSize changed, which would
// misplace every unit, so it is refused.
func (q *queue) mapFile(start int64, create bool) (*cqFile, error) {
	path := filepath.Join(q.dir, fileName(start))
	flag := os.O_RDWR
	if create {
		flag |= os.O_CREATE | os.O_TRUNC
	}
	f, err := q.fs.OpenFile(path, flag, 0o644)
	if err != nil {
		return nil, fmt.Errorf("consumequeue: open %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("consumequeue: stat %s: %w", path, err)
	}
	switch size := st.Size(); {
	case size > q.fileSize:
		f.Close()
		return nil, fmt.Errorf("%w: %s is %d bytes, file size is %d", ErrCorrupt, path, size, q.fileSize)
	case size < q.fileSize:
		if err := f.Truncate(q.fileSize); err != nil {
			f.Close()
			return nil, fmt.Errorf("consumequeue: size %s: %w", path, err)
		}
	}
	m, err := f.Mmap(int(q.fileSize))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("consumequeue: map %s: %w", path, err)
	}
	return &cqFile{start: start, f: f, m: m, b: m.Bytes()}, nil
}

// release unmaps and closes the file, keeping it on disk.
func (cf *cqFile) release() error {
	err := cf.m.Unmap()
	cf.b = nil
	if cerr := cf.f.Close(); err == nil {
		err = cerr
	}
	return err
}

func readUnit(b []byte) Unit {
	return Unit{
		CommitLogOffset: int64(binary.BigEndian.Uint64(b[0:8])),
		Size:            int32(binary.BigEndian.Uint32(b[8:12])),
		TagsCode:        int64(binary.BigEndian.Uint64(b[12:20])),
	}
}

func writeUnit(b []byte, u Unit) {
	binary.BigEndian.PutUint64(b[0:8], uint64(u.CommitLogOffset))
	binary.BigEndian.PutUint32(b[8:12], uint32(u.Size))
	binary.BigEndian.PutUint64(b[12:20], uint64(u.TagsCode))
}

// validUnit is recovery's rule (§7.2): offset >= 0 and size > 0. Fillers
// pass; an all-zero (never written) unit does not.
func validUnit(u Unit) bool { return u.CommitLogOffset >= 0 && u.Size > 0 }

// zeroTail clears b[from:] of cf and msyncs what it cleared, so units
// dropped by truncation cannot come back after a crash. One msync covers
// the first to the last cleared chunk: the untouched chunks between them
// are clean and cost the msync nothing, while one msync per chunk would be
// a system call per 4 KiB of a 6 MB file.
func (cf *cqFile) zeroTail(from int) error {
	lo, hi := -1, -1
	for off := from; off < len(cf.b); {
		end := min((off/zeroChunkBytes+1)*zeroChunkBytes, len(cf.b))
		if chunk := cf.b[off:end]; !allZero(chunk) {
			clear(chunk)
			if lo < 0 {
				lo = off
			}
			hi = end
		}
		off = end
	}
	if lo < 0 {
		return nil
	}
	if err := cf.m.Sync(lo, hi-lo); err != nil {
		return fmt.Errorf("consumequeue: sync cleared tail: %w", err)
	}
	return nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
