package faultfs_test

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/actormq/actormq/sim/faultfs"
)

func kinds(events []faultfs.Event) []faultfs.Kind {
	var out []faultfs.Kind
	for _, e := range events {
		out = append(out, e.Kind)
	}
	return out
}

func TestNthSyncFails(t *testing.T) {
	fsys := faultfs.New(1)
	f := mustCreate(t, fsys, "/f", "x")
	fsys.Inject(faultfs.Rule{Ops: faultfs.OpsSync, Nth: 3, Kind: faultfs.KindEIO})
	var errs []error
	for range 4 {
		errs = append(errs, f.Sync())
	}
	for i, err := range errs {
		if (i == 2) != errors.Is(err, syscall.EIO) || (i != 2 && err != nil) {
			t.Fatalf("sync %d = %v; want EIO only for the third", i+1, err)
		}
	}
	ev := fsys.Events()
	if len(ev) != 1 || ev[0].Kind != faultfs.KindEIO || ev[0].Op != faultfs.OpSync || ev[0].Path != "/f" {
		t.Fatalf("events %v", ev)
	}
}

func TestErrorFaultsChangeNothing(t *testing.T) {
	for _, k := range []faultfs.Kind{faultfs.KindEIO, faultfs.KindENOSPC} {
		fsys := faultfs.New(1)
		f := mustCreate(t, fsys, "/f", "old")
		want := map[faultfs.Kind]syscall.Errno{faultfs.KindEIO: syscall.EIO, faultfs.KindENOSPC: syscall.ENOSPC}[k]
		fsys.Inject(faultfs.Rule{Ops: faultfs.OpWrite | faultfs.OpRename, Kind: k})
		if _, err := f.WriteAt([]byte("new"), 0); !errors.Is(err, want) {
			t.Fatalf("%v: WriteAt = %v", k, err)
		}
		if err := fsys.Rename("/f", "/g"); !errors.Is(err, want) {
			t.Fatalf("%v: Rename = %v", k, err)
		}
		fsys.ClearRules()
		if got := readAll(t, fsys, "/f"); got != "old" {
			t.Fatalf("%v: content %q", k, got)
		}
	}
}

func TestShortWriteStoresAPrefix(t *testing.T) {
	fsys := faultfs.New(7)
	f := mustCreate(t, fsys, "/f", "")
	fsys.Inject(faultfs.Rule{Ops: faultfs.OpWrite, Kind: faultfs.KindShortWrite, Limit: 1})
	data := []byte("0123456789abcdef")
	n, err := f.WriteAt(data, 0)
	if !errors.Is(err, io.ErrShortWrite) || n >= len(data) {
		t.Fatalf("WriteAt = %d, %v; want a short count and io.ErrShortWrite", n, err)
	}
	if got := readAll(t, fsys, "/f"); got != string(data[:n]) {
		t.Fatalf("stored %q, want the prefix %q", got, data[:n])
	}
	if n2, err := f.WriteAt(data, 0); n2 != len(data) || err != nil {
		t.Fatalf("write after Limit = %d, %v", n2, err)
	}
}

func TestTornSyncPersistsAPrefixAndFails(t *testing.T) {
	for seed := range uint64(20) {
		fsys := faultfs.New(seed)
		f := mustCreate(t, fsys, "/seg", "")
		fsys.SyncDir("/")
		if err := f.Truncate(4096); err != nil {
			t.Fatal(err)
		}
		if err := f.Allocate(0, 4096); err != nil {
			t.Fatal(err)
		}
		m, _ := f.Mmap(4096)
		rec := bytes.Repeat([]byte{0xab}, 1000)
		copy(m.Bytes()[100:], rec)
		fsys.Inject(faultfs.Rule{Ops: faultfs.OpMsync, Kind: faultfs.KindTorn})
		if err := m.Sync(100, 1000); !errors.Is(err, syscall.EIO) {
			t.Fatalf("torn msync = %v", err)
		}
		got := readAll(t, fsys.Crash(), "/seg")
		kept := len(got) - 100
		if kept < 0 {
			kept = 0
		}
		kept = min(kept, 1000)
		if !bytes.Equal([]byte(got[100:100+kept]), rec[:kept]) || bytes.ContainsRune([]byte(got[100+kept:]), 0xab) {
			t.Fatalf("seed %d: durable bytes are not a prefix of the record", seed)
		}
	}
}

func TestSlowSync(t *testing.T) {
	fsys := faultfs.New(1)
	f := mustCreate(t, fsys, "/f", "x")
	const delay = 20 * time.Millisecond
	fsys.Inject(faultfs.Rule{Ops: faultfs.OpSync, Kind: faultfs.KindDelay, Delay: delay})
	start := time.Now()
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	// A lower bound only: time.Sleep never returns early.
	if time.Since(start) < delay {
		t.Fatal("the sync was not delayed")
	}
	if got := kinds(fsys.Events()); !slices.Equal(got, []faultfs.Kind{faultfs.KindDelay}) {
		t.Fatalf("events %v", got)
	}
}

func TestBitFlipOnRead(t *testing.T) {
	fsys := faultfs.New(3)
	f := mustCreate(t, fsys, "/f", "aaaaaaaa")
	fsys.Inject(faultfs.Rule{Ops: faultfs.OpRead, Kind: faultfs.KindBitFlip, Limit: 1})
	b := make([]byte, 8)
	if _, err := f.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	diff := 0
	for _, c := range b {
		for x := c ^ 'a'; x != 0; x &= x - 1 {
			diff++
		}
	}
	if diff != 1 {
		t.Fatalf("%d bits differ, want 1", diff)
	}
	if got := readAll(t, fsys, "/f"); got != "aaaaaaaa" {
		t.Fatalf("the stored bytes changed: %q", got)
	}
}

