package consumequeue

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
	"testing/synctest"

	"github.com/actormq/actormq/sim/faultfs"
	"github.com/actormq/actormq/storage/vfs"
)

// TestOwnerFailuresAreSticky: a write that fails on the owner's goroutine
// (a Put) for a reason other than a lack of resources makes the queue not
// writable (a directory fsync whatever its errno: a retry of a restart
// would find nothing left to remove and skip the fsync of rule 3): the
// Put and every later one fail with ErrNotWritable (a later unit would
// leave a gap that Put fills with fillers, which re-dispatch keeps), and so
// does every flush, although faultfs lets the retried operation succeed, as
// Linux does after reporting an error (a directory fsync returns 0 then).
func TestOwnerFailuresAreSticky(t *testing.T) {
	const dir = "/store/consumequeue/TopicA/3"
	// atRoll fills one file, its entry not yet synced: the next Put rolls.
	atRoll := func(t *testing.T, q *ConsumeQueue) int64 {
		putRange(t, q, 0, 5)
		return 5
	}
	// afterExpiry leaves a queue whose files all expired: the next Put
	// restarts it past them.
	afterExpiry := func(t *testing.T, q *ConsumeQueue) int64 {
		putRange(t, q, 0, 3)
		mustFlush(t, q)
		if err := q.DeleteBelow(msgUnit(100).CommitLogOffset); err != nil {
			t.Fatal(err)
		}
		return 100
	}
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T, q *ConsumeQueue) int64 // returns the offset to put next
		rule  faultfs.Rule
		errno syscall.Errno // the rule's; default EIO
	}{
		{
			// Rule 2 (entries.go): the roll into a second file while the
			// first one's entry waits for its fsync does it on the owner.
			name:  "directory fsync at a roll",
			setup: atRoll,
			rule:  faultfs.Rule{Ops: faultfs.OpSyncDir, Path: dir, Kind: faultfs.KindEIO, Nth: 1},
		},
		{
			// Rule 3: a queue restarted past its expired files fsyncs the
			// removals on the owner.
			name:  "directory fsync of a restart",
			setup: afterExpiry,
			rule:  faultfs.Rule{Ops: faultfs.OpSyncDir, Path: dir, Kind: faultfs.KindEIO, Nth: 1},
		},
		{
			name:  "directory fsync of a restart without space",
			setup: afterExpiry,
			rule:  faultfs.Rule{Ops: faultfs.OpSyncDir, Path: dir, Kind: faultfs.KindENOSPC, Nth: 1},
			errno: syscall.ENOSPC,
		},
		{
			name:  "directory fsync at a roll without space",
			setup: atRoll,
			rule:  faultfs.Rule{Ops: faultfs.OpSyncDir, Path: dir, Kind: faultfs.KindENOSPC, Nth: 1},
			errno: syscall.ENOSPC,
		},
		{
			name:  "creating a file",
			setup: atRoll,
			rule:  faultfs.Rule{Ops: faultfs.OpCreate, Path: dir, Kind: faultfs.KindEIO, Nth: 1},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fsys := faultfs.New(1)
			q, err := Open(Config{RootDir: "/store/consumequeue", Topic: "TopicA", QueueID: 3, FileSize: smallFile, FS: fsys})
			if err != nil {
				t.Fatal(err)
			}
			next := tt.setup(t, q)
			flushed := flushedOf(q)
			fsys.Inject(tt.rule)
			errno := cmp.Or(tt.errno, syscall.EIO)
			first := q.Put(next, msgUnit(next))
			if !errors.Is(first, ErrNotWritable) || !errors.Is(first, errno) || Retryable(first) {
				t.Fatalf("failed Put: %v, want ErrNotWritable and %v, not retryable", first, errno)
			}
			if ev := fsys.Events(); len(ev) != 1 {
				t.Fatalf("faults %v, want one", ev)
			}
			for _, off := range []int64{next, next + 1} {
				if err := q.Put(off, msgUnit(off)); err != first {
					t.Fatalf("Put(%d) after the failure: %v, want the first error", off, err)
				}
			}
			if err := q.Flush(); err != first {
				t.Fatalf("Flush after the failure: %v, want the first error", err)
			}
			if _, err := q.BeginFlush(); err != first {
				t.Fatalf("BeginFlush after the failure: %v, want the first error", err)
			}
			if got := flushedOf(q); got != flushed {
				t.Fatalf("flushed %d after the failure, want %d", got, flushed)
			}
			if err := q.Close(); !errors.Is(err, ErrNotWritable) {
				t.Fatalf("Close after the failure: %v, want ErrNotWritable", err)
			}
		})
	}
}

