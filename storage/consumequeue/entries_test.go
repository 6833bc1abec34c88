package consumequeue

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/actormq/actormq/storage/vfs"
)

// syncDirLog is the OS file system with a record of SyncDir calls.
type syncDirLog struct {
	vfs.FS
	mu   sync.Mutex
	dirs []string
}

func (l *syncDirLog) SyncDir(dir string) error {
	l.mu.Lock()
	l.dirs = append(l.dirs, dir)
	l.mu.Unlock()
	return l.FS.SyncDir(dir)
}

// take returns the directories synced since the last call.
func (l *syncDirLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := l.dirs
	l.dirs = nil
	return d
}

// openSyncLogged opens queue TopicA/3 with files of fileSize in a new
// temporary root whose directory fsyncs fsys records.
func openSyncLogged(t *testing.T, fileSize int64) (q *ConsumeQueue, fsys *syncDirLog, root string) {
	t.Helper()
	root = t.TempDir()
	fsys = &syncDirLog{FS: vfs.Default}
	q, err := Open(Config{RootDir: root, Topic: "TopicA", QueueID: 3, FileSize: fileSize, FS: fsys})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q, fsys, root
}

// TestEntriesSyncedByFlushNotPut checks where directory fsyncs happen: a new
// queue's first file and a file roll cost the owner's Put none; Flush makes
// the entries durable before it reports the units flushed; a second roll
// while the first new file still waits for its entry syncs on the owner.
func TestEntriesSyncedByFlushNotPut(t *testing.T) {
	q, fsys, root := openSyncLogged(t, smallFile)
	queueDir := filepath.Join(root, "TopicA", "3")
	topicDir := filepath.Join(root, "TopicA")
	steps := []struct {
		name string
		do   func()
		want []string // directories synced, in order
	}{
		{name: "first units of a new queue", do: func() { putRange(t, q, 0, 3) }},
		{name: "flush syncs the queue, topic and root directories", do: func() { mustFlush(t, q) },
			want: []string{queueDir, topicDir, root}},
		{name: "roll into the second file", do: func() { putRange(t, q, 3, 7) }},
		{name: "flush syncs the queue directory", do: func() { mustFlush(t, q) }, want: []string{queueDir}},
		{name: "flush without a new file", do: func() { putRange(t, q, 7, 8); mustFlush(t, q) }},
		{name: "roll into the third file", do: func() { putRange(t, q, 8, 12) }},
		{name: "second roll before a flush syncs on the owner", do: func() { putRange(t, q, 12, 16) }, want: []string{queueDir}},
		{name: "flush after the owner synced", do: func() { mustFlush(t, q) }},
	}
	for _, s := range steps {
		s.do()
		if got := fsys.take(); !slices.Equal(got, s.want) {
			t.Fatalf("%s: synced %q, want %q", s.name, got, s.want)
		}
	}
	if got := getAll(t, q, 0, 20); len(got) != 16 || got[15] != msgUnit(15) {
		t.Fatalf("units after the rolls: %v", got)
	}
}

// TestFlushPagesSyncsNewQueueEntries: a round by pages fsyncs a new
// queue's directory entries though no page is due, and reports no unit
// flushed; the next round finds nothing to sync.
func TestFlushPagesSyncsNewQueueEntries(t *testing.T) {
	q, fsys, root := openSyncLogged(t, FileSizeDefault)
	putRange(t, q, 0, 3)
	if !q.EntriesUnsynced() {
		t.Fatal("a new queue's first file reports its entries synced")
	}
	for round, want := range [][]string{{filepath.Join(root, "TopicA", "3"), filepath.Join(root, "TopicA"), root}, nil} {
		if err := q.FlushPages(2); err != nil {
			t.Fatal(err)
		}
		if got := fsys.take(); !slices.Equal(got, want) {
			t.Fatalf("round %d synced %q, want %q", round, got, want)
		}
	}
	if q.EntriesUnsynced() {
		t.Fatal("entries unsynced after a round synced them")
	}
	q.impl.flushMu.Lock()
	defer q.impl.flushMu.Unlock()
	if q.impl.flushed != 0 {
		t.Fatalf("%d bytes reported durable with no page due", q.impl.flushed)
	}
}

// TestRestartAtSyncsRemovalsFirst checks that a queue restarted past its
// expired files makes their removal durable before it creates the new file.
func TestRestartAtSyncsRemovalsFirst(t *testing.T) {
	q, fsys, root := openSyncLogged(t, smallFile)
	putRange(t, q, 0, 7)
	mustFlush(t, q)
	if err := q.DeleteBelow(msgUnit(100).CommitLogOffset); err != nil { // every unit expired
		t.Fatal(err)
	}
	fsys.take()
	if err := q.Put(100, msgUnit(100)); err != nil {
		t.Fatal(err)
	}
	queueDir := filepath.Join(root, "TopicA", "3")
	if got := fsys.take(); !slices.Equal(got, []string{queueDir}) {
		t.Fatalf("restart synced %q, want the removals synced once", got)
	}
	if got := queueFiles(t, root); !slices.Equal(got, []string{fileName(100 / 5 * smallFile)}) {
		t.Fatalf("files after restart: %v", got)
	}
	mustFlush(t, q)
	if got := fsys.take(); !slices.Equal(got, []string{queueDir}) {
		t.Fatalf("flush after restart synced %q, want the new file's entry", got)
	}
}

