package vfs_test

import (
	"testing"

	"github.com/actormq/actormq/sim/faultfs"
	"github.com/actormq/actormq/storage/vfs"
)

// New directories survive a crash once MkdirAllSynced returns; MkdirAll's
// do not.
func TestMkdirAllSyncedSurvivesACrash(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mkdir   func(fs *faultfs.FS, path string) error
		survive bool
	}{
		{"MkdirAll", func(fs *faultfs.FS, p string) error { return fs.MkdirAll(p, 0o755) }, false},
		{"MkdirAllSynced", func(fs *faultfs.FS, p string) error { return vfs.MkdirAllSynced(fs, p, 0o755) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := faultfs.New(1)
			if err := fs.MkdirAll("/store", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := fs.SyncDir("/"); err != nil {
				t.Fatal(err)
			}
			if err := tc.mkdir(fs, "/store/a/b"); err != nil {
				t.Fatal(err)
			}
			_, err := fs.Crash().Stat("/store/a/b")
			if (err == nil) != tc.survive {
				t.Fatalf("after the crash Stat = %v, want it to exist: %v", err, tc.survive)
			}
		})
	}
}

func TestMkdirAllSyncedOnExistingDirIsANoop(t *testing.T) {
	fs := faultfs.New(1)
	if err := vfs.MkdirAllSynced(fs, "/a", 0o755); err != nil {
		t.Fatal(err)
	}
	ops := fs.Ops()
	if err := vfs.MkdirAllSynced(fs, "/a", 0o755); err != nil {
		t.Fatal(err)
	}
	if n := fs.Ops() - ops; n != 1 {
		t.Fatalf("%d operations on an existing directory, want one Stat", n)
	}
}
