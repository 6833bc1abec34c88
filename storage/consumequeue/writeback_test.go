package consumequeue

import (
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/actormq/actormq/sim/faultfs"
	"github.com/actormq/actormq/storage/vfs"
)

// startLog wraps a file system so that its Files start write-back
// (vfs.WriteBackStarter) and records their calls: write-backs started and
// msyncs of their mappings (the durable syncs). A started write-back writes
// nothing here: the worst case, no page of it reached the disk before a
// crash.
type startLog struct {
	vfs.FS
	mu     sync.Mutex
	starts [][2]int64 // [off, off+n) of StartWriteBack
	msyncs int
	// startErr, when set, fails every StartWriteBack (a submission error
	// of sync_file_range).
	startErr error
}

type startFile struct {
	vfs.File
	l *startLog
}

type msyncCounter struct {
	vfs.Mapping
	l *startLog
}

func (l *startLog) OpenFile(name string, flag int, perm os.FileMode) (vfs.File, error) {
	f, err := l.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return startFile{File: f, l: l}, nil
}

func (f startFile) StartWriteBack(off, n int64) error {
	f.l.mu.Lock()
	defer f.l.mu.Unlock()
	if f.l.startErr != nil {
		return f.l.startErr
	}
	f.l.starts = append(f.l.starts, [2]int64{off, off + n})
	return nil
}

func (f startFile) Mmap(length int) (vfs.Mapping, error) {
	m, err := f.File.Mmap(length)
	if err != nil {
		return nil, err
	}
	return msyncCounter{Mapping: m, l: f.l}, nil
}

func (m msyncCounter) Sync(off, n int) error {
	m.l.mu.Lock()
	m.l.msyncs++
	m.l.mu.Unlock()
	return m.Mapping.Sync(off, n)
}

// take returns and clears the record.
func (l *startLog) take() (starts [][2]int64, msyncs int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	starts, msyncs = l.starts, l.msyncs
	l.starts, l.msyncs = nil, 0
	return starts, msyncs
}

// TestRoundByPagesIsNotDurable checks that a round by pages on files that
// can start write-back issues no durable sync, only starts write-back of
// its whole pages and fsyncs a new file's directory entries, and that
// Flush (the thorough round) and Close still make every unit durable,
// including the ones whose write-back a round started: after a power cut
// that kept nothing of the started write-back, a round by pages leaves an
// empty queue whose file survives, a Flush every unit written before it.
func TestRoundByPagesIsNotDurable(t *testing.T) {
	cfg := Config{RootDir: "/store/consumequeue", Topic: "TopicA", QueueID: 3, FileSize: 1000 * UnitBytes}
	type step struct {
		name       string
		do         func(q *ConsumeQueue) error
		wantStarts [][2]int64 // write-back started by the step
		wantMsyncs int        // durable syncs of the step
		durable    int64      // units a power cut after it keeps
	}
	steps := []step{
		{
			name: "round by pages",
			do: func(q *ConsumeQueue) error {
				putRange(t, q, 0, 420) // two whole pages and a part of the third
				return q.FlushPages(2)
			},
			wantStarts: [][2]int64{{0, 2 * pageBytes}},
		},
		{name: "Flush", do: (*ConsumeQueue).Flush, wantMsyncs: 1, durable: 420},
		{
			// From where Flush left off: the rest of the first file and
			// no page of the second (its one page is still written).
			name: "round by pages across a roll",
			do: func(q *ConsumeQueue) error {
				putRange(t, q, 420, 1100)
				return q.FlushPages(2)
			},
			wantStarts: [][2]int64{{420 * UnitBytes, 1000 * UnitBytes}},
			durable:    420,
		},
		{name: "Close", do: (*ConsumeQueue).Close, wantMsyncs: 2, durable: 1100}, // the rest of the first file, the second
	}
	// faultfs crashes for good, so each power cut replays the steps
	// before it on a fresh file system.
	for last := range steps {
		fsys := faultfs.New(1)
		log := &startLog{FS: fsys}
		c := cfg
		c.FS = log
		q, err := Open(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range steps[:last+1] {
			log.take()
			if err := s.do(q); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		}
		s := steps[last]
		if starts, msyncs := log.take(); msyncs != s.wantMsyncs || !slices.Equal(starts, s.wantStarts) {
			t.Fatalf("%s: write-back started %v, %d msyncs; want %v, %d", s.name, starts, msyncs, s.wantStarts, s.wantMsyncs)
		}
		c.FS = fsys.Crash()
		r, err := Open(c)
		if err != nil {
			t.Fatalf("%s: Open after a power cut: %v", s.name, err)
		}
		if len(r.impl.files) == 0 {
			t.Fatalf("%s: the queue's file is gone after a power cut: its directory entry was not synced", s.name)
		}
		if n := r.MaxOffset(); n != s.durable {
			t.Fatalf("%s: MaxOffset %d after a power cut, want %d", s.name, n, s.durable)
		}
		for i, u := range getAll(t, r, 0, int(s.durable)) {
			if u != msgUnit(int64(i)) {
				t.Fatalf("%s: unit %d = %+v after a power cut, want %+v", s.name, i, u, msgUnit(int64(i)))
			}
		}
		r.Close()
	}
}
