package vfs

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// plainFile hides Seek: a File whose file system reports no holes.
type plainFile struct{ File }

// ZeroTail clears every non-zero byte from `from` on and reports the range
// it changed, whether or not the file system reports holes; with holes
// reported it looks only at the data regions.
func TestZeroTail(t *testing.T) {
	const size = 16 << 20
	for _, tc := range []struct {
		name  string
		wrap  func(File) File
		holes bool
	}{
		{"data regions", func(f File) File { return f }, true},
		{"whole tail", func(f File) File { return plainFile{f} }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := filepath.Join(t.TempDir(), "f")
			f, err := Default.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := f.Truncate(size); err != nil {
				t.Fatal(err)
			}
			for _, off := range []int64{0, 8 << 20} {
				if _, err := f.WriteAt(bytes.Repeat([]byte{7}, 100), off); err != nil {
					t.Fatal(err)
				}
			}
			m, err := f.Mmap(size)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Unmap()
			b := m.Bytes()
			file := tc.wrap(f)
			regions := DataRegions(file, 50, size)
			if !tc.holes && (len(regions) != 1 || regions[0] != [2]int64{50, size}) {
				t.Fatalf("regions without hole reports = %v, want the whole tail", regions)
			}
			if tc.holes && len(regions) != 2 {
				t.Logf("this file system reports regions %v (holes not reported?)", regions)
			}
			lo, hi := ZeroTail(file, b, 50)
			if lo != 50 || hi != 8<<20+zeroChunkBytes {
				t.Fatalf("ZeroTail changed [%d, %d), want [50, %d)", lo, hi, 8<<20+zeroChunkBytes)
			}
			if !bytes.Equal(b[:50], bytes.Repeat([]byte{7}, 50)) {
				t.Fatal("bytes before from changed")
			}
			if i := bytes.IndexFunc(b[50:], func(r rune) bool { return r != 0 }); i >= 0 {
				t.Fatalf("byte %d not cleared", 50+i)
			}
			if lo, hi := ZeroTail(file, b, 50); lo != hi {
				t.Fatalf("second ZeroTail changed [%d, %d)", lo, hi)
			}
		})
	}
}
