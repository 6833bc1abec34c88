package commitlog

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/actormq/actormq/wire/message"
)

// seedSegments lays out records the way Append does (patched offsets,
// fillers at segment ends) and returns the bytes of the segments.
func seedSegments(bodyLens ...int) []byte {
	var out []byte
	pos := int64(0)
	for i, n := range bodyLens {
		rec := testRecord(i, n)
		if left := testFileSize - pos%testFileSize; int64(len(rec))+fillerLen > left {
			out = binary.BigEndian.AppendUint32(out, uint32(left))
			out = binary.BigEndian.AppendUint32(out, blankMagicBits)
			out = append(out, make([]byte, left-fillerLen)...)
			pos += left
		}
		message.PatchStored(rec, int64(i), pos, 1_800_000_000_000+int64(i))
		out = append(out, rec...)
		pos += int64(len(rec))
	}
	return out
}

// FuzzRecover feeds arbitrary segment contents to Recover. Whatever the
// bytes, recovery must not fail or panic, must end inside the files, must
// leave only zeros behind the end, and the log must be usable: Scan of the
// validated part reaches exactly the end, the next Append lands at the end (or the next segment),
// and a reopen finds the end after that record.
func FuzzRecover(f *testing.F) {
	f.Add([]byte{}, true, false, int64(0))
	f.Add(seedSegments(100, 200, 300), true, false, int64(0))
	f.Add(seedSegments(1000, 1000, 1000, 1000, 500), true, true, int64(1_800_000_000_003))
	torn := seedSegments(100, 200, 300)
	f.Add(torn[:len(torn)-40], false, false, int64(0))

	f.Fuzz(func(t *testing.T, data []byte, checkCRC, abnormal bool, minTS int64) {
		if len(data) > 2*testFileSize {
			data = data[:2*testFileSize]
		}
		dir := t.TempDir()
		segments := (len(data) + testFileSize - 1) / testFileSize
		for i := 0; i < segments; i++ {
			seg := make([]byte, testFileSize)
			copy(seg, data[i*testFileSize:])
			if err := os.WriteFile(filepath.Join(dir, segmentName(int64(i)*testFileSize)), seg, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cfg := Config{Dir: dir, FileSize: testFileSize, CheckCRCOnRecover: checkCRC, FS: newNoSyncFS()}
		l, err := Open(cfg)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		end, err := l.Recover(abnormal, minTS)
		if err != nil {
			t.Fatalf("Recover: %v", err)
		}
		if end < 0 || end > int64(segments)*testFileSize {
			t.Fatalf("Recover end %d outside %d segments", end, segments)
		}
		if end < int64(segments)*testFileSize {
			for i, b := range readFile(t, dir, end)[end%testFileSize:] {
				if b != 0 {
					t.Fatalf("byte %d after the end %d is %#x", end+int64(i), end, b)
				}
			}
		}
		// Recovery validated records from its start segment on; an abnormal
		// recovery may start at segment 1 (then the end is in it).
		scanFrom := int64(0)
		if abnormal && end >= testFileSize {
			scanFrom = testFileSize
		}
		scanEnd, err := l.Scan(scanFrom, func(off int64, rec []byte) bool {
			if _, _, err := message.DecodeRecord(rec, checkCRC); err != nil {
				t.Fatalf("Scan gave an invalid record at %d: %v", off, err)
			}
			return true
		})
		if err != nil || scanEnd != end {
			t.Fatalf("Scan = %d, %v; want %d", scanEnd, err, end)
		}

		rec := testRecord(7, 50)
		off, err := l.Append(rec, 1, 2)
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		want := end
		if left := testFileSize - end%testFileSize; int64(len(rec))+fillerLen > left {
			want = end + left
		}
		if off != want {
			t.Fatalf("Append at %d, want %d (recovered end %d)", off, want, end)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		l, err = Open(cfg)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		defer l.Close()
		// The same recovery mode starts at the same segment, or at the one
		// the Append created; either way it must find the appended record.
		if got, err := l.Recover(abnormal, minTS); err != nil || got != off+int64(len(rec)) {
			t.Fatalf("second Recover = %d, %v; want %d", got, err, off+int64(len(rec)))
		}
	})
}
