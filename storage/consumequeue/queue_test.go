package consumequeue

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/vfs"
)

// smallFile holds 5 units, so tests cross file boundaries quickly.
const smallFile = 5 * UnitBytes

// msgUnit is the unit of the i-th message of a test queue: records of 100
// bytes laid out back to back in the commit log.
func msgUnit(i int64) Unit { return Unit{CommitLogOffset: i * 100, Size: 100, TagsCode: i + 7} }

func openTest(t *testing.T, root string, fileSize int64) *ConsumeQueue {
	t.Helper()
	q, err := Open(Config{RootDir: root, Topic: "TopicA", QueueID: 3, FileSize: fileSize, FS: vfs.Default})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func putRange(t *testing.T, q *ConsumeQueue, from, to int64) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := q.Put(i, msgUnit(i)); err != nil {
			t.Fatalf("Put(%d): %v", i, err)
		}
	}
}

func getAll(t *testing.T, q *ConsumeQueue, from int64, n int) []Unit {
	t.Helper()
	got, err := q.Get(from, make([]Unit, 0, n))
	if err != nil {
		t.Fatalf("Get(%d): %v", from, err)
	}
	return got
}

type offsets struct{ min, max, maxPhysical int64 }

func offsetsOf(q *ConsumeQueue) offsets {
	return offsets{q.MinOffset(), q.MaxOffset(), q.MaxPhysicalOffset()}
}

// queueFiles lists the files of queue TopicA/3; none before its first write.
func queueFiles(t *testing.T, root string) []string {
	t.Helper()
	dir := filepath.Join(root, "TopicA", "3")
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return nil
	}
	return testkit.DirNames(t, dir)
}

func TestPutGetAcrossFiles(t *testing.T) {
	root := t.TempDir()
	q := openTest(t, root, smallFile)
	if got := offsetsOf(q); got != (offsets{}) {
		t.Fatalf("empty queue offsets = %+v", got)
	}
	putRange(t, q, 0, 12)
	if got, want := offsetsOf(q), (offsets{0, 12, 1200}); got != want {
		t.Fatalf("offsets = %+v, want %+v", got, want)
	}
	wantFiles := []string{"00000000000000000000", "00000000000000000100", "00000000000000000200"}
	if got := queueFiles(t, root); !slices.Equal(got, wantFiles) {
		t.Fatalf("files = %v, want %v", got, wantFiles)
	}
	// 3..10 spans all three files.
	got := getAll(t, q, 3, 8)
	for i, u := range got {
		if u != msgUnit(int64(3+i)) {
			t.Fatalf("unit %d = %+v, want %+v", 3+i, u, msgUnit(int64(3+i)))
		}
	}
	if len(got) != 8 {
		t.Fatalf("got %d units, want 8", len(got))
	}
	// Capped by MaxOffset.
	if got := getAll(t, q, 9, 10); len(got) != 3 || got[2] != msgUnit(11) {
		t.Fatalf("Get(9) = %+v", got)
	}
	if got := getAll(t, q, 12, 10); len(got) != 0 {
		t.Fatalf("Get(max) = %+v, want none", got)
	}
	if _, err := q.Get(-1, make([]Unit, 0, 1)); !errors.Is(err, ErrOffsetGone) {
		t.Fatalf("Get(-1) err = %v", err)
	}
}

func TestPutIgnoresDuplicates(t *testing.T) {
	q := openTest(t, t.TempDir(), smallFile)
	putRange(t, q, 0, 4)
	cases := []struct {
		name string
		off  int64
		unit Unit
	}{
		{"offset below max", 2, Unit{CommitLogOffset: 5000, Size: 10}},
		{"record already dispatched", 4, msgUnit(3)},
		{"record ends before max physical", 4, Unit{CommitLogOffset: 100, Size: 50}},
	}
	for _, tc := range cases {
		if err := q.Put(tc.off, tc.unit); err != nil {
			t.Fatalf("%s: Put: %v", tc.name, err)
		}
		if got, want := offsetsOf(q), (offsets{0, 4, 400}); got != want {
			t.Fatalf("%s: offsets = %+v, want %+v", tc.name, got, want)
		}
	}
	if got := getAll(t, q, 2, 1); got[0] != msgUnit(2) {
		t.Fatalf("unit 2 overwritten: %+v", got[0])
	}
}

