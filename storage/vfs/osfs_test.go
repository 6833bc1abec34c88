package vfs

import (
	"os"
	"path/filepath"
	"testing"
)

// The fallback for file systems without fallocate keeps the content and
// grows the file.
func TestAllocateByTouchingKeepsContent(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(name, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Default.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.(osFile).allocateByTouching(2, 3*4096+5); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2+3*4096+5 || string(got[:4]) != "keep" {
		t.Fatalf("size %d, start %q", len(got), got[:4])
	}
	for i, b := range got[4:] {
		if b != 0 {
			t.Fatalf("byte %d is %#x", i+4, b)
		}
	}
}
