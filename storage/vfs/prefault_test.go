package vfs

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"unsafe"
)

// Prefault changes no byte of the mapping or the file, on written and on
// allocated-but-unwritten pages, covers a range ending mid-page, and
// refuses unaligned or out-of-range requests. Both the MADV_POPULATE_WRITE
// path and the MADV_WILLNEED fallback run. The range spans several
// populateChunk calls, and every page of it ends up resident.
func TestPrefaultKeepsContent(t *testing.T) {
	page := os.Getpagesize()
	size := 2*populateChunk + 16*page
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
		// Not read from the mapping: that would fault every page in
		// before Prefault and hide a range it skipped.
		want := make([]byte, size)
		copy(want, head)
		populateWriteMissing.Store(fallback)
		p := m.(Prefaulter)
		if err := p.Prefault(0, size-100); err != nil {
			t.Fatalf("fallback %v: Prefault: %v", fallback, err)
		}
		if err := p.Prefault(page, size-page); err != nil {
			t.Fatalf("fallback %v: Prefault again: %v", fallback, err)
		}
		if !fallback {
			assertMapped(t, m.Bytes())
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

// assertMapped fails unless every page of b is present in the process's
// page tables (/proc/self/pagemap bit 63). Page-cache residency (mincore)
// would not do: the kernel's readahead fills the cache past a populated
// range without mapping it.
func assertMapped(t *testing.T, b []byte) {
	t.Helper()
	page := os.Getpagesize()
	f, err := os.Open("/proc/self/pagemap")
	if err != nil {
		t.Skipf("no pagemap: %v", err)
	}
	defer f.Close()
	entries := make([]byte, 8*(len(b)/page))
	if _, err := f.ReadAt(entries, int64(uintptr(unsafe.Pointer(&b[0]))/uintptr(page))*8); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(entries); i += 8 {
		if binary.LittleEndian.Uint64(entries[i:])>>63 == 0 {
			t.Fatalf("page %d of %d not mapped after Prefault", i/8, len(b)/page)
		}
	}
}
