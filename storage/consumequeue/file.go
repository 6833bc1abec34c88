package consumequeue

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/actormq/actormq/storage/vfs"
	"golang.org/x/sys/unix"
)

// fileNameDigits is the width of a file name: the zero-padded start offset.
const fileNameDigits = 20

// allocChunkBytes is how much of a queue file is allocated at a time, ahead
// of the units written into it. Allocating the whole file at creation was
// rejected: a file is 6 MB, so 10,000 queues would take 57 GiB of disk
// before holding a unit, and allocating page by page would be a system call
// every 204 units. 64 KiB is a call per 3,276 units and at most 64 KiB
// allocated ahead per queue.
const allocChunkBytes = 64 << 10

// cqFile is one mapped queue file.
type cqFile struct {
	start int64 // byte offset of the file's first unit in the queue
	f     vfs.File
	m     vfs.Mapping
	b     []byte // m.Bytes(), FileSize long
	// [allocLo, allocHi) is the byte range last allocated (owner only).
	allocLo, allocHi int64
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
// misplace every unit, so it is refused. The file is sized, not allocated:
// writeSlot allocates the range a unit goes into first.
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
	b := m.Bytes()
	// A fault on a queue file maps the one page it needs: the kernel's
	// default reads 128 KiB or more around it, which for a file written 20
	// bytes at a time mostly zero-fills pages beyond the end, and with
	// 10,000 queues filled gigabytes of page cache at start and at every
	// new page. A unit read is one page either way. Best effort: the
	// advice changes no contents, and a mapping the kernel did not make
	// (a test file system's) may refuse it.
	_ = unix.Madvise(b, unix.MADV_RANDOM)
	return &cqFile{start: start, f: f, m: m, b: b}, nil
}

// writeSlot returns the 20 bytes at pos of the file for a unit to be
// written, allocating the chunk(s) they lie in first when the last
// allocation does not cover them: a store into a page of a sparse file on a
// full disk raises SIGBUS, while fallocate meets ENOSPC and returns it.
// Allocation is idempotent, so a recovered file (its allocation unknown)
// only costs one call at its first write. Owner goroutine only.
func (cf *cqFile) writeSlot(pos int64) ([]byte, error) {
	if pos < cf.allocLo || pos+UnitBytes > cf.allocHi {
		lo := pos / allocChunkBytes * allocChunkBytes
		hi := min((pos+UnitBytes+allocChunkBytes-1)/allocChunkBytes*allocChunkBytes, int64(len(cf.b)))
		if err := cf.f.Allocate(lo, hi-lo); err != nil {
			return nil, fmt.Errorf("consumequeue: allocate %s [%d, %d): %w", fileName(cf.start), lo, hi, err)
		}
		cf.allocLo, cf.allocHi = lo, hi
	}
	return cf.b[pos : pos+UnitBytes], nil
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
// dropped by truncation cannot come back after a crash. Only the data
// regions of the tail are read and only non-zero chunks written
// (vfs.ZeroTail): checking a whole 6 MB tail through the mapping faults
// every page in, which took minutes for 10,000 queues at broker start. One
// msync covers the first to the last cleared chunk: the untouched chunks
// between them are clean and cost the msync nothing, while one msync per
// chunk would be a system call per 4 KiB of a 6 MB file.
func (cf *cqFile) zeroTail(from int) error {
	lo, hi := vfs.ZeroTail(cf.f, cf.b, from)
	if lo == hi {
		return nil
	}
	if err := cf.m.Sync(lo, hi-lo); err != nil {
		return fmt.Errorf("consumequeue: sync cleared tail: %w", err)
	}
	return nil
}
