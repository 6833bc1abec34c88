// Package faultfs is an in-memory vfs.FS for sim/ and the store's tests: it
// keeps what a disk would keep after a power cut, and injects seeded,
// deterministic disk faults.
//
// Durability model (what survives Crash):
//
//	+-------------------------+------------------------------------------+
//	| change                  | durable after                            |
//	+-------------------------+------------------------------------------+
//	| WriteAt, Truncate,      | File.Sync (whole file, size included)    |
//	| Allocate                |                                          |
//	| a store into a Mapping  | Mapping.Sync of its range (and the size) |
//	| create, rename, remove, | SyncDir of the directory holding the     |
//	| mkdir of a dir entry    | entry (CrashKeeping may keep a prefix of |
//	|                         | the unsynced ones, as a journal would)   |
//	+-------------------------+------------------------------------------+
//
// A Mapping's bytes are the file's live bytes: ReadAt sees stores into the
// mapping and the mapping sees WriteAt, as with a MAP_SHARED mapping.
//
// Space: files are sparse, as on Linux. Truncate allocates nothing; WriteAt,
// Allocate and the pages a Mapping.Sync covers take 4 KiB pages, and past
// the capacity (SetCapacity) WriteAt stores what fits and fails with ENOSPC,
// Allocate fails whole. A mapped page that could not be allocated is where
// Linux raises SIGBUS in the writer; faultfs cannot trap a store into a
// byte slice, so it notices at Mapping.Sync, logs a KindUnbackedWrite event
// and fails the sync with EFAULT. The store avoids both by allocating its
// mapped files when it creates them.
//
// Faults come from Rules (Inject) and are drawn from one math/rand/v2
// generator seeded by New: the same seed and the same sequence of operations
// give the same faults. Every injected fault is logged (Events) with the
// number of the operation it hit (Ops counts them), so a failing run can be
// replayed and a test can inject "at op N" for N = 1, 2, … until a run
// passes (pebble's errorfs does the same):
//
//	for n := int64(1); ; n++ {
//		fs := faultfs.New(seed)
//		fs.Inject(faultfs.Rule{Ops: faultfs.OpsMutating, Nth: n, Kind: faultfs.KindEIO})
//		err := run(fs)
//		if len(fs.Events()) == 0 {
//			break // the run has fewer than n mutating ops: every one was tried
//		}
//		check(err) // the fault must surface as an error, never as success
//	}
//
// Every file lives in memory at its full size: run a broker on it with small
// files (mapedFileSizeCommitLog, mapedFileSizeConsumeQueue, maxHashSlotNum,
// maxIndexNum), or one 1 GiB segment is 1 GiB of heap.
//
// Goroutine contract: every method is safe from any goroutine; the bytes of
// a Mapping follow the rules of the memory they alias (the store's own
// ownership rules).
package faultfs

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/actormq/actormq/storage/vfs"
)

// ErrCrashed is the error of every operation on an FS after it crashed.
var ErrCrashed = errors.New("faultfs: file system crashed")

const (
	pageBytes = 4096
	// totalUnlimited is DiskUsage's total without a capacity: large enough
	// that the broker's usage ratio stays near 0.
	totalUnlimited = 1 << 40
)

// FS is the in-memory file system. The zero value is not usable; call New.
type FS struct {
	mu       sync.Mutex
	root     *node
	rng      *rand.Rand
	now      func() time.Time
	crashed  bool
	capacity int64 // bytes; 0 means unlimited
	used     int64 // allocated bytes of every live file
	seq      int64 // operations so far
	rules    []*rule
	events   []Event
	// pending lists the directory changes not yet made durable by SyncDir,
	// oldest first.
	pending []dirChange
	locks   map[*node]bool
}

var _ vfs.FS = (*FS)(nil)

// New returns an empty file system whose faults are drawn from seed.
func New(seed uint64) *FS {
	return &FS{
		root:  newDir(),
		rng:   rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		now:   time.Now,
		locks: make(map[*node]bool),
	}
}

// SetClock replaces the clock of modification times (default time.Now).
func (fsys *FS) SetClock(now func() time.Time) {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	fsys.now = now
}

// SetCapacity limits the allocated bytes of all files; 0 removes the limit.
// Lowering it below Used makes every growth fail until space is freed or
// given back with a higher capacity.
func (fsys *FS) SetCapacity(bytes int64) {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	fsys.capacity = bytes
}

// Used is the allocated bytes of every live file.
func (fsys *FS) Used() int64 {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	return fsys.used
}

// Ops is the number of operations run so far (faults count them from 1).
func (fsys *FS) Ops() int64 {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	return fsys.seq
}

// split cleans name and returns its path elements below the root.
func split(name string) []string {
	name = strings.TrimPrefix(filepath.Clean("/"+name), "/")
	if name == "" {
		return nil
	}
	return strings.Split(name, "/")
}

// lookupLocked returns the directory holding name, name's last element and
// the node it names (nil if absent). REQUIRES fsys.mu.
func (fsys *FS) lookupLocked(op, name string) (dir *node, base string, n *node, err error) {
	elems := split(name)
	if len(elems) == 0 {
		return nil, "", fsys.root, nil
	}
	dir = fsys.root
	for _, e := range elems[:len(elems)-1] {
		next := dir.children[e]
		if next == nil {
			return nil, "", nil, pathErr(op, name, syscall.ENOENT)
		}
		if !next.isDir {
			return nil, "", nil, pathErr(op, name, syscall.ENOTDIR)
		}
		dir = next
	}
	base = elems[len(elems)-1]
	return dir, base, dir.children[base], nil
}

func pathErr(op, name string, err error) error {
	return &os.PathError{Op: op, Path: name, Err: err}
}

// OpenFile opens or creates a file (flags as os.OpenFile; O_APPEND is
// honoured by Write).
func (fsys *FS) OpenFile(name string, flag int, perm os.FileMode) (vfs.File, error) {
	op := OpOpen
	if flag&os.O_CREATE != 0 {
		op = OpCreate
	}
	_, err := fsys.enter(op, name)
	defer fsys.mu.Unlock()
	if err != nil {
		return nil, err
	}
	dir, base, n, err := fsys.lookupLocked("open", name)
	switch {
	case err != nil:
		return nil, err
	case dir == nil:
		return nil, pathErr("open", name, syscall.EISDIR)
	case n != nil && flag&(os.O_CREATE|os.O_EXCL) == os.O_CREATE|os.O_EXCL:
		return nil, pathErr("open", name, syscall.EEXIST)
	case n == nil && flag&os.O_CREATE == 0:
		return nil, pathErr("open", name, syscall.ENOENT)
	case n != nil && n.isDir && flag&(os.O_WRONLY|os.O_RDWR) != 0:
		return nil, pathErr("open", name, syscall.EISDIR)
	}
	if n == nil {
		n = &node{mode: perm, modTime: fsys.now()}
		fsys.linkLocked(dir, base, n)
	}
	writable := flag&(os.O_WRONLY|os.O_RDWR) != 0
	if flag&os.O_TRUNC != 0 && writable && len(n.data) > 0 {
		if err := fsys.resizeLocked(n, 0); err != nil {
			return nil, pathErr("open", name, err)
		}
		n.modTime = fsys.now()
	}
	return &file{fs: fsys, n: n, name: name, writable: writable, readable: flag&os.O_WRONLY == 0,
		appendMode: flag&os.O_APPEND != 0}, nil
}
