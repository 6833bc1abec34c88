package vfs

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// WriteBack leaves the bytes as they are (records stored through a mapping
// and the zeros after them), also over an allocated, unwritten range, and
// rejects a negative range.
func TestWriteBackKeepsContent(t *testing.T) {
	page := os.Getpagesize()
	size := 64 * page
	name, _, m := mappedFile(t, "seg", size)
	copy(m.Bytes()[page/2:], bytes.Repeat([]byte("record!"), page))
	want := append([]byte(nil), m.Bytes()...)

	wbf, err := Default.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer wbf.Close()
	wb := wbf.(WriteBacker)
	if err := wb.WriteBack(0, int64(size)); err != nil {
		t.Fatalf("WriteBack: %v", err)
	}
	if err := wb.WriteBack(int64(page), 0); err != nil {
		t.Fatalf("WriteBack of nothing: %v", err)
	}
	if err := wb.WriteBack(-1, 10); err == nil {
		t.Fatal("WriteBack(-1, 10) succeeded")
	}
	got := make([]byte, size)
	if _, err := wbf.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) || !bytes.Equal(m.Bytes(), want) {
		t.Fatal("WriteBack changed the file's bytes")
	}
}

// StartWriteBack leaves the bytes as they are, a store into the mapping
// after it (the page write-protected by write-back) still lands, and a
// negative range is refused.
func TestStartWriteBackKeepsContent(t *testing.T) {
	size := 8 * os.Getpagesize()
	name, f, m := mappedFile(t, "cq", size)
	copy(m.Bytes(), bytes.Repeat([]byte("unit"), size/8))
	ws := f.(WriteBackStarter)
	if err := ws.StartWriteBack(0, int64(size/2)); err != nil {
		t.Fatalf("StartWriteBack: %v", err)
	}
	copy(m.Bytes()[10:], "after")
	if err := m.Sync(0, size); err != nil {
		t.Fatal(err)
	}
	want := append([]byte(nil), m.Bytes()...)
	got, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) || !bytes.HasPrefix(got[10:], []byte("after")) {
		t.Fatal("file content differs from the mapping after StartWriteBack")
	}
	if err := ws.StartWriteBack(-1, 1); err == nil {
		t.Fatal("StartWriteBack(-1, 1) succeeded")
	}
}

// mappedFile creates the file name in a temporary directory, allocates
// size bytes and maps them; both are closed when the test ends.
func mappedFile(t *testing.T, name string, size int) (string, File, Mapping) {
	t.Helper()
	name = filepath.Join(t.TempDir(), name)
	f, err := Default.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := f.Allocate(0, int64(size)); err != nil {
		t.Fatal(err)
	}
	m, err := f.Mmap(size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Unmap() })
	return name, f, m
}

func TestKernelVersion(t *testing.T) {
	for _, c := range []struct {
		release      string
		major, minor int
		ok           bool
	}{
		{"6.18.44-fc-v445", 6, 18, true},
		{"5.8.0", 5, 8, true},
		{"5.4.0-150-generic", 5, 4, true},
		{"4.18.0-553.el8_10.x86_64", 4, 18, true},
		{"6", 0, 0, false},
		{"x.y", 0, 0, false},
	} {
		major, minor, ok := kernelVersion(c.release)
		if major != c.major || minor != c.minor || ok != c.ok {
			t.Errorf("kernelVersion(%q) = %d, %d, %v; want %d, %d, %v", c.release, major, minor, ok, c.major, c.minor, c.ok)
		}
	}
}

// SyncFS through a directory descriptor syncs where the kernel and the file
// system report write-back errors through syncfs, and refuses with
// ErrUnsupported elsewhere (a CI container's overlayfs, an old kernel).
func TestSyncFSThroughADirectory(t *testing.T) {
	dir := t.TempDir()
	f, err := Default.OpenFile(dir, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, ok := f.(FSSyncer)
	if !ok {
		t.Fatal("the OS file system's File is not an FSSyncer")
	}
	trusted := syncFSReportsErrors(int(f.(osFile).Fd())) == nil
	err = s.SyncFS()
	switch {
	case trusted && err != nil:
		t.Fatalf("SyncFS on a trusted file system: %v", err)
	case !trusted && !errors.Is(err, errors.ErrUnsupported):
		t.Fatalf("SyncFS where syncfs is not trusted: %v, want ErrUnsupported", err)
	}
	t.Logf("trusted: %v", trusted)
}
