package commitlog

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/vfs"
	"github.com/actormq/actormq/wire/message"
)

func TestRecoverEmptyDir(t *testing.T) {
	l, err := Open(Config{Dir: filepath.Join(t.TempDir(), "commitlog"), FileSize: testFileSize})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if end, err := l.Recover(true, 0); err != nil || end != 0 {
		t.Fatalf("Recover on empty dir: %d %v", end, err)
	}
	if off, err := l.Append(testRecord(0, 10), 0, 1); err != nil || off != 0 {
		t.Fatalf("first Append: %d %v", off, err)
	}
}

func TestReopenRecoverNormal(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, vfs.Default)
	recs := appendN(t, l, 0, 50)
	end := l.WrotePosition()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	l, err := Open(Config{Dir: dir, FileSize: testFileSize, CheckCRCOnRecover: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got, err := l.Recover(false, 0)
	if err != nil || got != end {
		t.Fatalf("Recover = %d, %v; want %d", got, err, end)
	}
	if l.WrotePosition() != end || l.FlushedPosition() != end {
		t.Fatalf("positions %d/%d, want %d", l.WrotePosition(), l.FlushedPosition(), end)
	}
	for _, a := range recs {
		checkStored(t, l, a)
	}
	more := appendN(t, l, 50, 1)
	if more[0].offset != end && more[0].offset != (end/testFileSize+1)*testFileSize {
		t.Fatalf("next Append at %d, want %d (or the next segment)", more[0].offset, end)
	}
}

// tornCase damages the log after records were written and says where the
// recovered log must end.
type tornCase struct {
	name     string
	checkCRC bool
	// damage changes the files and returns the expected recovered end.
	damage func(t *testing.T, dir string, recs []appended) int64
}

func endOf(a appended) int64 { return a.offset + int64(len(a.rec)) }

func TestRecoverTruncatesTornTail(t *testing.T) {
	tests := []tornCase{
		{name: "garbage after the last record", checkCRC: true,
			damage: func(t *testing.T, dir string, recs []appended) int64 {
				end := endOf(recs[len(recs)-1])
				writeAt(t, dir, end, []byte{0x00, 0x00, 0x01, 0x00, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3})
				return end
			}},
		{name: "half a record after the last record", checkCRC: true,
			damage: func(t *testing.T, dir string, recs []appended) int64 {
				end := endOf(recs[len(recs)-1])
				half := testRecord(999, 60)
				half = half[:len(half)/2]
				if end%testFileSize+int64(len(half)) > testFileSize {
					t.Skip("no room for the half record in this layout")
				}
				writeAt(t, dir, end, half)
				return end
			}},
		{name: "corrupt body byte with crc check", checkCRC: true,
			damage: func(t *testing.T, dir string, recs []appended) int64 {
				last := recs[len(recs)-1]
				writeAt(t, dir, last.offset+100, []byte{^last.rec[100]}) // inside the body
				return last.offset
			}},
		{name: "corrupt body byte without crc check", checkCRC: false,
			damage: func(t *testing.T, dir string, recs []appended) int64 {
				last := recs[len(recs)-1]
				writeAt(t, dir, last.offset+100, []byte{^last.rec[100]})
				return endOf(last)
			}},
		{name: "corrupt record in an earlier segment drops later segments", checkCRC: true,
			damage: func(t *testing.T, dir string, recs []appended) int64 {
				// The last record of the second-last segment.
				lastSeg := recs[len(recs)-1].offset / testFileSize
				var victim appended
				for _, a := range recs {
					if a.offset/testFileSize == lastSeg-1 {
						victim = a
					}
				}
				writeAt(t, dir, victim.offset+4, []byte{0, 0, 0, 0}) // magic
				return victim.offset
			}},
		{name: "wrong PHYSICALOFFSET", checkCRC: true,
			damage: func(t *testing.T, dir string, recs []appended) int64 {
				last := recs[len(recs)-1]
				writeAt(t, dir, last.offset+offPhysicalOffset, binary.BigEndian.AppendUint64(nil, uint64(last.offset+1)))
				return last.offset
			}},
		// BODYCRC covers the body only: a write torn inside the properties
		// (the rest of the record reads as zeros) is found without it.
		{name: "torn properties without crc check", checkCRC: false,
			damage: func(t *testing.T, dir string, recs []appended) int64 {
				last := recs[len(recs)-1]
				writeAt(t, dir, endOf(last)-5, make([]byte, 5))
				return last.offset
			}},
		{name: "torn properties in an earlier segment drop later segments", checkCRC: true,
			damage: func(t *testing.T, dir string, recs []appended) int64 {
				lastSeg := recs[len(recs)-1].offset / testFileSize
				var victim appended
				for _, a := range recs {
					if a.offset/testFileSize == lastSeg-1 {
						victim = a
					}
				}
				writeAt(t, dir, endOf(victim)-3, make([]byte, 3))
				return victim.offset
			}},
		{name: "stray zero segment after the end", checkCRC: true,
			damage: func(t *testing.T, dir string, recs []appended) int64 {
				end := endOf(recs[len(recs)-1])
				next := (end/testFileSize + 1) * testFileSize
				if err := os.WriteFile(filepath.Join(dir, segmentName(next)), make([]byte, testFileSize), 0o644); err != nil {
					t.Fatal(err)
				}
				return end
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openTest(t, dir, vfs.Default)
			recs := appendN(t, l, 0, 40)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			want := tc.damage(t, dir, recs)

			cfg := Config{Dir: dir, FileSize: testFileSize, CheckCRCOnRecover: tc.checkCRC}
			l, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			got, err := l.Recover(false, 0)
			if err != nil || got != want {
				t.Fatalf("Recover = %d, %v; want %d", got, err, want)
			}
			// Nothing after the end survives: later segments are gone and
			// the rest of the last one is zero.
			files := testkit.DirNames(t, dir)
			if n := int(want/testFileSize) + 1; len(files) != n {
				t.Fatalf("%d segment files, want %d", len(files), n)
			}
			tail := readFile(t, dir, want)[want%testFileSize:]
			for i, b := range tail {
				if b != 0 {
					t.Fatalf("byte %d after the recovered end is %#x", want+int64(i), b)
				}
			}
			// The next Append continues exactly there, and a further
			// reopen finds it.
			rec := testRecord(1000, 50)
			off, err := l.Append(rec, 7, 8)
			if err != nil || off != want {
				t.Fatalf("Append after recovery at %d, %v; want %d", off, err, want)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l, err = Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if got, err := l.Recover(false, 0); err != nil || got != want+int64(len(rec)) {
				t.Fatalf("second Recover = %d, %v; want %d", got, err, want+int64(len(rec)))
			}
			checkStored(t, l, appended{offset: want, rec: rec, qo: 7, ts: 8})
			n := 0
			if _, err := l.Scan(l.MinOffset(), func(int64, []byte) bool { n++; return true }); err != nil {
				t.Fatal(err)
			}
			if kept := countBelow(recs, want); n != kept+1 {
				t.Fatalf("Scan found %d records, want %d", n, kept+1)
			}
		})
	}
}

// A record without properties torn inside its topic still adds up (the
// properties length reads 0, as it was): the NUL in the topic ends the log.
func TestRecoverStopsAtTornTopic(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, vfs.Default)
	appendN(t, l, 0, 3)
	m := message.Message{Topic: "TopicTest", Body: []byte("body"), BornHost: testBornHost, StoreHost: testStoreHost}
	rec := message.AppendRecord(nil, &m)
	off, err := l.Append(rec, 3, 1_800_000_000_003)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	end := off + int64(len(rec))
	writeAt(t, dir, end-2-4, make([]byte, 4)) // the topic's last 4 bytes; the length after them is 0 already

	l, err = Open(Config{Dir: dir, FileSize: testFileSize, CheckCRCOnRecover: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got, err := l.Recover(true, 0); err != nil || got != off {
		t.Fatalf("Recover = %d, %v; want the torn record's offset %d", got, err, off)
	}
}

func countBelow(recs []appended, end int64) int {
	n := 0
	for _, a := range recs {
		if endOf(a) <= end {
			n++
		}
	}
	return n
}

func TestRecoverFillerAtTheEnd(t *testing.T) {
	// The newest segment ends with a filler but the next segment was never
	// created (crash right after the filler): recovery ends at the filler
	// and the next Append rolls over again.
	dir := t.TempDir()
	l := openTest(t, dir, vfs.Default)
	recs := appendN(t, l, 0, 40)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	last := recs[len(recs)-1]
	var fillerAt int64 = -1
	for i := 1; i < len(recs); i++ {
		if recs[i].offset != endOf(recs[i-1]) {
			fillerAt = endOf(recs[i-1])
		}
	}
	if fillerAt < 0 {
		t.Fatal("no filler written")
	}
	// Remove every segment after the one with the last filler.
	for s := (fillerAt/testFileSize + 1) * testFileSize; s <= last.offset; s += testFileSize {
		if err := os.Remove(filepath.Join(dir, segmentName(s))); err != nil {
			t.Fatal(err)
		}
	}
	l = openTest(t, dir, vfs.Default)
	defer l.Close()
	if got := l.WrotePosition(); got != fillerAt {
		t.Fatalf("recovered end %d, want the filler at %d", got, fillerAt)
	}
	big := testRecord(2000, testFileSize-200)
	off, err := l.Append(big, 0, 1)
	if want := (fillerAt/testFileSize + 1) * testFileSize; err != nil || off != want {
		t.Fatalf("Append at %d, %v; want %d", off, err, want)
	}
}

func TestRecoverAbnormalStart(t *testing.T) {
	// Five segments; a corrupt record in segment 0. Where recovery starts
	// decides whether it meets the corruption: starting at segment 0 ends
	// the log there, starting later keeps everything.
	tests := []struct {
		name     string
		abnormal bool
		// minTS picks the checkpoint time from the first store timestamps
		// of the segments.
		minTS      func(firstTS []int64) int64
		truncateAt bool  // recovery must stop at the corrupt record
		startSeg   int64 // index of the segment RecoveryStart names
	}{
		{name: "normal starts at the third-last segment",
			minTS: func([]int64) int64 { return 0 }, startSeg: 2},
		{name: "abnormal from the checkpoint segment", abnormal: true,
			minTS: func(ts []int64) int64 { return ts[2] }, startSeg: 2},
		{name: "abnormal between segment starts", abnormal: true,
			minTS: func(ts []int64) int64 { return ts[3] - 1 }, startSeg: 2},
		{name: "abnormal without a checkpoint starts at the first", abnormal: true,
			minTS: func([]int64) int64 { return 0 }, truncateAt: true},
		{name: "abnormal before every segment starts at the first", abnormal: true,
			minTS: func(ts []int64) int64 { return ts[0] - 1 }, truncateAt: true},
		{name: "abnormal exactly at the first segment", abnormal: true,
			minTS: func(ts []int64) int64 { return ts[0] }, truncateAt: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openTest(t, dir, vfs.Default)
			var recs []appended
			for seq := 0; l.WrotePosition() < 4*testFileSize+100; seq++ {
				recs = append(recs, appendN(t, l, seq, 1)...)
			}
			end := l.WrotePosition()
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			firstTS := map[int64]int64{}
			var starts []int64
			for _, a := range recs {
				seg := a.offset / testFileSize
				if _, ok := firstTS[seg]; !ok {
					firstTS[seg] = a.ts
					starts = append(starts, a.ts)
				}
			}
			victim := recs[1] // in segment 0
			writeAt(t, dir, victim.offset+100, []byte{^victim.rec[100]})

			l, err := Open(Config{Dir: dir, FileSize: testFileSize, CheckCRCOnRecover: true})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			got, err := l.Recover(tc.abnormal, tc.minTS(starts))
			want := end
			if tc.truncateAt {
				want = victim.offset
			}
			if err != nil || got != want {
				t.Fatalf("Recover = %d, %v; want %d", got, err, want)
			}
			if got, want := l.RecoveryStart(), tc.startSeg*testFileSize; got != want {
				t.Fatalf("RecoveryStart = %d, want %d", got, want)
			}
		})
	}
}
