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
