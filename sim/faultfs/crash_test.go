package faultfs_test

import (
	"errors"
	"io/fs"
	"os"
	"testing"

	"github.com/actormq/actormq/sim/faultfs"
)

// exists reports whether name is on fsys, failing on other errors.
func exists(t *testing.T, fsys *faultfs.FS, name string) bool {
	t.Helper()
	_, err := fsys.Stat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

func TestCrashKeepsOnlySyncedData(t *testing.T) {
	fsys := faultfs.New(1)
	f := mustCreate(t, fsys, "/d/f", "synced")
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := fsys.SyncDir("/d"); err != nil {
		t.Fatal(err)
	}
	if err := fsys.SyncDir("/"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("LOST"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte(" and lost")); err != nil {
		t.Fatal(err)
	}
	g := mustCreate(t, fsys, "/d/g", "never in a synced dir")
	if err := g.Sync(); err != nil {
		t.Fatal(err)
	}

	after := fsys.Crash()
	if got := readAll(t, after, "/d/f"); got != "synced" {
		t.Fatalf("after crash /d/f = %q", got)
	}
	if exists(t, after, "/d/g") {
		t.Fatal("a file whose directory entry was never synced survived")
	}
	// The old FS is dead for everyone still using it.
	if _, err := f.WriteAt([]byte("x"), 0); !errors.Is(err, faultfs.ErrCrashed) {
		t.Fatalf("write on the crashed FS = %v", err)
	}
	if _, err := fsys.Stat("/d/f"); !errors.Is(err, faultfs.ErrCrashed) {
		t.Fatalf("Stat on the crashed FS = %v", err)
	}
	// The new FS is whole and writable.
	h := mustCreate(t, after, "/d/h", "new")
	h.Close()
}

func TestCrashKeepsSyncedMappingRangesAndSize(t *testing.T) {
	fsys := faultfs.New(1)
	f := mustCreate(t, fsys, "/seg", "")
	if err := fsys.SyncDir("/"); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(8192); err != nil {
		t.Fatal(err)
	}
	m, err := f.Mmap(8192)
	if err != nil {
		t.Fatal(err)
	}
	copy(m.Bytes()[0:], "durable")
	copy(m.Bytes()[100:], "volatile")
	if err := m.Sync(0, 7); err != nil {
		t.Fatal(err)
	}
	after := fsys.Crash()
	got := readAll(t, after, "/seg")
	if len(got) != 8192 {
		t.Fatalf("size after crash %d: msync makes the size durable", len(got))
	}
	if got[:7] != "durable" || got[100:108] != string(make([]byte, 8)) {
		t.Fatalf("after crash: %q ... %q", got[:7], got[100:108])
	}
}

func TestUnsyncedTruncateIsLost(t *testing.T) {
	fsys := faultfs.New(1)
	f := mustCreate(t, fsys, "/f", "abc")
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := fsys.SyncDir("/"); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(0); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, fsys.Crash(), "/f"); got != "abc" {
		t.Fatalf("after crash %q", got)
	}
}

func TestRenameIsDurableOnlyAfterSyncDir(t *testing.T) {
	setup := func() *faultfs.FS {
		fsys := faultfs.New(1)
		for _, n := range []string{"/cfg", "/cfg.tmp"} {
			f := mustCreate(t, fsys, n, n)
			if err := f.Sync(); err != nil {
				t.Fatal(err)
			}
		}
		if err := fsys.SyncDir("/"); err != nil {
			t.Fatal(err)
		}
		if err := fsys.Rename("/cfg", "/cfg.bak"); err != nil {
			t.Fatal(err)
		}
		if err := fsys.Rename("/cfg.tmp", "/cfg"); err != nil {
			t.Fatal(err)
		}
		return fsys
	}
	fsys := setup()
	if n := fsys.PendingDirChanges(); n != 2 {
		t.Fatalf("PendingDirChanges = %d, want the two renames", n)
	}
	// Every prefix of the two renames is a state a journal can leave.
	want := []struct{ cfg, bak, tmp string }{
		{cfg: "/cfg", tmp: "/cfg.tmp"},
		{bak: "/cfg", tmp: "/cfg.tmp"},
		{cfg: "/cfg.tmp", bak: "/cfg"},
	}
	for n, w := range want {
		after := setup().CrashKeeping(n)
		for name, content := range map[string]string{"/cfg": w.cfg, "/cfg.bak": w.bak, "/cfg.tmp": w.tmp} {
			if content == "" {
				if exists(t, after, name) {
					t.Fatalf("keeping %d: %s exists", n, name)
				}
				continue
			}
			if got := readAll(t, after, name); got != content {
				t.Fatalf("keeping %d: %s = %q, want %q", n, name, got, content)
			}
		}
	}
	if err := fsys.SyncDir("/"); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, fsys.Crash(), "/cfg"); got != "/cfg.tmp" {
		t.Fatalf("after SyncDir and crash /cfg = %q", got)
	}
}

func TestNewDirectoryNeedsItsParentSynced(t *testing.T) {
	fsys := faultfs.New(1)
	f := mustCreate(t, fsys, "/a/b/f", "x")
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := fsys.SyncDir("/a/b"); err != nil {
		t.Fatal(err)
	}
	if exists(t, fsys.Crash(), "/a") {
		t.Fatal("/a survived without a sync of /")
	}
}

func TestRemoveIsDurableOnlyAfterSyncDir(t *testing.T) {
	fsys := faultfs.New(1)
	f := mustCreate(t, fsys, "/f", "x")
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := fsys.SyncDir("/"); err != nil {
		t.Fatal(err)
	}
	if err := fsys.Remove("/f"); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, fsys.Crash(), "/f"); got != "x" {
		t.Fatalf("removed file after crash = %q", got)
	}
}

func TestCrashedFSStaysCrashedAndCopiesAgain(t *testing.T) {
	fsys := faultfs.New(1)
	f := mustCreate(t, fsys, "/f", "x")
	f.Sync()
	fsys.SyncDir("/")
	fsys.SetCapacity(1 << 20)
	a, b := fsys.Crash(), fsys.Crash()
	if readAll(t, a, "/f") != "x" || readAll(t, b, "/f") != "x" {
		t.Fatal("second crash copy differs")
	}
	if _, total, _ := a.DiskUsage("/"); total != 1<<20 {
		t.Fatalf("capacity after crash %d", total)
	}
	if _, err := fsys.OpenFile("/f", os.O_RDONLY, 0); !errors.Is(err, faultfs.ErrCrashed) {
		t.Fatalf("open on crashed FS = %v", err)
	}
}
