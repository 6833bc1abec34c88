package commitlog

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"

	"github.com/actormq/actormq/sim/faultfs"
	"golang.org/x/sys/unix"
)

// A failed msync stops the broker; it restarts on the same disk, whose page
// cache still holds the records the msync did not write. Recovery keeps
// them, so it must make them durable before appends go on: after more
// appends are flushed (acknowledged) and the power is cut, every record up
// to the last flush is there. Before, the unsynced tail became a hole at
// the power cut and recovery deleted every later segment, acknowledged
// records included (sim seeds 65, 59, 113).
func TestRestartAfterFailedFlushMakesTheTailDurable(t *testing.T) {
	for _, kind := range []faultfs.Kind{faultfs.KindEIO, faultfs.KindTorn} {
		t.Run(kind.String(), func(t *testing.T) {
			fs := faultfs.New(7)
			l := openMem(t, fs, false)
			recs := appendN(t, l, 0, 10)
			if _, err := l.Flush(); err != nil {
				t.Fatal(err)
			}
			recs = append(recs, appendN(t, l, 10, 10)...)
			fs.Inject(faultfs.Rule{Ops: faultfs.OpMsync, Kind: kind, Limit: 1})
			if _, err := l.Flush(); !errors.Is(err, syscall.EIO) {
				t.Fatalf("Flush with %v = %v", kind, err)
			}
			if err := l.Close(); !errors.Is(err, ErrNotWritable) {
				t.Fatalf("Close after a failed flush = %v, want ErrNotWritable", err)
			}

			// Restart on the same disk: the page cache holds all 20 records.
			l = openMem(t, fs, true)
			if got, want := l.WrotePosition(), endOf(recs[len(recs)-1]); got != want {
				t.Fatalf("restart recovered to %d, want %d (page cache)", got, want)
			}
			recs = append(recs, appendN(t, l, 20, 40)...) // several segments on
			acked, err := l.Flush()
			if err != nil {
				t.Fatal(err)
			}

			l2 := openMem(t, fs.Crash(), true)
			defer l2.Close()
			checkSurvivors(t, l2, recs, acked)
		})
	}
}

// A sync that fails while recovery makes the kept records durable fails
// the start: nothing may be appended on top of them.
func TestFailingRecoverySyncFailsTheStart(t *testing.T) {
	fs := faultfs.New(3)
	l := openMem(t, fs, false)
	appendN(t, l, 0, 20) // never flushed: a crash leaves them in the page cache
	fs.Inject(faultfs.Rule{Ops: faultfs.OpMsync, Kind: faultfs.KindEIO})
	l.Close() // fails: the flush does

	l, err := Open(Config{Dir: memDir, FileSize: testFileSize, FS: fs, CheckCRCOnRecover: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Recover(true, 0); !errors.Is(err, syscall.EIO) || !errors.Is(err, ErrNotWritable) {
		t.Fatalf("Recover with failing msync = %v, want EIO and ErrNotWritable", err)
	}
	if _, err := l.Append(testRecord(99, 50), 0, 1); !errors.Is(err, ErrNotWritable) {
		t.Fatalf("Append after a failed recovery = %v, want ErrNotWritable", err)
	}
}

// Recovery of a log whose newest segment is mostly holes reads only its
// data regions: the rest of a 64 MiB segment stays out of the page cache.
// Before, zeroing the tail compared every page with zeros through the
// mapping, faulting the whole segment in. Needs a file system that reports
// holes and drops clean pages on request (skipped elsewhere, e.g. tmpfs).
func TestRecoveryDoesNotReadTheHoles(t *testing.T) {
	const segBytes = 64 << 20
	dir := t.TempDir()
	cfg := Config{Dir: dir, FileSize: segBytes, CheckCRCOnRecover: true}
	l, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Recover(false, 0); err != nil {
		t.Fatal(err)
	}
	recs := appendN(t, l, 0, 5)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, segmentName(0))
	evict(t, path)
	if n := residentPages(t, path, 0, segBytes); n != 0 {
		t.Skipf("%d pages still cached after FADV_DONTNEED: cannot observe reads here", n)
	}

	l, err = Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got, err := l.Recover(true, 0); err != nil || got != endOf(recs[len(recs)-1]) {
		t.Fatalf("Recover = %d, %v; want %d", got, err, endOf(recs[len(recs)-1]))
	}
	// Readahead around the data may cache a few MiB (read_ahead_kb); the
	// far end of the segment must not be touched.
	if n := residentPages(t, path, 16<<20, segBytes); n != 0 {
		t.Fatalf("recovery cached %d pages of holes in [16 MiB, 64 MiB)", n)
	}
}

// evict drops the clean cached pages of the file at path.
func evict(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Skipf("fadvise: %v", err)
	}
}

// residentPages counts the pages of [lo, hi) of the file at path that are in
// the page cache (mincore on a mapping of our own: residency is per file).
func residentPages(t *testing.T, path string, lo, hi int) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := unix.Mmap(int(f.Fd()), 0, hi, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(b)
	page := os.Getpagesize()
	vec := make([]byte, (hi-lo+page-1)/page)
	// x/sys/unix has no Mincore wrapper for Linux.
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&b[lo])), uintptr(hi-lo), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Skipf("mincore: %v", errno)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n
}

// A segment whose creation a crash interrupted before its directory entry
// was synced, but after the previous segment was closed with a filler:
// recovery continues in it, so it syncs the directory too, or the records
// appended there after the restart vanish with the entry at a power cut.
func TestRecoverySyncsTheDirectory(t *testing.T) {
	fs := faultfs.New(9)
	l := openMem(t, fs, false)
	var recs []appended
	for seq := 0; len(recs) == 0 || recs[len(recs)-1].offset < testFileSize; seq++ {
		recs = append(recs, appendN(t, l, seq, 1)...)
	}
	recs = recs[:len(recs)-1] // the first record of segment 1 goes with the file
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	seg := filepath.Join(memDir, segmentName(testFileSize))
	if err := fs.Remove(seg); err != nil {
		t.Fatal(err)
	}
	if err := fs.SyncDir(memDir); err != nil {
		t.Fatal(err)
	}
	f, err := fs.OpenFile(seg, os.O_RDWR|os.O_CREATE, 0o644) // entry not synced
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Allocate(0, testFileSize); err != nil {
		t.Fatal(err)
	}
	f.Close()

	l = openMem(t, fs, true)
	if l.WrotePosition() != testFileSize {
		t.Fatalf("recovered to %d, want the empty segment's start %d", l.WrotePosition(), testFileSize)
	}
	recs = append(recs, appendN(t, l, 1000, 3)...)
	acked, err := l.Flush()
	if err != nil {
		t.Fatal(err)
	}
	l2 := openMem(t, fs.Crash(), true)
	defer l2.Close()
	checkSurvivors(t, l2, recs, acked)
}
