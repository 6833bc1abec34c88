package consumequeue

import (
	"errors"
	"os"
	"testing"

	"github.com/actormq/actormq/sim/faultfs"
)

// TestCrashAfterRollsKeepsFlushedUnits cuts the power right after a Flush
// and again after units were written past more file rolls, in every state
// the directory changes not yet synced can leave (faultfs.CrashKeeping):
// the queue opens (no file missing in the middle), keeps every unit the
// last Flush reported, and whatever it keeps beyond is what was written.
func TestCrashAfterRollsKeepsFlushedUnits(t *testing.T) {
	const flushedUnits = 12 // five units a file
	for _, tt := range []struct {
		name    string
		written int64 // units written after the Flush of flushedUnits
	}{
		{name: "after Flush", written: flushedUnits},
		{name: "after more rolls", written: 23},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fsys := faultfs.New(1)
			q, err := Open(Config{RootDir: "/store/consumequeue", Topic: "TopicA", QueueID: 3, FileSize: smallFile, FS: fsys})
			if err != nil {
				t.Fatal(err)
			}
			putRange(t, q, 0, flushedUnits)
			mustFlush(t, q)
			putRange(t, q, flushedUnits, tt.written)
			checkCrashes(t, tt.name, fsys, flushedUnits, tt.written)
		})
	}
}

// TestCrashAfterFlushPagesKeepsWholeUnits cuts the power right after a
// flush round by pages, which msyncs whole pages only: every unit below
// the last page boundary comes back whole. Unit 409 lies across that
// boundary (byte 8,192): its offset and size are durable, its tag code is
// not, and recovery keeps it; Repair, with the unit the commit log gives
// (the store's re-dispatch after a crash), makes it whole again.
func TestCrashAfterFlushPagesKeepsWholeUnits(t *testing.T) {
	const (
		units = 420 // two whole pages and a part of the third
		torn  = 409 // bytes 8,180 to 8,200
	)
	fsys := faultfs.New(1)
	cfg := Config{RootDir: "/store/consumequeue", Topic: "TopicA", QueueID: 3, FS: fsys}
	q, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	putRange(t, q, 0, units)
	if err := q.FlushPages(2); err != nil {
		t.Fatal(err)
	}
	cfg.FS = fsys.Crash()
	r, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if n := r.MaxOffset(); n != torn+1 {
		t.Fatalf("MaxOffset %d after the power cut, want the %d units of the two pages flushed", n, torn+1)
	}
	got := getAll(t, r, 0, units)
	for i, u := range got[:torn] {
		if u != msgUnit(int64(i)) {
			t.Fatalf("unit %d = %+v after the power cut, want %+v", i, u, msgUnit(int64(i)))
		}
	}
	half := msgUnit(torn)
	half.TagsCode = 0
	if got[torn] != half {
		t.Fatalf("unit %d = %+v after the power cut, want its offset and size only: %+v", torn, got[torn], half)
	}
	if fixed, err := r.Repair(torn, msgUnit(torn)); err != nil || !fixed {
		t.Fatalf("Repair(%d) = %v, %v; want it rewritten", torn, fixed, err)
	}
	if u := getAll(t, r, torn, 1); u[0] != msgUnit(torn) {
		t.Fatalf("unit %d = %+v after Repair, want %+v", torn, u[0], msgUnit(torn))
	}
}

// checkCrashes reopens the queue on every crash image of fsys and checks
// that it holds between least and most of the units msgUnit(0), ….
func checkCrashes(t *testing.T, when string, fsys *faultfs.FS, least, most int64) {
	t.Helper()
	pending := fsys.PendingDirChanges()
	for keep := 0; keep <= pending; keep++ {
		r, err := Open(Config{RootDir: "/store/consumequeue", Topic: "TopicA", QueueID: 3, FileSize: smallFile, FS: fsys.CrashKeeping(keep)})
		if err != nil {
			t.Fatalf("%s, keeping %d of %d directory changes: Open: %v", when, keep, pending, err)
		}
		n := r.MaxOffset()
		if n < least || n > most {
			t.Fatalf("%s, keeping %d of %d directory changes: MaxOffset %d, want %d..%d", when, keep, pending, n, least, most)
		}
		got, err := r.Get(0, make([]Unit, 0, most))
		if err != nil {
			t.Fatal(err)
		}
		for i, u := range got {
			if u != msgUnit(int64(i)) {
				t.Fatalf("%s, keeping %d: unit %d = %+v, want %+v", when, keep, i, u, msgUnit(int64(i)))
			}
		}
		r.Close()
	}
}

// TestRepairRewritesTornUnits tears units on a crash image the way a page
// (or sector) that never reached the disk leaves them: unit 204's tag code
// half zero across the page boundary at byte 4,096, unit 300's offset half
// zero. Recovery keeps both (offset >= 0, size > 0). Repair with the
// commit log's units rewrites exactly those, keeps a unit holding a newer
// record than the one offered (a queue deleted and created again), refuses
// offsets at or past the end, and the next Flush makes the repairs durable.
func TestRepairRewritesTornUnits(t *testing.T) {
	const units = 420
	fsys := faultfs.New(1)
	cfg := Config{RootDir: "/store/consumequeue", Topic: "TopicA", QueueID: 3, FS: fsys}
	q, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	putRange(t, q, 0, units)
	mustFlush(t, q)
	cfg.FS = fsys.Crash()
	name := "/store/consumequeue/TopicA/3/" + fileName(0)
	f, err := cfg.FS.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []int64{4096, 300*UnitBytes + 4} {
		if _, err := f.WriteAt(make([]byte, 4), at); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	r, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	torn := map[int64]bool{204: true, 300: true}
	for i, u := range getAll(t, r, 0, units+1) {
		if (u != msgUnit(int64(i))) != torn[int64(i)] {
			t.Fatalf("unit %d = %+v after the tear, want it torn: %v", i, u, torn[int64(i)])
		}
	}
	if r.MaxOffset() != units {
		t.Fatalf("recovery kept %d units, want %d", r.MaxOffset(), units)
	}
	for i := range int64(units) {
		fixed, err := r.Repair(i, msgUnit(i))
		if err != nil || fixed != torn[i] {
			t.Fatalf("Repair(%d) = %v, %v; want %v", i, fixed, err, torn[i])
		}
	}
	older := msgUnit(99)
	if fixed, err := r.Repair(100, older); err != nil || fixed {
		t.Fatalf("Repair with an older record = %v, %v; want the newer unit kept", fixed, err)
	}
	if _, err := r.Repair(units, msgUnit(units)); !errors.Is(err, ErrBadUnit) {
		t.Fatalf("Repair at MaxOffset: %v, want ErrBadUnit", err)
	}
	mustFlush(t, r)

	cfg.FS = cfg.FS.(*faultfs.FS).Crash()
	again, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	got := getAll(t, again, 0, units+1)
	if len(got) != units {
		t.Fatalf("%d units after the repairs' flush and a power cut, want %d", len(got), units)
	}
	for i, u := range got {
		if u != msgUnit(int64(i)) {
			t.Fatalf("unit %d = %+v after the repairs' flush and a power cut, want %+v", i, u, msgUnit(int64(i)))
		}
	}
}