func mustFlush(t *testing.T, q *ConsumeQueue) {
	t.Helper()
	if err := q.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

// TestRecoverClearsStaleUnitsBeyondHoles checks recovery of a full-size
// (6 MB, sparse) file: a unit left far behind the valid end, after a hole
// (pages written back out of order before a crash), is cleared, and only
// the file's data regions are read to find it.
func TestRecoverClearsStaleUnitsBeyondHoles(t *testing.T) {
	root := t.TempDir()
	q, err := Open(Config{RootDir: root, Topic: "TopicA", QueueID: 3, FS: vfs.Default})
	if err != nil {
		t.Fatal(err)
	}
	putRange(t, q, 0, 10)
	q.Close()
	path := filepath.Join(root, "TopicA", "3", fileName(0))
	stalePos := int64(3 << 20) // unit 157286, in its own data region
	var stale [UnitBytes]byte
	writeUnit(stale[:], msgUnit(500))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(stale[:], stalePos); err != nil {
		t.Fatal(err)
	}
	f.Close()

	q, err = Open(Config{RootDir: root, Topic: "TopicA", QueueID: 3, FS: vfs.Default})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	if got, want := offsetsOf(q), (offsets{0, 10, 1000}); got != want {
		t.Fatalf("offsets = %+v, want %+v", got, want)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !allZero(b[10*UnitBytes:]) {
		t.Fatal("stale unit beyond the hole not cleared")
	}
	// On a file system that reports holes, recovery looked at the data
	// regions only: the first page and the stale unit's block, not 6 MB.
	cf := q.impl.files[0]
	regions := vfs.DataRegions(cf.f, 10*UnitBytes, int64(len(cf.b)))
	var scanned int64
	for _, r := range regions {
		scanned += r[1] - r[0]
	}
	if _, ok := cf.f.(io.Seeker); ok && scanned > 1<<20 {
		t.Fatalf("data regions %v cover %d bytes of a sparse file", regions, scanned)
	}
}

// TestFlushPages checks Java's flushConsumeQueueLeastPages rule: a round by
// pages writes a queue back once two whole pages of units are pending or
// its end moved into a newer file, and Flush always makes all of it
// durable. A round by pages starts write-back of whole pages only, leaving
// the end page (still being written) to a later round, so it never writes
// a page twice or write-protects the page the queue stores into next; and
// it makes nothing durable (flushed stays): only Flush does, end page too.
func TestFlushPages(t *testing.T) {
	q := openTest(t, t.TempDir(), FileSizeDefault)
	cursors := func(q *ConsumeQueue) (started, flushed int64) {
		q.impl.flushMu.Lock()
		defer q.impl.flushMu.Unlock()
		return q.impl.started, q.impl.flushed
	}
	steps := []struct {
		name        string
		putTo       int64 // units written before the flush
		leastPages  int
		wantStarted int64 // bytes written back or durable after it
		wantFlushed int64 // bytes durable after it
	}{
		{name: "under two pages", putTo: 400, leastPages: 2, wantStarted: 0, wantFlushed: 0},
		{name: "two pages crossed", putTo: 410, leastPages: 2, wantStarted: 2 * pageBytes, wantFlushed: 0},
		{name: "one more page", putTo: 615, leastPages: 2, wantStarted: 2 * pageBytes, wantFlushed: 0},
		{name: "two more pages", putTo: 820, leastPages: 2, wantStarted: 4 * pageBytes, wantFlushed: 0},
		{name: "thorough", putTo: 820, leastPages: 0, wantStarted: 820 * UnitBytes, wantFlushed: 820 * UnitBytes},
	}
	for _, s := range steps {
		putRange(t, q, q.MaxOffset(), s.putTo)
		if err := q.FlushPages(s.leastPages); err != nil {
			t.Fatal(err)
		}
		if started, flushed := cursors(q); started != s.wantStarted || flushed != s.wantFlushed {
			t.Fatalf("%s: write-back started to %d, %d bytes flushed; want %d, %d", s.name, started, flushed, s.wantStarted, s.wantFlushed)
		}
	}

	rolled := openTest(t, t.TempDir(), smallFile)
	putRange(t, rolled, 0, 6) // into the second file
	if err := rolled.FlushPages(2); err != nil {
		t.Fatal(err)
	}
	if started, _ := cursors(rolled); started != smallFile { // the first file, not the end page in the second
		t.Fatalf("a roll started write-back to %d, want the first file's %d", started, smallFile)
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