func TestPutRejectsBadUnits(t *testing.T) {
	q := openTest(t, t.TempDir(), smallFile)
	cases := []struct {
		name string
		off  int64
		unit Unit
	}{
		{"negative queue offset", -1, msgUnit(0)},
		{"zero size", 0, Unit{CommitLogOffset: 0, Size: 0}},
		{"negative commit-log offset", 0, Unit{CommitLogOffset: -5, Size: 10}},
		{"filler", 0, Unit{Size: FillerSize}},
	}
	for _, tc := range cases {
		if err := q.Put(tc.off, tc.unit); !errors.Is(err, ErrBadUnit) {
			t.Errorf("%s: err = %v, want ErrBadUnit", tc.name, err)
		}
	}
}

func TestFreshQueueStartsLateWithFillers(t *testing.T) {
	root := t.TempDir()
	q := openTest(t, root, smallFile)
	// Offset 13 lives in the file starting at unit 10 (byte 200).
	if err := q.Put(13, msgUnit(13)); err != nil {
		t.Fatal(err)
	}
	if got, want := offsetsOf(q), (offsets{13, 14, 1400}); got != want {
		t.Fatalf("offsets = %+v, want %+v", got, want)
	}
	if got, want := queueFiles(t, root), []string{"00000000000000000200"}; !slices.Equal(got, want) {
		t.Fatalf("files = %v, want %v", got, want)
	}
	got := getAll(t, q, 10, 10)
	if len(got) != 4 || !got[0].IsFiller() || !got[2].IsFiller() || got[3] != msgUnit(13) {
		t.Fatalf("Get(10) = %+v", got)
	}
	if _, err := q.Get(9, make([]Unit, 0, 1)); !errors.Is(err, ErrOffsetGone) {
		t.Fatalf("Get below first file: err = %v", err)
	}
	// Fillers survive a reopen and MinOffset still skips them.
	q.Close()
	q = openTest(t, root, smallFile)
	if got, want := offsetsOf(q), (offsets{13, 14, 1400}); got != want {
		t.Fatalf("after reopen offsets = %+v, want %+v", got, want)
	}
}

func TestGapFilledWithFillers(t *testing.T) {
	q := openTest(t, t.TempDir(), smallFile)
	putRange(t, q, 0, 2)
	if err := q.Put(4, msgUnit(4)); err != nil {
		t.Fatal(err)
	}
	got := getAll(t, q, 0, 10)
	if len(got) != 5 || !got[2].IsFiller() || !got[3].IsFiller() || got[4] != msgUnit(4) {
		t.Fatalf("units = %+v", got)
	}
	if got, want := offsetsOf(q), (offsets{0, 5, 500}); got != want {
		t.Fatalf("offsets = %+v, want %+v", got, want)
	}
	// More than a file's worth of fillers in a queue with messages is refused.
	if err := q.Put(11, msgUnit(11)); !errors.Is(err, ErrGapTooLarge) {
		t.Fatalf("huge gap err = %v", err)
	}
}

func TestReopenRecoversSameState(t *testing.T) {
	root := t.TempDir()
	q := openTest(t, root, smallFile)
	putRange(t, q, 0, 13)
	if err := q.Flush(); err != nil {
		t.Fatal(err)
	}
	want := getAll(t, q, 0, 20)
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	q = openTest(t, root, smallFile)
	if got, w := offsetsOf(q), (offsets{0, 13, 1300}); got != w {
		t.Fatalf("offsets = %+v, want %+v", got, w)
	}
	if got := getAll(t, q, 0, 20); !slices.Equal(got, want) {
		t.Fatalf("units differ after reopen")
	}
	putRange(t, q, 13, 16)
	if got := getAll(t, q, 12, 5); len(got) != 4 || got[3] != msgUnit(15) {
		t.Fatalf("Get after append = %+v", got)
	}
}

