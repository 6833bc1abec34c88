package vfs

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// WriteVAt writes its buffers back to back at the offset, more buffers than
// one pwritev takes included, empty ones skipped, and allocates nothing.
func TestWriteVAtWritesBuffersInOrder(t *testing.T) {
	name := filepath.Join(t.TempDir(), "seg")
	f, err := Default.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vw, ok := f.(VectorWriter)
	if !ok {
		t.Fatal("the OS file system's File is not a VectorWriter")
	}
	var bufs [][]byte
	var want []byte
	for i := range 3*iovecsPerCall + 1 {
		b := bytes.Repeat([]byte{byte('a' + i)}, 100+i)
		if i == 5 {
			b = nil
		}
		bufs = append(bufs, b)
		want = append(want, b...)
	}
	const at = 1000
	n, err := vw.WriteVAt(bufs, at)
	if err != nil || n != int64(len(want)) {
		t.Fatalf("WriteVAt = %d, %v; want %d, nil", n, err, len(want))
	}
	got, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[at:], want) || !bytes.Equal(got[:at], make([]byte, at)) {
		t.Fatal("file content differs from the buffers written back to back")
	}
	if allocs := testing.AllocsPerRun(20, func() {
		if _, err := vw.WriteVAt(bufs, at); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Fatalf("WriteVAt allocated %.1f objects per call, want 0", allocs)
	}
}

// Empty buffers at the end of the list, or at the end of one pwritev's
// share of it, or only empty ones, are nothing left to write: no call
// that writes 0 bytes and then fails as a short write.
func TestWriteVAtTrailingEmptyBuffers(t *testing.T) {
	f, err := Default.OpenFile(filepath.Join(t.TempDir(), "seg"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vw := f.(VectorWriter)
	a, b := []byte("abc"), []byte("de")
	for name, bufs := range map[string][][]byte{
		"trailing":       {a, b, nil, {}},
		"only empty":     {nil, {}},
		"call boundary":  append(append(make([][]byte, 0, iovecsPerCall+1), a), make([][]byte, iovecsPerCall)...),
		"leading, inner": {nil, a, {}, b},
	} {
		var want int64
		for _, p := range bufs {
			want += int64(len(p))
		}
		if n, err := vw.WriteVAt(bufs, 0); err != nil || n != want {
			t.Errorf("%s: WriteVAt = %d, %v; want %d, nil", name, n, err, want)
		}
	}
}
