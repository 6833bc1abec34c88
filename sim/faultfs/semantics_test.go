package faultfs_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/actormq/actormq/sim/faultfs"
	"github.com/actormq/actormq/storage/vfs"
)

// implementations runs body against the OS file system (in a temp dir) and
// against faultfs, so that faultfs's plain semantics are the OS's.
func implementations(t *testing.T, body func(t *testing.T, fsys vfs.FS, dir string)) {
	t.Run("os", func(t *testing.T) { body(t, vfs.Default, t.TempDir()) })
	t.Run("faultfs", func(t *testing.T) { body(t, faultfs.New(1), "/data") })
}

func mustCreate(t *testing.T, fsys vfs.FS, name string, content string) vfs.File {
	t.Helper()
	if err := fsys.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := fsys.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	return f
}

func readAll(t *testing.T, fsys vfs.FS, name string) string {
	t.Helper()
	f, err := fsys.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, st.Size())
	if n, err := f.ReadAt(b, 0); err != nil && !(errors.Is(err, io.EOF) && n == len(b)) {
		t.Fatalf("ReadAt: %d, %v", n, err)
	}
	return string(b)
}

func TestFilesReadWriteTruncate(t *testing.T) {
	implementations(t, func(t *testing.T, fsys vfs.FS, dir string) {
		name := filepath.Join(dir, "a", "f")
		f := mustCreate(t, fsys, name, "hello")
		if _, err := f.Write([]byte(" world")); err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte("J"), 0); err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, fsys, name); got != "Jello world" {
			t.Fatalf("content %q", got)
		}
		b := make([]byte, 4)
		if n, err := f.ReadAt(b, 9); n != 2 || !errors.Is(err, io.EOF) {
			t.Fatalf("ReadAt past the end = %d, %v; want 2, EOF", n, err)
		}
		if err := f.Truncate(3); err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(6); err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, fsys, name); got != "Jel\x00\x00\x00" {
			t.Fatalf("after shrink and grow %q", got)
		}
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		st, err := fsys.Stat(name)
		if err != nil || st.Size() != 6 || st.Name() != "f" || st.IsDir() {
			t.Fatalf("Stat = %v, %v", st, err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte("x")); err == nil {
			t.Fatal("Write after Close succeeded")
		}
	})
}

func TestOpenFlags(t *testing.T) {
	implementations(t, func(t *testing.T, fsys vfs.FS, dir string) {
		name := filepath.Join(dir, "f")
		if _, err := fsys.OpenFile(name, os.O_RDONLY, 0); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("open missing = %v", err)
		}
		if _, err := fsys.OpenFile(filepath.Join(dir, "nodir", "f"), os.O_RDWR|os.O_CREATE, 0o644); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("create in a missing dir = %v", err)
		}
		mustCreate(t, fsys, name, "abc").Close()
		if _, err := fsys.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("O_EXCL on existing = %v", err)
		}
		f, err := fsys.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte("d")); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if got := readAll(t, fsys, name); got != "abcd" {
			t.Fatalf("after O_APPEND %q", got)
		}
		f, err = fsys.OpenFile(name, os.O_RDWR|os.O_TRUNC, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if got := readAll(t, fsys, name); got != "" {
			t.Fatalf("after O_TRUNC %q", got)
		}
		if err := fsys.MkdirAll(filepath.Join(name, "sub"), 0o755); !errors.Is(err, syscall.ENOTDIR) {
			t.Fatalf("MkdirAll through a file = %v", err)
		}
	})
}

func TestDirectories(t *testing.T) {
	implementations(t, func(t *testing.T, fsys vfs.FS, dir string) {
		sub := filepath.Join(dir, "d")
		for _, n := range []string{"c", "a", "b"} {
			mustCreate(t, fsys, filepath.Join(sub, n), n).Close()
		}
		if err := fsys.MkdirAll(filepath.Join(sub, "e"), 0o755); err != nil {
			t.Fatal(err)
		}
		entries, err := fsys.ReadDir(sub)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
			if e.IsDir() != (e.Name() == "e") {
				t.Fatalf("%s IsDir = %v", e.Name(), e.IsDir())
			}
		}
		if got := filepath.Join(names...); got != filepath.Join("a", "b", "c", "e") {
			t.Fatalf("ReadDir = %v", names)
		}
		if err := fsys.Rename(filepath.Join(sub, "a"), filepath.Join(sub, "b")); err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, fsys, filepath.Join(sub, "b")); got != "a" {
			t.Fatalf("renamed over b: %q", got)
		}
		if _, err := fsys.Stat(filepath.Join(sub, "a")); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Stat of the old name = %v", err)
		}
		if err := fsys.Rename(filepath.Join(sub, "a"), filepath.Join(sub, "z")); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Rename of a missing file = %v", err)
		}
		if err := fsys.Remove(sub); err == nil {
			t.Fatal("Remove of a non-empty directory succeeded")
		}
		if err := fsys.Remove(filepath.Join(sub, "c")); err != nil {
			t.Fatal(err)
		}
		if err := fsys.Remove(filepath.Join(sub, "c")); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("second Remove = %v", err)
		}
		if err := fsys.SyncDir(sub); err != nil {
			t.Fatal(err)
		}
		if err := fsys.RemoveAll(sub); err != nil {
			t.Fatal(err)
		}
		if err := fsys.RemoveAll(sub); err != nil {
			t.Fatalf("RemoveAll of a missing path = %v", err)
		}
		if _, err := fsys.ReadDir(sub); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("ReadDir after RemoveAll = %v", err)
		}
	})
}

