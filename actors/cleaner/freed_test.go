package cleaner

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/actormq/actormq/internal/testkit"
)

// usageDisk reports usage from the fake log's file count (1 % a file), so
// that deletions free space as they would on a disk.
type usageDisk struct{ log *fakeLog }

func (d usageDisk) DiskUsageRatio() (float64, error) {
	d.log.mu.Lock()
	defer d.log.mu.Unlock()
	return float64(d.log.fileCount) / 100, nil
}

// TestDiskFullClearedByTheRoundThatFreedSpace: at 95 % the first round
// marks the disk full and force-deletes ten files (85 % left); the same
// round, not the next one an Interval later, clears the mark, and tells
// OnFilesDeleted (the writer's probe).
func TestDiskFullClearedByTheRoundThatFreedSpace(t *testing.T) {
	type event struct {
		round int // rounds started (clock reads) when it happened
		what  string
	}
	var (
		mu     sync.Mutex
		rounds int
		events []event
	)
	clk := newClock(13)
	note := func(what string) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, event{rounds, what})
	}
	log := &fakeLog{fileCount: 95, fileSize: 1 << 10}
	cfg := Config{
		Broker: testBroker(), Interval: testInterval, Logger: zerolog.Nop(),
		Now: func() time.Time { // one read per round, its first step
			mu.Lock()
			rounds++
			mu.Unlock()
			return clk.Now()
		},
		OnDiskFull: func(full bool) {
			if full {
				note("full")
			} else {
				note("not full")
			}
		},
		OnFilesDeleted: func() { note("deleted") },
	}
	c, err := Spawn(testkit.ActorSystem(t), cfg, log, &fakeQueues{}, usageDisk{log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(testkit.Context(t)); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	testkit.Eventually(t, "the disk no longer full", func() bool { return !c.DiskFull() && log.numCalls() > 0 })
	mu.Lock()
	got := append([]event(nil), events...)
	mu.Unlock()
	want := []event{{1, "full"}, {1, "not full"}, {1, "deleted"}}
	if !reflect.DeepEqual(got[:min(len(got), 3)], want) {
		t.Fatalf("events %v, want %v first", got, want)
	}
}
