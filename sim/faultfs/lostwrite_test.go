package faultfs_test

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/actormq/actormq/sim/faultfs"
)

// A KindLostWrite msync fails with EIO and leaves its pages clean but not
// durable: the bytes read back (no Crash), a later msync of unchanged
// pages makes nothing durable, and a page becomes dirty again by a WriteAt
// (even of equal bytes) or by a store through the mapping that changes it.
func TestLostWriteLeavesPagesCleanButNotDurable(t *testing.T) {
	fsys := faultfs.New(1)
	const name = "/data/f"
	f := mustCreate(t, fsys, name, "")
	const size = 3 * 4096
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if err := f.Allocate(0, size); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"/", "/data"} {
		if err := fsys.SyncDir(d); err != nil {
			t.Fatal(err)
		}
	}
	m, err := f.Mmap(size)
	if err != nil {
		t.Fatal(err)
	}
	b := m.Bytes()
	copy(b[0:], "page0")
	copy(b[4096:], "page1")
	copy(b[8192:], "page2")
	fsys.Inject(faultfs.Rule{Ops: faultfs.OpMsync, Kind: faultfs.KindLostWrite, Nth: 1})
	if err := m.Sync(0, size); !errors.Is(err, syscall.EIO) {
		t.Fatalf("msync: %v, want EIO", err)
	}
	if ev := fsys.Events(); len(ev) != 1 || ev[0].Kind != faultfs.KindLostWrite {
		t.Fatalf("events %v, want the lost write", ev)
	}
	if got := readAll(t, fsys, name); !strings.HasPrefix(got, "page0") {
		t.Fatalf("read back %q after the lost write, want the bytes written", got[:5])
	}
	if err := m.Sync(0, size); err != nil { // clean pages: writes nothing
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("page1"), 4096); err != nil { // equal bytes
		t.Fatal(err)
	}
	copy(b[8192:], "PAGE2")
	if err := m.Sync(0, size); err != nil {
		t.Fatal(err)
	}
	after := fsys.Crash()
	got := readAll(t, after, name)
	if got[0:5] != "\x00\x00\x00\x00\x00" || got[4096:4101] != "page1" || got[8192:8197] != "PAGE2" {
		t.Fatalf("after the crash pages begin %q %q %q, want zeros, page1, PAGE2", got[0:5], got[4096:4101], got[8192:8197])
	}
}
