package commitlog

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/vfs"
	"github.com/actormq/actormq/wire/message"
)

func TestBlankMagicBits(t *testing.T) {
	bits := blankMagicBits
	if int32(bits) != message.MagicBlank {
		t.Fatalf("blankMagicBits %#x != MagicBlank %d", blankMagicBits, message.MagicBlank)
	}
}

func TestAppendReadScanAcrossSegments(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, vfs.Default)
	defer l.Close()

	recs := appendN(t, l, 0, 60)
	// Offsets: contiguous inside a segment; at a segment change the previous
	// segment ends with a filler covering exactly the bytes left.
	fillers := 0
	next := int64(0)
	for i, a := range recs {
		if a.offset != next {
			segEnd := (next/testFileSize + 1) * testFileSize
			if a.offset != segEnd {
				t.Fatalf("record %d at %d, want %d or next segment %d", i, a.offset, next, segEnd)
			}
			left := segEnd - next
			if int64(len(a.rec))+fillerLen <= left {
				t.Fatalf("record %d (%d bytes) rolled over with %d bytes left", i, len(a.rec), left)
			}
			b := readFile(t, dir, next)[next%testFileSize:]
			if int64(be32(b)) != left || be32(b[4:]) != message.MagicBlank {
				t.Fatalf("filler at %d: [%d %d], want [%d blank]", next, be32(b), be32(b[4:]), left)
			}
			fillers++
		}
		if a.offset/testFileSize != (a.offset+int64(len(a.rec))-1)/testFileSize {
			t.Fatalf("record %d spans segments", i)
		}
		next = a.offset + int64(len(a.rec))
		checkStored(t, l, a)
	}
	if fillers < 3 {
		t.Fatalf("only %d fillers; the test should cross several segments", fillers)
	}
	if got := l.WrotePosition(); got != next {
		t.Fatalf("WrotePosition %d, want %d", got, next)
	}
	// The caller's buffer is patched: Stage writes the record from there.
	if m, _, _ := message.DecodeRecord(recs[5].rec, true); m.PhysicalOffset != recs[5].offset {
		t.Fatalf("Append left PHYSICALOFFSET %d in its input, want %d", m.PhysicalOffset, recs[5].offset)
	}

	var seen []int64
	end, err := l.Scan(0, func(off int64, rec []byte) bool {
		seen = append(seen, off)
		return true
	})
	if err != nil || end != next {
		t.Fatalf("Scan: end %d err %v, want %d", end, err, next)
	}
	if len(seen) != len(recs) {
		t.Fatalf("Scan visited %d records, want %d", len(seen), len(recs))
	}
	for i := range seen {
		if seen[i] != recs[i].offset {
			t.Fatalf("Scan record %d at %d, want %d", i, seen[i], recs[i].offset)
		}
	}

	// Scan from the middle, stopping after three records.
	count := 0
	end, err = l.Scan(recs[10].offset, func(off int64, rec []byte) bool {
		count++
		return count < 3
	})
	if want := recs[12].offset + int64(len(recs[12].rec)); err != nil || count != 3 || end != want {
		t.Fatalf("stopped Scan: count %d end %d err %v", count, end, err)
	}

	// Segment files are named by their start offset.
	names := testkit.DirNames(t, dir)
	if want := int(next/testFileSize) + 1; len(names) != want {
		t.Fatalf("%d files, want %d", len(names), want)
	}
	if names[1] != "00000000000000004096" {
		t.Fatalf("second segment named %q", names[1])
	}
}

