package vfs

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
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

// The blocks reserved for root are neither used nor capacity: a file
// system of 100 blocks with 80 free, 10 of them allocatable without root,
// is 20 used of 30, as df shows it, not 90 of 100.
func TestStatfsUsageLeavesOutTheReserve(t *testing.T) {
	st := unix.Statfs_t{Bsize: 4096, Blocks: 100, Bfree: 80, Bavail: 10}
	used, capacity := statfsUsage(&st)
	if used != 20*4096 || capacity != 30*4096 {
		t.Fatalf("used, capacity = %d, %d blocks; want 20, 30", used/4096, capacity/4096)
	}
	// Without a reserve the capacity is the whole file system.
	st = unix.Statfs_t{Bsize: 4096, Blocks: 100, Bfree: 80, Bavail: 80}
	if used, capacity := statfsUsage(&st); used != 20*4096 || capacity != 100*4096 {
		t.Fatalf("no reserve: used, capacity = %d, %d blocks; want 20, 100", used/4096, capacity/4096)
	}
}

// DiskUsage of a real directory agrees with df's arithmetic on the same
// statfs: the capacity is what is used plus what is available.
func TestDiskUsageOfATempDir(t *testing.T) {
	dir := t.TempDir()
	used, capacity, err := Default.DiskUsage(dir)
	if err != nil {
		t.Fatal(err)
	}
	if used == 0 || capacity <= used {
		t.Fatalf("used %d, capacity %d", used, capacity)
	}
}
