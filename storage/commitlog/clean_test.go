package commitlog

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/vfs"
)

// fillSegments appends until the log has n segments.
func fillSegments(t *testing.T, l *CommitLog, n int) []appended {
	t.Helper()
	var recs []appended
	for seq := 0; l.WrotePosition() <= int64(n-1)*testFileSize; seq++ {
		recs = append(recs, appendN(t, l, seq, 1)...)
	}
	return recs
}

func setModTime(t *testing.T, dir string, start int64, mod time.Time) {
	t.Helper()
	if err := os.Chtimes(filepath.Join(dir, segmentName(start)), mod, mod); err != nil {
		t.Fatal(err)
	}
}

func TestDeleteExpiredFiles(t *testing.T) {
	now := time.Now()
	old, fresh := now.Add(-100*time.Hour), now.Add(time.Hour)
	tests := []struct {
		name     string
		modTimes []time.Time // per segment, oldest first (4 segments)
		force    bool
		maxFiles int
		deleted  int
	}{
		{"stops at the first fresh segment", []time.Time{old, fresh, old, old}, false, 10, 1},
		{"all expired keeps the newest", []time.Time{old, old, old, old}, false, 10, 3},
		{"batch limit", []time.Time{old, old, old, old}, false, 2, 2},
		{"nothing expired", []time.Time{fresh, fresh, fresh, fresh}, false, 10, 0},
		{"force ignores age", []time.Time{fresh, fresh, fresh, fresh}, true, 10, 3},
		{"zero max deletes nothing", []time.Time{old, old, old, old}, true, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openTest(t, dir, vfs.Default)
			defer l.Close()
			recs := fillSegments(t, l, 4)
			for i, mod := range tc.modTimes {
				setModTime(t, dir, int64(i)*testFileSize, mod)
			}
			n, err := l.DeleteExpiredFiles(now, tc.force, tc.maxFiles)
			if err != nil || n != tc.deleted {
				t.Fatalf("DeleteExpiredFiles = %d, %v; want %d", n, err, tc.deleted)
			}
			minOff := int64(tc.deleted) * testFileSize
			if l.MinOffset() != minOff {
				t.Fatalf("MinOffset %d, want %d", l.MinOffset(), minOff)
			}
			if files := testkit.DirNames(t, dir); len(files) != 4-tc.deleted || files[0] != segmentName(minOff) {
				t.Fatalf("files left %v", files)
			}
			for _, a := range recs {
				s, err := l.Read(a.offset, len(a.rec))
				if gone := a.offset < minOff; gone != errors.Is(err, ErrOffsetNotFound) || (!gone && err != nil) {
					t.Fatalf("Read(%d) = %v with min offset %d", a.offset, err, minOff)
				}
				s.Release()
			}
			_, err = l.Scan(0, func(int64, []byte) bool { return true })
			if gone := tc.deleted > 0; gone != errors.Is(err, ErrOffsetNotFound) || (!gone && err != nil) {
				t.Fatalf("Scan from offset 0 with min offset %d: %v", minOff, err)
			}
			// Appending goes on in the newest segment.
			more := appendN(t, l, 10_000, 3)
			checkStored(t, l, more[2])
		})
	}
}

func TestDeleteKeepsMappingOfHeldSlice(t *testing.T) {
	dir := t.TempDir()
	fs := newFaultFS()
	l := openTest(t, dir, fs)
	recs := fillSegments(t, l, 3)
	held := recs[0]
	s, err := l.Read(held.offset, len(held.rec))
	if err != nil {
		t.Fatal(err)
	}
	unmaps := fs.unmaps.Load()

	n, err := l.DeleteExpiredFiles(time.Now(), true, 10)
	if err != nil || n != 2 {
		t.Fatalf("DeleteExpiredFiles = %d, %v; want 2", n, err)
	}
	// Segment 1 had no reader and is unmapped now; segment 0 is still
	// mapped for the held slice although its file is gone.
	if got := fs.unmaps.Load() - unmaps; got != 1 {
		t.Fatalf("%d unmaps after delete, want 1", got)
	}
	if _, err := os.Stat(filepath.Join(dir, segmentName(0))); !os.IsNotExist(err) {
		t.Fatalf("segment 0 file still there: %v", err)
	}
	if _, err := l.Read(held.offset, len(held.rec)); !errors.Is(err, ErrOffsetNotFound) {
		t.Fatalf("new Read of a deleted segment: %v", err)
	}
	if string(s.B[:4]) != string(held.rec[:4]) || len(s.B) != len(held.rec) {
		t.Fatalf("held slice changed")
	}
	s.Release()
	if got := fs.unmaps.Load() - unmaps; got != 2 {
		t.Fatalf("%d unmaps after the last Release, want 2", got)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got := fs.unmaps.Load() - unmaps; got != 3 {
		t.Fatalf("%d unmaps after Close, want 3", got)
	}
}

func TestCloseWaitsForHeldSlice(t *testing.T) {
	fs := newFaultFS()
	l := openTest(t, t.TempDir(), fs)
	recs := appendN(t, l, 0, 3)
	s, err := l.Read(recs[1].offset, len(recs[1].rec))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if fs.unmaps.Load() != 0 {
		t.Fatal("Close unmapped a segment a slice still holds")
	}
	if s.B[0] != recs[1].rec[0] {
		t.Fatal("held slice changed")
	}
	s.Release()
	if fs.unmaps.Load() != 1 {
		t.Fatalf("unmaps after Release = %d, want 1", fs.unmaps.Load())
	}
}