func TestRecoverTruncatesAtFirstInvalidUnit(t *testing.T) {
	root := t.TempDir()
	q := openTest(t, root, smallFile)
	putRange(t, q, 0, 13) // files at units 0, 5, 10
	q.Close()
	// A hole at unit 7 (lost page): units 8..12 and the file at 10 go.
	path := filepath.Join(root, "TopicA", "3", "00000000000000000100")
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(make([]byte, UnitBytes), 2*UnitBytes); err != nil {
		t.Fatal(err)
	}
	f.Close()

	q = openTest(t, root, smallFile)
	if got, want := offsetsOf(q), (offsets{0, 7, 700}); got != want {
		t.Fatalf("offsets = %+v, want %+v", got, want)
	}
	wantFiles := []string{"00000000000000000000", "00000000000000000100"}
	if got := queueFiles(t, root); !slices.Equal(got, wantFiles) {
		t.Fatalf("files = %v, want %v", got, wantFiles)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !allZero(b[2*UnitBytes:]) {
		t.Fatalf("tail after the hole not cleared: %x", b)
	}
	// Writing continues at the recovered end.
	putRange(t, q, 7, 11)
	if got := offsetsOf(q); got.max != 11 {
		t.Fatalf("max after append = %d", got.max)
	}
}

func TestRecoverExtendsShortFile(t *testing.T) {
	root := t.TempDir()
	q := openTest(t, root, smallFile)
	putRange(t, q, 0, 7)
	q.Close()
	// Crash while the second file was being sized: one unit long.
	path := filepath.Join(root, "TopicA", "3", "00000000000000000100")
	if err := os.Truncate(path, UnitBytes); err != nil {
		t.Fatal(err)
	}
	q = openTest(t, root, smallFile)
	if got, want := offsetsOf(q), (offsets{0, 6, 600}); got != want {
		t.Fatalf("offsets = %+v, want %+v", got, want)
	}
	if st, err := os.Stat(path); err != nil || st.Size() != smallFile {
		t.Fatalf("short file after Open: %v, %v; want %d bytes", st, err, smallFile)
	}
}

func TestOpenRejectsForeignLayouts(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]int
	}{
		{"missing middle file", map[string]int{"00000000000000000000": smallFile, "00000000000000000200": smallFile}},
		{"misaligned name", map[string]int{"00000000000000000030": smallFile}},
		{"file larger than FileSize", map[string]int{"00000000000000000000": 2 * smallFile}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "TopicA", "3")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for name, size := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), make([]byte, size), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Open(Config{RootDir: root, Topic: "TopicA", QueueID: 3, FileSize: smallFile})
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
		})
	}
	if _, err := Open(Config{RootDir: t.TempDir(), Topic: "../x", FileSize: smallFile}); err == nil {
		t.Fatal("topic with a path separator accepted")
	} else if !errors.Is(err, ErrBadName) {
		t.Fatalf("bad topic err = %v", err)
	}
	root := t.TempDir()
	if _, err := Open(Config{RootDir: root, Topic: "T", QueueID: -1, FileSize: smallFile}); !errors.Is(err, ErrBadName) {
		t.Fatalf("negative queue id err = %v, want ErrBadName", err)
	}
	if names := testkit.DirNames(t, root); len(names) != 0 {
		t.Fatalf("rejected queue left %v behind", names)
	}
	if _, err := Open(Config{RootDir: t.TempDir(), Topic: "T", FileSize: 30}); err == nil {
		t.Fatal("file size not a multiple of 20 accepted")
	}
}

func TestDefaultFileSizeNames(t *testing.T) {
	root := t.TempDir()
	q := openTest(t, root, 0)
	if err := q.Put(300001, msgUnit(1)); err != nil {
		t.Fatal(err)
	}
	if got, want := queueFiles(t, root), []string{"00000000000006000000"}; !slices.Equal(got, want) {
		t.Fatalf("files = %v, want %v", got, want)
	}
	if got, want := offsetsOf(q), (offsets{300001, 300002, 200}); got != want {
		t.Fatalf("offsets = %+v, want %+v", got, want)
	}
}

// TestFlushPageMarksWhenFlushPagesCanChange: FlushPages called only when
// FlushPage of the end changed leaves the same write-back positions (started) as called
// after every Put, across file ends that are not page ends (the queue
// flusher relies on it to look only at queues whose end changed page).
func TestFlushPageMarksWhenFlushPagesCanChange(t *testing.T) {
	const fileSize = 1000 * UnitBytes // 4.88 pages
	every := openTest(t, t.TempDir(), fileSize)
	marked := openTest(t, t.TempDir(), fileSize)
	page := marked.FlushPage(0)
	for i := range int64(3000) {
		for _, q := range []*ConsumeQueue{every, marked} {
			if err := q.Put(i, msgUnit(i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := every.FlushPages(2); err != nil {
			t.Fatal(err)
		}
		if p := marked.FlushPage(i + 1); p != page {
			page = p
			if err := marked.FlushPages(2); err != nil {
				t.Fatal(err)
			}
		}
		if every.impl.started != marked.impl.started {
			t.Fatalf("after unit %d: write-back started to %d with a FlushPages per Put, %d per page change", i, every.impl.started, marked.impl.started)
		}
	}
	if every.impl.started == 0 {
		t.Fatal("no write-back started: the test compares nothing")
	}
}