func TestReadRangeErrors(t *testing.T) {
	l := openTest(t, t.TempDir(), vfs.Default)
	defer l.Close()
	recs := appendN(t, l, 0, 30)
	last := recs[len(recs)-1]
	end := last.offset + int64(len(last.rec))
	tests := []struct {
		name   string
		offset int64
		size   int
	}{
		{"beyond write position", end - 10, 20},
		{"at write position", end, 1},
		{"negative offset", -1, 10},
		{"zero size", 0, 0},
		{"across a segment end", testFileSize - 10, 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := l.Read(tc.offset, tc.size); !errors.Is(err, ErrOffsetNotFound) {
				t.Fatalf("Read(%d, %d) = %v, want ErrOffsetNotFound", tc.offset, tc.size, err)
			}
		})
	}
	if _, err := l.Scan(end+1, func(int64, []byte) bool { return true }); !errors.Is(err, ErrOffsetNotFound) {
		t.Fatalf("Scan beyond end: %v", err)
	}
}

func TestAppendRejects(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(Config{Dir: dir, FileSize: testFileSize})
	if err != nil {
		t.Fatal(err)
	}
	rec := testRecord(1, 100)
	if _, err := l.Append(rec, 0, 1); !errors.Is(err, ErrNotWritable) {
		t.Fatalf("Append before Recover: %v", err)
	}
	if _, err := l.Recover(false, 0); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		rec  []byte
		want error
	}{
		{"too large", testRecord(1, testFileSize), ErrRecordTooLarge},
		{"exactly no room for the filler", testRecord(1, testFileSize-len(testRecord(1, 0))-fillerLen+1), ErrRecordTooLarge},
		{"size field disagrees", rec[:len(rec)-1], ErrInvalidRecord},
		{"too short", rec[:20], ErrInvalidRecord},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := l.Append(tc.rec, 0, 1); !errors.Is(err, tc.want) {
				t.Fatalf("Append: %v, want %v", err, tc.want)
			}
		})
	}
	// The largest record that fits does fit, alone in a segment.
	big := testRecord(1, testFileSize-len(testRecord(1, 0))-fillerLen)
	if off, err := l.Append(big, 0, 1); err != nil || off != 0 {
		t.Fatalf("largest record: off %d err %v", off, err)
	}
	if off, err := l.Append(rec, 0, 1); err != nil || off != testFileSize {
		t.Fatalf("record after the largest: off %d err %v", off, err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(rec, 0, 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v", err)
	}
	if _, err := l.Read(0, 10); !errors.Is(err, ErrClosed) {
		t.Fatalf("Read after Close: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestOpenRejectsBrokenDirectory(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]int64 // name -> size
	}{
		{"gap", map[string]int64{segmentName(0): testFileSize, segmentName(2 * testFileSize): testFileSize}},
		{"wrong size", map[string]int64{segmentName(0): testFileSize / 2, segmentName(testFileSize): testFileSize}},
		{"misaligned name", map[string]int64{segmentName(100): testFileSize}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, size := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), make([]byte, size), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := Open(Config{Dir: dir, FileSize: testFileSize}); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open: %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestOpenDropsEmptyNewestSegmentAndIgnoresOtherFiles(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, vfs.Default)
	recs := appendN(t, l, 0, 5)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// A crash between creating and sizing the next segment, plus clutter.
	if err := os.WriteFile(filepath.Join(dir, segmentName(testFileSize)), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	l = openTest(t, dir, vfs.Default)
	defer l.Close()
	last := recs[len(recs)-1]
	if got := l.WrotePosition(); got != last.offset+int64(len(last.rec)) {
		t.Fatalf("WrotePosition %d", got)
	}
	if _, err := os.Stat(filepath.Join(dir, segmentName(testFileSize))); !os.IsNotExist(err) {
		t.Fatalf("empty segment not removed: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"defaults", Config{Dir: "x"}, true},
		{"no dir", Config{}, false},
		{"tiny segments", Config{Dir: "x", FileSize: 100}, false},
		{"segments over 2 GiB", Config{Dir: "x", FileSize: 1 << 31}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			err := cfg.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate: %v", err)
			}
			if tc.ok && (cfg.FileSize != FileSizeDefault || cfg.FS == nil) {
				t.Fatalf("defaults not filled: %+v", cfg)
			}
		})
	}
}
