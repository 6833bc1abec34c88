package consumequeue

import (
	"errors"
	"syscall"
	"testing"

	"github.com/actormq/actormq/sim/faultfs"
)

// TestFlushFailureIsSticky injects one EIO into a queue's flush (faultfs
// fails that call only; the next msync of the same range would succeed, as
// a Linux msync after a reported write-back error returns 0): every later
// flush of the queue, whichever kind, fails with the same error wrapping
// ErrNotWritable, nothing counts as flushed, a syncfs mark is refused, and
// Close reports it (so the store is not closed clean).
func TestFlushFailureIsSticky(t *testing.T) {
	const dir = "/store/consumequeue/TopicA/3"
	for _, tt := range []struct {
		name  string
		rule  faultfs.Rule
		first func(q *ConsumeQueue) error // the flush that meets the fault
	}{
		{
			name:  "msync in Flush",
			rule:  faultfs.Rule{Ops: faultfs.OpMsync, Path: dir, Kind: faultfs.KindEIO, Nth: 1},
			first: func(q *ConsumeQueue) error { return q.Flush() },
		},
		{
			// faultfs files cannot start write-back: a round by pages
			// msyncs its pages.
			name:  "msync in a round by pages",
			rule:  faultfs.Rule{Ops: faultfs.OpMsync, Path: dir, Kind: faultfs.KindEIO, Nth: 1},
			first: func(q *ConsumeQueue) error { return q.FlushPages(2) },
		},
		{
			name:  "directory fsync in Flush",
			rule:  faultfs.Rule{Ops: faultfs.OpSyncDir, Path: dir, Kind: faultfs.KindEIO, Nth: 1},
			first: func(q *ConsumeQueue) error { return q.Flush() },
		},
		{
			name: "directory fsync in BeginFlush",
			rule: faultfs.Rule{Ops: faultfs.OpSyncDir, Path: dir, Kind: faultfs.KindEIO, Nth: 1},
			first: func(q *ConsumeQueue) error {
				_, err := q.BeginFlush()
				return err
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fsys := faultfs.New(1)
			cfg := Config{RootDir: "/store/consumequeue", Topic: "TopicA", QueueID: 3, FS: fsys}
			q, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			putRange(t, q, 0, 420) // two whole pages and a part of the third
			fsys.Inject(tt.rule)
			first := tt.first(q)
			if !errors.Is(first, ErrNotWritable) || !errors.Is(first, syscall.EIO) {
				t.Fatalf("failed flush: %v, want ErrNotWritable and EIO", first)
			}
			putRange(t, q, 420, 1000)
			if err := q.Flush(); err != first {
				t.Fatalf("Flush after the failure: %v, want the first error again", err)
			}
			if err := q.FlushPages(2); err != first {
				t.Fatalf("FlushPages after the failure: %v, want the first error again", err)
			}
			if _, err := q.BeginFlush(); err != first {
				t.Fatalf("BeginFlush after the failure: %v, want the first error again", err)
			}
			if got := flushedOf(q); got != 0 {
				t.Fatalf("flushed %d after a failed flush, want 0", got)
			}
			if err := q.Close(); !errors.Is(err, ErrNotWritable) {
				t.Fatalf("Close after the failure: %v, want ErrNotWritable", err)
			}
		})
	}
}

// TestEndFlushAfterAFailureCountsNothing: a flush that fails between a
// thorough round's BeginFlush and EndFlush voids the round's mark.
func TestEndFlushAfterAFailureCountsNothing(t *testing.T) {
	fsys := faultfs.New(1)
	q, err := Open(Config{RootDir: "/store/consumequeue", Topic: "TopicA", QueueID: 3, FS: fsys})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	putRange(t, q, 0, 100)
	m, err := q.BeginFlush()
	if err != nil {
		t.Fatal(err)
	}
	fsys.Inject(faultfs.Rule{Ops: faultfs.OpMsync, Kind: faultfs.KindEIO, Nth: 1})
	if err := q.Flush(); !errors.Is(err, ErrNotWritable) {
		t.Fatalf("Flush: %v, want ErrNotWritable", err)
	}
	q.EndFlush(m) // the syncfs "succeeded"
	if got := flushedOf(q); got != 0 {
		t.Fatalf("flushed %d after EndFlush of a queue whose flush failed, want 0", got)
	}
}

// TestSharedDirectoryFsyncFailureIsSticky: the fsync of a topic directory
// that two queues' entries depend on fails once (in the first queue's
// flush); the second queue's flush must not count its entry durable by
// fsyncing the directory again, which would now return 0.
func TestSharedDirectoryFsyncFailureIsSticky(t *testing.T) {
	fsys := faultfs.New(1)
	dirs := NewDirs()
	open := func(id int32) *ConsumeQueue {
		q, err := Open(Config{RootDir: "/store/consumequeue", Topic: "TopicA", QueueID: id, FS: fsys, Dirs: dirs})
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	a, b := open(1), open(2)
	defer a.Close()
	defer b.Close()
	putRange(t, a, 0, 10)
	putRange(t, b, 0, 10)
	// a's flush fsyncs its queue directory, then the topic directory.
	fsys.Inject(faultfs.Rule{Ops: faultfs.OpSyncDir, Path: "TopicA", Kind: faultfs.KindEIO, Nth: 2})
	if err := a.Flush(); !errors.Is(err, ErrNotWritable) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("first queue's Flush: %v, want ErrNotWritable and EIO", err)
	}
	if err := b.Flush(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("second queue's Flush after its topic directory's fsync failed: %v, want EIO", err)
	}
	if got := flushedOf(b); got != 0 {
		t.Fatalf("second queue flushed %d, want 0", got)
	}
	if ev := fsys.Events(); len(ev) != 1 || ev[0].Path != "/store/consumequeue/TopicA" {
		t.Fatalf("faults %v, want one, in the fsync of the topic directory", ev)
	}
}