func TestFlipBitChangesStoredAndDurableBytes(t *testing.T) {
	fsys := faultfs.New(3)
	f := mustCreate(t, fsys, "/f", "aaaa")
	f.Sync()
	fsys.SyncDir("/")
	if err := fsys.FlipBit("/f", 2, 1); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, fsys, "/f"); got != "aaca" {
		t.Fatalf("live %q", got)
	}
	if got := readAll(t, fsys.Crash(), "/f"); got != "aaca" {
		t.Fatalf("after crash %q", got)
	}
}

func TestCapacity(t *testing.T) {
	fsys := faultfs.New(1)
	fsys.SetCapacity(3 * 4096)
	f := mustCreate(t, fsys, "/f", "")
	// Sparse: a size without data takes no space.
	if err := f.Truncate(1 << 20); err != nil {
		t.Fatalf("Truncate on a small disk: %v", err)
	}
	if fsys.Used() != 0 {
		t.Fatalf("Used after Truncate %d", fsys.Used())
	}
	if err := f.Allocate(0, 4*4096); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Allocate past capacity = %v", err)
	}
	if fsys.Used() != 0 {
		t.Fatalf("a failed Allocate took %d bytes", fsys.Used())
	}
	if err := f.Allocate(0, 2*4096); err != nil {
		t.Fatal(err)
	}
	n, err := f.WriteAt(make([]byte, 3*4096), 8192)
	if n != 4096 || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("WriteAt past capacity = %d, %v; want the page that fits and ENOSPC", n, err)
	}
	// Writing allocated pages needs no space.
	if _, err := f.WriteAt([]byte("fits"), 0); err != nil {
		t.Fatal(err)
	}
	fsys.SetCapacity(0)
	if _, err := f.WriteAt(make([]byte, 4096), 3*4096); err != nil {
		t.Fatalf("after SetCapacity(0): %v", err)
	}
	if err := fsys.Remove("/f"); err != nil {
		t.Fatal(err)
	}
	if fsys.Used() != 0 {
		t.Fatalf("Used after Remove %d", fsys.Used())
	}
	if got := kinds(fsys.Events()); !slices.Equal(got, []faultfs.Kind{faultfs.KindFull, faultfs.KindFull}) {
		t.Fatalf("events %v", got)
	}
}

func TestUnbackedMappedWriteIsReported(t *testing.T) {
	fsys := faultfs.New(1)
	f := mustCreate(t, fsys, "/seg", "")
	if err := f.Truncate(4 * 4096); err != nil {
		t.Fatal(err)
	}
	m, _ := f.Mmap(4 * 4096)
	fsys.SetCapacity(4096)
	copy(m.Bytes(), "ok")
	if err := m.Sync(0, 2); err != nil {
		t.Fatalf("first page fits: %v", err)
	}
	copy(m.Bytes()[8192:], "no room")
	if err := m.Sync(8192, 7); !errors.Is(err, syscall.EFAULT) {
		t.Fatalf("msync of an unbacked page = %v", err)
	}
	if got := kinds(fsys.Events()); !slices.Equal(got, []faultfs.Kind{faultfs.KindUnbackedWrite}) {
		t.Fatalf("events %v", got)
	}
}

func TestCrashFault(t *testing.T) {
	fsys := faultfs.New(1)
	f := mustCreate(t, fsys, "/f", "v1")
	f.Sync()
	fsys.SyncDir("/")
	fsys.Inject(faultfs.Rule{Ops: faultfs.OpWrite, Nth: 1, Kind: faultfs.KindCrash})
	if _, err := f.WriteAt([]byte("v2"), 0); !errors.Is(err, faultfs.ErrCrashed) {
		t.Fatalf("WriteAt = %v", err)
	}
	if err := f.Sync(); !errors.Is(err, faultfs.ErrCrashed) {
		t.Fatalf("later Sync = %v", err)
	}
	if got := readAll(t, fsys.Crash(), "/f"); got != "v1" {
		t.Fatalf("after crash %q", got)
	}
}

// The same seed and operations give the same faults.
func TestFaultsAreDeterministic(t *testing.T) {
	run := func(seed uint64) []faultfs.Event {
		fsys := faultfs.New(seed)
		f := mustCreate(t, fsys, "/f", "")
		fsys.Inject(faultfs.Rule{Ops: faultfs.OpWrite, Kind: faultfs.KindShortWrite, Probability: 0.3})
		fsys.Inject(faultfs.Rule{Ops: faultfs.OpWrite, Kind: faultfs.KindEIO, Probability: 0.2})
		for i := range 200 {
			f.WriteAt(make([]byte, 100), int64(i*100))
		}
		return fsys.Events()
	}
	a, b, c := run(42), run(42), run(43)
	if !slices.Equal(a, b) {
		t.Fatal("same seed, different faults")
	}
	if len(a) == 0 || slices.Equal(a, c) {
		t.Fatalf("seeds 42 and 43 give %d and %d events, identical: %v", len(a), len(c), slices.Equal(a, c))
	}
}

func TestPathFilter(t *testing.T) {
	fsys := faultfs.New(1)
	a := mustCreate(t, fsys, "/commitlog/0", "")
	b := mustCreate(t, fsys, "/config/x", "")
	fsys.Inject(faultfs.Rule{Ops: faultfs.OpSync, Path: "/commitlog/", Kind: faultfs.KindEIO})
	if err := a.Sync(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("commit log sync = %v", err)
	}
	if err := b.Sync(); err != nil {
		t.Fatalf("config sync = %v", err)
	}
}