// TestPutWithoutResourcesIsNotSticky: a Put that finds no space, or no
// descriptor or memory for the next file, fails with that errno only
// (Retryable), and the queue takes the unit at the next try (the queue
// actor retries it from its backlog). Java retries a failed unit write
// too; before, a moment without descriptors stopped the broker until a
// restart.
func TestPutWithoutResourcesIsNotSticky(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EMFILE, syscall.ENFILE, syscall.ENOMEM} {
		t.Run(errno.Error(), func(t *testing.T) {
			fsys := &createFailsOnce{FS: faultfs.New(1), errno: errno}
			q, err := Open(Config{RootDir: "/store/consumequeue", Topic: "TopicA", QueueID: 3, FileSize: smallFile, FS: fsys})
			if err != nil {
				t.Fatal(err)
			}
			defer q.Close()
			putRange(t, q, 0, 5) // the first file is full
			fsys.armed = true
			if err := q.Put(5, msgUnit(5)); !errors.Is(err, errno) || errors.Is(err, ErrNotWritable) || !Retryable(err) {
				t.Fatalf("Put: %v, want %v alone, retryable", err, errno)
			}
			putRange(t, q, 5, 7)
			mustFlush(t, q)
		})
	}
	// And a fallocate that finds no space, as the disk reports it.
	fsys := faultfs.New(1)
	q, err := Open(Config{RootDir: "/store/consumequeue", Topic: "TopicA", QueueID: 3, FileSize: smallFile, FS: fsys})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	putRange(t, q, 0, 5)
	fsys.Inject(faultfs.Rule{Ops: faultfs.OpAllocate, Kind: faultfs.KindENOSPC, Nth: 1})
	if err := q.Put(5, msgUnit(5)); !errors.Is(err, syscall.ENOSPC) || errors.Is(err, ErrNotWritable) {
		t.Fatalf("Put without space: %v, want ENOSPC alone", err)
	}
	putRange(t, q, 5, 7)
	mustFlush(t, q)
}

// createFailsOnce fails the first creation of a file after it is armed
// with errno, as open(2) does when the process or the system is out of
// descriptors (mmap's ENOMEM and a full disk's ENOSPC alike for Put).
type createFailsOnce struct {
	vfs.FS
	errno         syscall.Errno
	armed, failed bool
}

func (c *createFailsOnce) OpenFile(name string, flag int, perm os.FileMode) (vfs.File, error) {
	if c.armed && !c.failed && flag&os.O_CREATE != 0 {
		c.failed = true
		return nil, &os.PathError{Op: "open", Path: name, Err: c.errno}
	}
	return c.FS.OpenFile(name, flag, perm)
}

// TestDirectoryFsyncFailureInARoundByPagesIsSticky: a round by pages that
// has no pages due still fsyncs a new file's directory entries; its
// failure is the queue's sticky failure like any other flush's.
func TestDirectoryFsyncFailureInARoundByPagesIsSticky(t *testing.T) {
	const dir = "/store/consumequeue/TopicA/3"
	fsys := faultfs.New(1)
	q, err := Open(Config{RootDir: "/store/consumequeue", Topic: "TopicA", QueueID: 3, FS: fsys})
	if err != nil {
		t.Fatal(err)
	}
	putRange(t, q, 0, 3) // far less than two pages
	fsys.Inject(faultfs.Rule{Ops: faultfs.OpSyncDir, Path: dir, Kind: faultfs.KindEIO, Nth: 1})
	first := q.FlushPages(2)
	if !errors.Is(first, ErrNotWritable) || !errors.Is(first, syscall.EIO) {
		t.Fatalf("round by pages: %v, want ErrNotWritable and EIO", first)
	}
	if err := q.Flush(); err != first {
		t.Fatalf("Flush after the failure: %v, want the first error", err)
	}
	if got := flushedOf(q); got != 0 {
		t.Fatalf("flushed %d, want 0", got)
	}
	if err := q.Close(); !errors.Is(err, ErrNotWritable) {
		t.Fatalf("Close after the failure: %v, want ErrNotWritable", err)
	}
}

