package consumequeue

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"

	"github.com/actormq/actormq/storage/vfs"
)

// allocLog is the OS file system with a record of File.Allocate calls, and
// ENOSPC for every call once full is set.
type allocLog struct {
	vfs.FS
	mu     sync.Mutex
	ranges [][2]int64 // [off, off+length)
	full   bool
}

type allocFile struct {
	vfs.File
	l *allocLog
}

func (l *allocLog) OpenFile(name string, flag int, perm os.FileMode) (vfs.File, error) {
	f, err := l.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return allocFile{File: f, l: l}, nil
}

func (f allocFile) Allocate(off, length int64) error {
	f.l.mu.Lock()
	defer f.l.mu.Unlock()
	if f.l.full {
		return &os.PathError{Op: "fallocate", Path: f.Name(), Err: syscall.ENOSPC}
	}
	f.l.ranges = append(f.l.ranges, [2]int64{off, off + length})
	return f.File.Allocate(off, length)
}

func (l *allocLog) take() [][2]int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.ranges
	l.ranges = nil
	return r
}

// TestAllocatesAheadOfUnits checks that queue files are allocated chunk by
// chunk ahead of the units (so a full disk fails a Put instead of raising
// SIGBUS on the mapping) and not whole at creation (10,000 queues would take
// 57 GiB), and that a failed allocation fails the Put without publishing
// the unit.
func TestAllocatesAheadOfUnits(t *testing.T) {
	const perChunk = allocChunkBytes / UnitBytes // whole units in the first chunk
	root := t.TempDir()
	fsys := &allocLog{FS: vfs.Default}
	q, err := Open(Config{RootDir: root, Topic: "TopicA", QueueID: 3, FS: fsys})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })

	putRange(t, q, 0, perChunk)
	if got := fsys.take(); !slices.Equal(got, [][2]int64{{0, allocChunkBytes}}) {
		t.Fatalf("allocations for the first chunk of units: %v", got)
	}
	// The next unit straddles the chunk boundary: both chunks are allocated.
	putRange(t, q, perChunk, perChunk+1)
	if got := fsys.take(); !slices.Equal(got, [][2]int64{{0, 2 * allocChunkBytes}}) {
		t.Fatalf("allocations for the straddling unit: %v", got)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(root, "TopicA", "3", fileName(0)), &st); err != nil {
		t.Fatal(err)
	}
	if onDisk := st.Blocks * 512; onDisk > 4*allocChunkBytes {
		t.Fatalf("%d bytes allocated on disk for %d units of a %d-byte file", onDisk, perChunk+1, FileSizeDefault)
	}

	fsys.mu.Lock()
	fsys.full = true
	fsys.mu.Unlock()
	next := int64(2 * allocChunkBytes / UnitBytes)
	putRange(t, q, perChunk+1, next)
	if err := q.Put(next, msgUnit(next)); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Put on a full disk: %v, want ENOSPC", err)
	}
	if q.MaxOffset() != next {
		t.Fatalf("MaxOffset %d after the failed Put, want %d", q.MaxOffset(), next)
	}
}
