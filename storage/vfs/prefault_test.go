package vfs

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Prefault changes no byte of the mapping or the file, on written and on
// allocated-but-unwritten pages, covers a range ending mid-page, and
// refuses unaligned or out-of-range requests. Both the MADV_POPULATE_WRITE
// path and the MADV_WILLNEED fallback run.
func TestPrefaultKeepsContent(t *testing.T) {
	page := os.Getpagesize()
	size := 16 * page
	for _, fallback := range []bool{false, true} {
		name := filepath.Join(t.TempDir(), "seg")
		f, err := Default.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Allocate(0, int64(size)); err != nil {
			t.Fatal(err)
		}
		head := bytes.Repeat([]byte("record!"), page/2)
		if _, err := f.WriteAt(head, 0); err != nil {
			t.Fatal(err)
		}
		m, err := f.Mmap(size)
		if err != nil {
			t.Fatal(err)
		}
		want := append([]byte(nil), m.Bytes()...)
		populateWriteMissing.Store(fallback)
		p := m.(Prefaulter)
		if err := p.Prefault(0, size-100); err != nil {
			t.Fatalf("fallback %v: Prefault: %v", fallback, err)
		}
		if err := p.Prefault(page, size-page); err != nil {
			t.Fatalf("fallback %v: Prefault again: %v", fallback, err)
		}
		for _, bad := range [][2]int{{1, page}, {0, size + 1}, {-page, page}} {
			if err := p.Prefault(bad[0], bad[1]); err == nil {
				t.Errorf("fallback %v: Prefault(%d, %d) succeeded", fallback, bad[0], bad[1])
			}
		}
		if !bytes.Equal(m.Bytes(), want) {
			t.Fatalf("fallback %v: Prefault changed the mapping", fallback)
		}
		if err := m.Unmap(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("fallback %v: Prefault changed the file", fallback)
		}
	}
	populateWriteMissing.Store(false)
}
