package consumequeue

import (
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
// flush round by pages: every unit it covered comes back whole. Unit 409
// lies across the page boundary at byte 8,192; a round that msynced whole
// pages only left its offset and size durable but not its tag code, a
// unit recovery keeps and re-dispatch does not rewrite.
func TestCrashAfterFlushPagesKeepsWholeUnits(t *testing.T) {
	const units = 420 // two whole pages and a part of the third
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
	got, err := r.Get(0, make([]Unit, 0, units))
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range got {
		if u != msgUnit(int64(i)) {
			t.Fatalf("unit %d = %+v after the power cut, want %+v", i, u, msgUnit(int64(i)))
		}
	}
	if n := r.MaxOffset(); n != units {
		t.Fatalf("MaxOffset %d after the power cut, want the %d units flushed", n, units)
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
