package index

import (
	"errors"
	"fmt"
	"slices"
	"syscall"
	"testing"

	"github.com/actormq/actormq/sim/faultfs"
)

// An index flush torn by a power cut or a device error (a prefix of the
// file durable: header and slots, not all the items they name): after the
// crash, TruncateFrom drops the items that did not make it and repairs the
// slots, every key indexed before the last good flush is still found, and
// re-indexing from EndPhyOffset restores the rest.
func TestTornFlushIsRepairedOnRecovery(t *testing.T) {
	for seed := range uint64(60) {
		// Each of the flush's two msyncs (items and slots, then the
		// header) is torn in turn; 2000 slots span several sectors.
		step := int64(seed%2) + 1
		t.Run(fmt.Sprintf("seed%d/msync%d", seed, step), func(t *testing.T) {
			fs := faultfs.New(seed)
			clock := newClock()
			cfg := Config{Dir: "/store/index", HashSlots: 2000, MaxItems: 64, Now: clock.Now, FS: fs}
			x, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			key := func(i int) string { return fmt.Sprintf("k%d", i) }
			phys := func(i int) int64 { return 100 + 100*int64(i) }
			ts := clock.now.UnixMilli()
			for i := range 10 {
				mustPut(t, x, "T", key(i), phys(i), ts)
			}
			if err := x.Flush(); err != nil {
				t.Fatal(err)
			}
			for i := 10; i < 20; i++ {
				mustPut(t, x, "T", key(i), phys(i), ts)
			}
			fs.Inject(faultfs.Rule{Ops: faultfs.OpMsync, Nth: step, Kind: faultfs.KindTorn})
			if err := x.Flush(); !errors.Is(err, syscall.EIO) {
				t.Fatalf("torn Flush = %v", err)
			}

			cfg.FS = fs.Crash()
			x = openTest(t, cfg)
			logEnd := phys(20) // the commit log kept every record
			if err := x.TruncateFrom(logEnd); err != nil {
				t.Fatal(err)
			}
			for i := range 10 {
				if got := x.Query("T", key(i), 10, 0, ts+1000); !slices.Contains(got, phys(i)) {
					t.Fatalf("key %d, flushed before the torn flush, not found: %v", i, got)
				}
			}
			// The index actor re-indexes the log from EndPhyOffset.
			from := x.EndPhyOffset()
			for i := range 20 {
				if phys(i) >= from {
					if _, err := x.Put("T", key(i), phys(i), ts); err != nil {
						t.Fatal(err)
					}
				}
			}
			for i := range 20 {
				if got := x.Query("T", key(i), 10, 0, ts+1000); !slices.Equal(got, []int64{phys(i)}) {
					t.Fatalf("key %d after re-indexing: %v, want [%d]", i, got, phys(i))
				}
			}
		})
	}
}

// A full disk: Put fails with ENOSPC before storing anything into a page
// without blocks (which would be SIGBUS on Linux), the file takes space as
// it fills rather than at creation, and puts resume once space returns.
func TestPutOnAFullDisk(t *testing.T) {
	fs := faultfs.New(1)
	clock := newClock()
	// 40 + 4×4 + 20,000×20 bytes: seven 64 KiB chunks.
	x := openTest(t, Config{Dir: "/store/index", HashSlots: 4, MaxItems: 20_000, Now: clock.Now, FS: fs})
	ts := clock.now.UnixMilli()
	mustPut(t, x, "T", "k0", 100, ts)
	if used := fs.Used(); used > allocChunkBytes {
		t.Fatalf("a new file takes %d bytes of disk, want at most one chunk", used)
	}
	fs.SetCapacity(fs.Used())
	var err error
	i := 1
	for ; err == nil; i++ {
		if i > 20_000 {
			t.Fatal("the disk never filled")
		}
		_, err = x.Put("T", fmt.Sprintf("k%d", i), 100+int64(i)*100, ts)
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Put on a full disk = %v", err)
	}
	if err := x.Flush(); err != nil {
		t.Fatalf("Flush on a full disk: %v", err)
	}
	fs.SetCapacity(0)
	for j := i - 1; j < i+5; j++ {
		mustPut(t, x, "T", fmt.Sprintf("k%d", j), 100+int64(j)*100, ts)
	}
	for j := 0; j < i+5; j++ {
		if got := x.Query("T", fmt.Sprintf("k%d", j), 10, 0, ts+1000); !slices.Contains(got, 100+int64(j)*100) {
			t.Fatalf("key %d not found: %v", j, got)
		}
	}
	for _, e := range fs.Events() {
		if e.Kind == faultfs.KindUnbackedWrite {
			t.Fatalf("a mapped store had no space behind it: %v", e)
		}
	}
}