func TestMappingSharesBytesWithTheFile(t *testing.T) {
	implementations(t, func(t *testing.T, fsys vfs.FS, dir string) {
		name := filepath.Join(dir, "m")
		f := mustCreate(t, fsys, name, "")
		defer f.Close()
		const size = 3 * 4096
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		if err := f.Allocate(0, size); err != nil {
			t.Fatal(err)
		}
		m, err := f.Mmap(size)
		if err != nil {
			t.Fatal(err)
		}
		b := m.Bytes()
		if len(b) != size {
			t.Fatalf("mapping is %d bytes", len(b))
		}
		copy(b[5000:], "mapped")
		got := make([]byte, 6)
		if _, err := f.ReadAt(got, 5000); err != nil || string(got) != "mapped" {
			t.Fatalf("ReadAt sees %q, %v", got, err)
		}
		if _, err := f.WriteAt([]byte("written"), 9000); err != nil {
			t.Fatal(err)
		}
		if string(b[9000:9007]) != "written" {
			t.Fatalf("mapping sees %q", b[9000:9007])
		}
		if err := m.Sync(5000, 6); err != nil {
			t.Fatal(err)
		}
		if err := m.Unmap(); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Mmap(size + 1); fsys != vfs.Default && err == nil {
			t.Fatal("faultfs mapped past the end of the file")
		}
	})
}

func TestAllocateKeepsContentAndGrows(t *testing.T) {
	implementations(t, func(t *testing.T, fsys vfs.FS, dir string) {
		name := filepath.Join(dir, "f")
		f := mustCreate(t, fsys, name, "keep")
		defer f.Close()
		if err := f.Allocate(0, 10000); err != nil {
			t.Fatal(err)
		}
		st, _ := f.Stat()
		if st.Size() != 10000 {
			t.Fatalf("size after Allocate %d", st.Size())
		}
		if got := readAll(t, fsys, name); got[:4] != "keep" || got[4:] != string(make([]byte, 9996)) {
			t.Fatal("Allocate changed the content")
		}
		if err := f.Allocate(100, 10); err != nil {
			t.Fatal(err)
		}
		if st, _ := f.Stat(); st.Size() != 10000 {
			t.Fatalf("Allocate inside the file changed its size to %d", st.Size())
		}
	})
}

func TestLockIsExclusive(t *testing.T) {
	implementations(t, func(t *testing.T, fsys vfs.FS, dir string) {
		if err := fsys.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		name := filepath.Join(dir, "lock")
		l, err := fsys.Lock(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fsys.Lock(name); err == nil {
			t.Fatal("second Lock succeeded")
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		l2, err := fsys.Lock(name)
		if err != nil {
			t.Fatalf("Lock after Close: %v", err)
		}
		l2.Close()
	})
}

func TestDiskUsage(t *testing.T) {
	implementations(t, func(t *testing.T, fsys vfs.FS, dir string) {
		if err := fsys.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		used, total, err := fsys.DiskUsage(dir)
		if err != nil || total == 0 || used > total {
			t.Fatalf("DiskUsage = %d, %d, %v", used, total, err)
		}
	})
}

// The zero-copy bytes a test wrote are what a later open reads: a check
// that the handle caches nothing.
func TestTwoHandlesSeeOneFile(t *testing.T) {
	implementations(t, func(t *testing.T, fsys vfs.FS, dir string) {
		name := filepath.Join(dir, "f")
		a := mustCreate(t, fsys, name, "one")
		defer a.Close()
		b, err := fsys.OpenFile(name, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if _, err := b.WriteAt([]byte("two"), 0); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 3)
		if _, err := a.ReadAt(got, 0); err != nil || !bytes.Equal(got, []byte("two")) {
			t.Fatalf("first handle reads %q, %v", got, err)
		}
	})
}
