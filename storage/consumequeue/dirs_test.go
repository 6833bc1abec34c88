package consumequeue

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/actormq/actormq/sim/faultfs"
	"github.com/actormq/actormq/storage/vfs"
)

// openShared opens queue id of topic under root with the shared dirs.
func openShared(t testing.TB, fsys vfs.FS, dirs *Dirs, root, topic string, id int32) *ConsumeQueue {
	t.Helper()
	q, err := Open(Config{RootDir: root, Topic: topic, QueueID: id, FileSize: smallFile, FS: fsys, Dirs: dirs})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// TestSharedDirsSyncEachDirectoryOnce creates many queues over few topics
// and flushes them: each queue directory is fsynced once, each topic
// directory and the new consume-queue root once for all queues created in
// it before its fsync, and a queue created after that fsync fsyncs its
// topic directory again.
func TestSharedDirsSyncEachDirectoryOnce(t *testing.T) {
	const topics, perTopic = 3, 10
	fsys := &syncDirLog{FS: vfs.Default}
	base := t.TempDir()
	root := filepath.Join(base, "consumequeue")
	dirs := NewDirs()
	var qs []*ConsumeQueue
	for i := range topics * perTopic {
		q := openShared(t, fsys, dirs, root, fmt.Sprintf("T%d", i%topics), int32(i/topics))
		defer q.Close()
		putRange(t, q, 0, 1)
		qs = append(qs, q)
	}
	for _, q := range qs {
		mustFlush(t, q)
	}
	got := fsys.take()
	want := topics*perTopic + topics + 2 // queue dirs, topic dirs, root, base
	if len(got) != want {
		t.Fatalf("%d directory fsyncs for %d queues over %d topics, want %d: %q", len(got), len(qs), topics, want, got)
	}
	for _, d := range []string{base, root, filepath.Join(root, "T0"), filepath.Join(root, "T0", "0")} {
		if n := count(got, d); n != 1 {
			t.Fatalf("%s fsynced %d times, want once", d, n)
		}
	}

	late := openShared(t, fsys, dirs, root, "T1", 99)
	defer late.Close()
	putRange(t, late, 0, 1)
	mustFlush(t, late)
	if got, want := fsys.take(), []string{filepath.Join(root, "T1", "99"), filepath.Join(root, "T1")}; !slices.Equal(got, want) {
		t.Fatalf("a queue created after its topic's fsync synced %q, want %q", got, want)
	}
}

func count(dirs []string, d string) int {
	n := 0
	for _, x := range dirs {
		if x == d {
			n++
		}
	}
	return n
}

// TestCrashKeepsQueuesOfSharedDirs cuts the power after queues of one
// topic were flushed in an order where the shared fsyncs matter: a queue
// whose topic directory another queue created (not yet flushed) must
// fsync the root for it; one created before its topic's fsync may skip
// it; one created after may not. Every flushed unit survives.
func TestCrashKeepsQueuesOfSharedDirs(t *testing.T) {
	const root = "/store/consumequeue"
	fsys := faultfs.New(1)
	dirs := NewDirs()
	creator := openShared(t, fsys, dirs, root, "TopicA", 0)
	putRange(t, creator, 0, 2) // creates TopicA; not flushed
	second := openShared(t, fsys, dirs, root, "TopicA", 1)
	putRange(t, second, 0, 3)
	mustFlush(t, second) // must fsync the root for TopicA's entry
	early := openShared(t, fsys, dirs, root, "TopicA", 2)
	putRange(t, early, 0, 4)
	third := openShared(t, fsys, dirs, root, "TopicA", 3)
	putRange(t, third, 0, 1)
	mustFlush(t, third) // fsyncs TopicA, covering early's entry
	mustFlush(t, early) // skips TopicA
	late := openShared(t, fsys, dirs, root, "TopicA", 4)
	putRange(t, late, 0, 5)
	mustFlush(t, late) // must fsync TopicA again
	for id, want := range map[int32]int64{1: 3, 2: 4, 3: 1, 4: 5} {
		r, err := Open(Config{RootDir: root, Topic: "TopicA", QueueID: id, FileSize: smallFile, FS: fsys.Crash()})
		if err != nil {
			t.Fatal(err)
		}
		if n := r.MaxOffset(); n != want {
			t.Fatalf("queue %d after the crash: MaxOffset %d, want %d", id, n, want)
		}
		if got := getAll(t, r, 0, int(want)); got[want-1] != msgUnit(want-1) {
			t.Fatalf("queue %d after the crash: %v", id, got)
		}
		r.Close()
	}
}

// syncDirTimer is the OS file system counting SyncDir calls and the time
// spent in them. One goroutine only.
type syncDirTimer struct {
	vfs.FS
	n     int
	spent time.Duration
}

func (t *syncDirTimer) SyncDir(dir string) error {
	start := time.Now()
	err := t.FS.SyncDir(dir)
	t.spent += time.Since(start)
	t.n++
	return err
}

// BenchmarkCreateQueues creates 10,000 queues over 1,000 topics on the
// real disk, one unit each, and flushes them all (every entry synced).
func BenchmarkCreateQueues(b *testing.B) {
	const topics, queues = 1000, 10000
	for b.Loop() {
		b.StopTimer()
		fsys := &syncDirTimer{FS: vfs.Default}
		root := filepath.Join(b.TempDir(), "consumequeue")
		dirs := NewDirs()
		qs := make([]*ConsumeQueue, 0, queues)
		b.StartTimer()
		start := time.Now()
		for i := range queues {
			q := openShared(b, fsys, dirs, root, fmt.Sprintf("T%d", i%topics), int32(i/topics))
			if err := q.Put(0, msgUnit(0)); err != nil {
				b.Fatal(err)
			}
			qs = append(qs, q)
		}
		created := time.Now()
		for _, q := range qs {
			if err := q.Flush(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(created.Sub(start).Seconds(), "create-s/op")
		b.ReportMetric(time.Since(created).Seconds(), "flush-s/op")
		b.ReportMetric(float64(fsys.n), "syncdirs/op")
		b.ReportMetric(fsys.spent.Seconds(), "syncdir-s/op")
		b.StopTimer()
		for _, q := range qs {
			q.Close()
		}
		b.StartTimer()
	}
}

// TestCrashKeepsConcurrentQueues creates and flushes queues of two topics
// from one goroutine each, as queue actors and the flusher do, and cuts
// the power: every queue whose Flush returned keeps its unit.
func TestCrashKeepsConcurrentQueues(t *testing.T) {
	const root, queues = "/store/consumequeue", 16
	fsys := faultfs.New(1)
	dirs := NewDirs()
	var wg sync.WaitGroup
	errs := make(chan error, queues)
	for i := range queues {
		wg.Go(func() {
			q, err := Open(Config{RootDir: root, Topic: fmt.Sprint("T", i%2), QueueID: int32(i), FileSize: smallFile, FS: fsys, Dirs: dirs})
			if err == nil {
				err = q.Put(0, msgUnit(0))
			}
			if err == nil {
				err = q.Flush()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	crashed := fsys.Crash()
	for i := range queues {
		r, err := Open(Config{RootDir: root, Topic: fmt.Sprint("T", i%2), QueueID: int32(i), FileSize: smallFile, FS: crashed})
		if err != nil {
			t.Fatal(err)
		}
		if n := r.MaxOffset(); n != 1 {
			t.Fatalf("queue T%d/%d after the crash: MaxOffset %d, want 1", i%2, i, n)
		}
		r.Close()
	}
}

// statHook is a file system that runs once, right after the first Stat of
// dir, a hook that may remove it; that Stat reports what was there before.
type statHook struct {
	vfs.FS
	dir  string
	once sync.Once
	hook func()
}

func (h *statHook) Stat(name string) (os.FileInfo, error) {
	fi, err := h.FS.Stat(name)
	if name == h.dir {
		h.once.Do(h.hook)
	}
	return fi, err
}

// TestDestroyDuringCreateKeepsTheNewTopicEntry: the topic's last old queue
// is destroyed while a new queue of the topic is being created, after its
// look found the topic directory and before its mkdir. The removal must
// wait for the creation (Dirs.remove takes its lock), or the mkdir makes
// the directory again uncounted and the flush reports the new queue
// durable while the root's entry for it was never fsynced.
func TestDestroyDuringCreateKeepsTheNewTopicEntry(t *testing.T) {
	const root = "/store/consumequeue"
	crashFS := faultfs.New(1)
	dirs := NewDirs()
	old := openShared(t, crashFS, dirs, root, "TopicA", 0)
	putRange(t, old, 0, 1)
	mustFlush(t, old)
	removed := make(chan error, 1)
	fsys := &statHook{FS: crashFS, dir: filepath.Join(root, "TopicA"), hook: func() {
		go func() { removed <- old.Destroy() }()
		// Without the lock the destroy removes the topic directory now;
		// with it, it cannot until the creation is done. Wait for the
		// destroy, bounded: it blocks for good with the lock.
		select {
		case err := <-removed:
			removed <- err
		case <-time.After(200 * time.Millisecond):
		}
	}}
	q := openShared(t, fsys, dirs, root, "TopicA", 1)
	putRange(t, q, 0, 2)
	mustFlush(t, q)
	if err := <-removed; err != nil {
		t.Fatalf("destroy: %v", err)
	}
	q.Close()
	r, err := Open(Config{RootDir: root, Topic: "TopicA", QueueID: 1, FileSize: smallFile, FS: crashFS.Crash()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if n := r.MaxOffset(); n != 2 {
		t.Fatalf("new queue after the crash: MaxOffset %d, want 2", n)
	}
}