// TestQueueDirectoryFsyncFailureStaysWithTheDirectory: once an fsync of
// the queue's directory failed, every later syncEntries fails with it (the
// directory's own record, dirErr), even before the failure reached the
// queue's flush state: a Flush on the flusher's goroutine that overlaps the
// owner's failed fsync at a roll must not fsync again, get 0 from Linux
// and report units durable in a file whose entry may not be on disk.
func TestQueueDirectoryFsyncFailureStaysWithTheDirectory(t *testing.T) {
	const dir = "/store/consumequeue/TopicA/3"
	fsys := faultfs.New(1)
	q, err := Open(Config{RootDir: "/store/consumequeue", Topic: "TopicA", QueueID: 3, FS: fsys})
	if err != nil {
		t.Fatal(err)
	}
	putRange(t, q, 0, 3) // the first file, its entry not synced
	fsys.Inject(faultfs.Rule{Ops: faultfs.OpSyncDir, Path: dir, Kind: faultfs.KindEIO, Nth: 1})
	first := q.impl.syncEntries() // as the owner's roll does (rule 2)
	if !errors.Is(first, syscall.EIO) {
		t.Fatalf("syncEntries: %v, want EIO", first)
	}
	if err := q.impl.syncEntries(); err != first {
		t.Fatalf("syncEntries after the failure: %v, want the first error", err)
	}
	if err := q.Flush(); !errors.Is(err, ErrNotWritable) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("Flush after the failure: %v, want ErrNotWritable and EIO", err)
	}
	if got := flushedOf(q); got != 0 {
		t.Fatalf("flushed %d, want 0", got)
	}
	q.Close()
}

// TestStartWriteBackFailureIsNotSticky: sync_file_range without a wait
// makes nothing durable, so its failure (a transient ENOMEM) fails that
// round only; the range is started again by the next round and made
// durable by the next Flush, whose msync would report a real write-back
// error on the same descriptor.
func TestStartWriteBackFailureIsNotSticky(t *testing.T) {
	starter := &startLog{FS: faultfs.New(1)}
	q, err := Open(Config{RootDir: "/store/consumequeue", Topic: "TopicA", QueueID: 3, FS: starter})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	putRange(t, q, 0, 420) // two whole pages and a part of the third
	starter.mu.Lock()
	starter.startErr = fmt.Errorf("sync_file_range: %w", syscall.ENOMEM)
	starter.mu.Unlock()
	if err := q.FlushPages(2); !errors.Is(err, syscall.ENOMEM) || errors.Is(err, ErrNotWritable) {
		t.Fatalf("round by pages: %v, want ENOMEM alone", err)
	}
	starter.mu.Lock()
	starter.startErr = nil
	starter.mu.Unlock()
	if err := q.FlushPages(2); err != nil {
		t.Fatalf("next round by pages: %v", err)
	}
	starter.mu.Lock()
	starts := starter.starts
	starter.mu.Unlock()
	if len(starts) != 1 || starts[0] != [2]int64{0, 2 * pageBytes} {
		t.Fatalf("write-back started for %v, want [0, %d) once", starts, 2*pageBytes)
	}
	mustFlush(t, q)
	if got := flushedOf(q); got != 420*UnitBytes {
		t.Fatalf("flushed %d, want %d", got, 420*UnitBytes)
	}
}

// blockingSyncDir fails its first SyncDir with EIO, after holding it until
// release is closed; later ones succeed at once (Linux reports a write-back
// error once).
type blockingSyncDir struct {
	vfs.FS
	entered, release chan struct{}
	calls            int // guarded by the callers' serialization, or racy without it (the test's point)
}

func (b *blockingSyncDir) SyncDir(string) error {
	b.calls++
	if b.calls == 1 {
		close(b.entered)
		<-b.release
		return syscall.EIO
	}
	return nil
}

// TestOverlappingDirectoryFsyncs: two fsyncs of one directory overlap, the
// first fails and the second, begun after the first's error was reported,
// would return 0. The second must not report the entries durable: the
// fsyncs are serialized, so it finds the failure.
func TestOverlappingDirectoryFsyncs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fsys := &blockingSyncDir{FS: faultfs.New(1), entered: make(chan struct{}), release: make(chan struct{})}
		d := newDirRecord("/store/consumequeue/TopicA", dirEntry{})
		e := dirEntry{dir: d, seq: d.created.Add(1)}
		errs := make(chan error, 2)
		go func() { errs <- e.sync(fsys) }()
		<-fsys.entered
		go func() { errs <- e.sync(fsys) }()
		synctest.Wait() // the second waits for the first (or, unserialized, returned)
		close(fsys.release)
		for range 2 {
			if err := <-errs; !errors.Is(err, syscall.EIO) {
				t.Fatalf("sync of an entry whose directory fsync failed: %v, want EIO", err)
			}
		}
		if got := d.synced.Load(); got != 0 {
			t.Fatalf("synced %d, want 0", got)
		}
	})
}
