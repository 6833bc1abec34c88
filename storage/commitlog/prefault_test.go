package commitlog

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/actormq/actormq/sim/faultfs"
	"github.com/actormq/actormq/storage/vfs"
)

// prefaultFileSize is a whole number of pages, as real segments are, so
// that written-back ranges start on page boundaries inside a segment.
const prefaultFileSize = 64 << 10

// prefaultCall is one WriteBack a file received (PrefaultWritten).
type prefaultCall struct {
	path  string
	off   int
	n     int
	wrote int64 // the log's write position when the call arrived
}

// recordFS records every WriteBack its files receive, with the write
// position at that moment, and can refuse Allocate with ENOSPC.
type recordFS struct {
	vfs.FS
	log     atomic.Pointer[CommitLog]
	noSpace atomic.Bool
	mu      sync.Mutex
	calls   []prefaultCall
}

func (f *recordFS) OpenFile(name string, flag int, perm os.FileMode) (vfs.File, error) {
	file, err := f.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &recordFile{File: file, fs: f}, nil
}

func (f *recordFS) taken() []prefaultCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]prefaultCall(nil), f.calls...)
}

type recordFile struct {
	vfs.File
	fs *recordFS
}

func (f *recordFile) Allocate(off, length int64) error {
	if f.fs.noSpace.Load() {
		return &os.PathError{Op: "fallocate", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return f.File.Allocate(off, length)
}

// WriteBack records the call and passes it through (PrefaultWritten looks
// for vfs.WriteBacker).
func (f *recordFile) WriteBack(off, n int64) error {
	var wrote int64
	if l := f.fs.log.Load(); l != nil {
		wrote = l.WrotePosition()
	}
	f.fs.mu.Lock()
	f.fs.calls = append(f.fs.calls, prefaultCall{path: f.Name(), off: int(off), n: int(n), wrote: wrote})
	f.fs.mu.Unlock()
	return f.File.(vfs.WriteBacker).WriteBack(off, n)
}

func openPrefault(t *testing.T, dir string) (*CommitLog, *recordFS) {
	t.Helper()
	fs := &recordFS{FS: vfs.Default}
	l, err := Open(Config{Dir: dir, FileSize: prefaultFileSize, FS: fs, CheckCRCOnRecover: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Recover(false, 0); err != nil {
		t.Fatal(err)
	}
	fs.log.Store(l)
	return l, fs
}

// startOf is the start offset of the segment a path names.
func startOf(t *testing.T, path string) int64 {
	start, ok := parseSegmentName(filepath.Base(path))
	if !ok {
		t.Fatalf("%s is not a segment", path)
	}
	return start
}

// PrefaultWritten only writes back pages at or past the write position, in
// the newest segment or the next one, and never a page again.
func TestPrefaultWrittenStaysAtOrPastTheWritePosition(t *testing.T) {
	dir := t.TempDir()
	l, fs := openPrefault(t, dir)
	defer l.Close()
	page := int64(os.Getpagesize())

	seq := 0
	for round := range 12 {
		to, err := l.PrefaultWritten(3 * page)
		if err != nil {
			t.Fatalf("round %d: PrefaultWritten: %v", round, err)
		}
		if want := l.WrotePosition() + 3*page; to != want {
			t.Fatalf("round %d: PrefaultWritten reached %d, want %d", round, to, want)
		}
		appendN(t, l, seq, 25)
		seq += 25
	}
	calls := fs.taken()
	if len(calls) < 12 {
		t.Fatalf("%d write-backs, want at least one per round", len(calls))
	}
	type pageKey struct {
		path string
		off  int
	}
	seen := map[pageKey]bool{}
	for _, c := range calls {
		global := startOf(t, c.path) + int64(c.off)
		if global < c.wrote || int64(c.off)%page != 0 {
			t.Fatalf("write-back of %s at %d (global %d) is below the write position %d or unaligned", c.path, c.off, global, c.wrote)
		}
		if end := int64(c.off + c.n); end > prefaultFileSize {
			t.Fatalf("write-back of %s past its end: [%d, %d)", c.path, c.off, end)
		}
		for p := c.off; p < c.off+c.n; p += int(page) {
			k := pageKey{c.path, p}
			if seen[k] {
				t.Fatalf("page %d of %s written back twice", p, c.path)
			}
			seen[k] = true
		}
	}
}

// PrefaultWritten near the end of a segment creates the next one (zero
// filled, at full size) and writes back its start, and the roll appends
// into that very segment.
func TestPrefaultWrittenCreatesTheNextSegmentBeforeTheRoll(t *testing.T) {
	dir := t.TempDir()
	l, fs := openPrefault(t, dir)
	defer l.Close()
	next := nextSegmentNearEnd(t, l, l.PrefaultWritten, "PrefaultWritten")
	fi, err := os.Stat(segPath(dir, prefaultFileSize))
	if err != nil || fi.Size() != prefaultFileSize {
		t.Fatalf("next segment file: %v, %v", fi, err)
	}
	if !bytes.Equal(next.buf, make([]byte, prefaultFileSize)) {
		t.Fatal("the segment created ahead is not all zeros")
	}
	written := false
	for _, c := range fs.taken() {
		written = written || (c.path == next.path && c.off == 0)
	}
	if !written {
		t.Fatal("the start of the next segment was not written back")
	}
	// Append until the roll: the records land in the segment made ahead.
	seq := 1000
	for l.WrotePosition() < prefaultFileSize {
		appendN(t, l, seq, 1)
		seq++
	}
	recs := appendN(t, l, seq, 3)
	if l.impl.segs.last() != next || l.impl.pre.next != nil {
		t.Fatal("the roll did not take the segment created ahead")
	}
	for _, a := range recs {
		checkStored(t, l, a)
	}
}

// Close removes a segment created ahead that was never rolled into; one a
// crash leaves behind is deleted by recovery, and the log ends where it did.
func TestUnusedNextSegmentIsRemoved(t *testing.T) {
	t.Run("close", func(t *testing.T) {
		dir := t.TempDir()
		l, _ := openPrefault(t, dir)
		appendN(t, l, 0, 3)
		if _, err := l.CreateAhead(prefaultFileSize); err != nil || l.impl.pre.next == nil {
			t.Fatalf("CreateAhead = %v, next %v", err, l.impl.pre.next)
		}
		end := l.WrotePosition()
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(segPath(dir, prefaultFileSize)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("unused next segment after Close: %v", err)
		}
		l2, _ := openPrefault(t, dir)
		defer l2.Close()
		if l2.WrotePosition() != end {
			t.Fatalf("reopened at %d, want %d", l2.WrotePosition(), end)
		}
	})
	t.Run("crash", func(t *testing.T) {
		fs := faultfs.New(7)
		l, err := Open(Config{Dir: memDir, FileSize: testFileSize, FS: fs, CheckCRCOnRecover: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Recover(false, 0); err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		recs := appendN(t, l, 0, 3)
		durable, err := l.Flush()
		if err != nil {
			t.Fatal(err)
		}
		// faultfs files have no WriteBacker: PrefaultWritten only makes
		// the next segment, as CreateAhead does.
		if _, err := l.PrefaultWritten(testFileSize); err != nil || l.impl.pre.next == nil {
			t.Fatalf("PrefaultWritten = %v, next %v", err, l.impl.pre.next)
		}
		l2 := openMem(t, fs.Crash(), true)
		defer l2.Close()
		checkSurvivors(t, l2, recs, durable)
		if n := len(l2.impl.segs.load()); n != 1 || l2.WrotePosition() != durable {
			t.Fatalf("after the crash: %d segments, end %d; want 1 and %d", n, l2.WrotePosition(), durable)
		}
	})
}

// Without space for the next segment PrefaultWritten reports nothing and
// leaves the log writable; the roll meets ENOSPC itself (read-only until
// Probe), and while the log is read-only PrefaultWritten touches nothing.
func TestPrefaultLeavesNoSpaceToTheRoll(t *testing.T) {
	dir := t.TempDir()
	l, fs := openPrefault(t, dir)
	defer l.Close()
	appendN(t, l, 0, 3)
	fs.noSpace.Store(true)
	if _, err := l.PrefaultWritten(2 * prefaultFileSize); err != nil {
		t.Fatalf("PrefaultWritten without space for the next segment = %v", err)
	}
	if l.DiskFull() || l.impl.pre.next != nil {
		t.Fatalf("after PrefaultWritten without space: full %v, next %v", l.DiskFull(), l.impl.pre.next)
	}
	var err error
	for seq := 10; err == nil; seq++ {
		_, err = l.Append(testRecord(seq, bodyLenFor(seq)), 0, 0)
	}
	if !errors.Is(err, ErrDiskFull) || !l.DiskFull() {
		t.Fatalf("Append at the roll without space = %v", err)
	}
	calls := len(fs.taken())
	if _, err := l.PrefaultWritten(2 * prefaultFileSize); err != nil || len(fs.taken()) != calls {
		t.Fatalf("PrefaultWritten while full = %v, %d new write-backs", err, len(fs.taken())-calls)
	}
	fs.noSpace.Store(false)
	if err := l.Probe(); err != nil {
		t.Fatal(err)
	}
	checkStored(t, l, appendN(t, l, 100, 1)[0])
}

// A segment whose last reference is gone (deleted and unmapped) is never
// touched.
func TestPrefaultSkipsADestroyedSegment(t *testing.T) {
	dir := t.TempDir()
	l, fs := openPrefault(t, dir)
	defer l.Close()
	s, err := createSegment(vfs.FS(fs), dir, 10*prefaultFileSize, prefaultFileSize, &l.impl.log)
	if err != nil {
		t.Fatal(err)
	}
	s.release() // unmapped now
	if err := l.impl.prefaultRange(s, s.start, s.end, writeBack); err != nil {
		t.Fatal(err)
	}
	for _, c := range fs.taken() {
		if c.path == s.path {
			t.Fatalf("wrote back a destroyed segment: %+v", c)
		}
	}
}

// Appends, CreateAhead or PrefaultWritten, flushes, reads and retention
// deletes all at once (run with -race): every record reads back intact.
func TestPrefaultConcurrentWithAppendAndDelete(t *testing.T) {
	t.Run("CreateAhead", func(t *testing.T) { testPrefaultConcurrent(t, (*CommitLog).CreateAhead) })
	t.Run("PrefaultWritten", func(t *testing.T) { testPrefaultConcurrent(t, (*CommitLog).PrefaultWritten) })
}

func testPrefaultConcurrent(t *testing.T, prefault func(*CommitLog, int64) (int64, error)) {
	dir := t.TempDir()
	l, _ := openPrefault(t, dir)
	defer l.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// repeat runs f on a goroutine until stop closes or f fails.
	repeat := func(what string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := f(); err != nil {
					t.Errorf("%s: %v", what, err)
					return
				}
			}
		}()
	}
	repeat("prefault", func() error { _, err := prefault(l, prefaultFileSize/2); return err })
	repeat("DeleteExpiredFiles", func() error {
		_, err := l.DeleteExpiredFiles(time.Now().Add(time.Hour), true, 1)
		return err
	})
	var recs []appended
	for seq := 0; seq < 2000; seq += 50 {
		recs = append(recs, appendN(t, l, seq, 50)...)
		if _, err := l.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	kept := 0
	for _, a := range recs {
		if a.offset >= l.MinOffset() {
			checkStored(t, l, a)
			kept++
		}
	}
	if kept == 0 {
		t.Fatal("retention deleted every record")
	}
}

// nextSegmentNearEnd appends until the first segment has less than 4 KiB
// left, runs prefault (CreateAhead or PrefaultWritten, named what) 8 KiB
// ahead and returns the next segment it created.
func nextSegmentNearEnd(t *testing.T, l *CommitLog, prefault func(int64) (int64, error), what string) *segment {
	t.Helper()
	for l.WrotePosition() < prefaultFileSize-4096 {
		appendN(t, l, int(l.WrotePosition()), 1)
	}
	if _, err := prefault(8192); err != nil {
		t.Fatal(err)
	}
	next := l.impl.pre.next
	if next == nil || next.start != prefaultFileSize {
		t.Fatalf("next segment after %s = %+v, want one at %d", what, next, prefaultFileSize)
	}
	return next
}
