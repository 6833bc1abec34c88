package cleaner

import (
	"context"
	"errors"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/commitlog"
	"github.com/actormq/actormq/storage/store"
)

// The real seams satisfy the cleaner's interfaces.
var (
	_ CommitLog = (*commitlog.CommitLog)(nil)
	_ Disk      = (*store.Store)(nil)
)

func TestDecide(t *testing.T) {
	tests := []struct {
		name       string
		hour       int
		ratio      float64
		ratioKnown bool
		manual     bool
		forcible   bool // cleanFileForciblyEnable
		maxPercent int  // diskMaxUsedSpaceRatio
		want       plan
	}{
		{name: "quiet hour, low usage", hour: 3, ratio: 0.1, ratioKnown: true, forcible: true, maxPercent: 75},
		{name: "deleteWhen hour", hour: 4, ratio: 0.1, ratioKnown: true, forcible: true, maxPercent: 75,
			want: plan{delete: true}},
		{name: "second deleteWhen hour", hour: 16, ratio: 0.1, ratioKnown: true, forcible: true, maxPercent: 75,
			want: plan{delete: true}},
		{name: "usage at the max is not above it", hour: 3, ratio: 0.75, ratioKnown: true, forcible: true, maxPercent: 75},
		{name: "usage above the max", hour: 3, ratio: 0.76, ratioKnown: true, forcible: true, maxPercent: 75,
			want: plan{delete: true}},
		{name: "usage at 85 is not forcible", hour: 3, ratio: 0.85, ratioKnown: true, forcible: true, maxPercent: 75,
			want: plan{delete: true}},
		{name: "usage above 85 forces", hour: 3, ratio: 0.86, ratioKnown: true, forcible: true, maxPercent: 75,
			want: plan{delete: true, force: true}},
		{name: "force disabled", hour: 3, ratio: 0.95, ratioKnown: true, forcible: false, maxPercent: 75,
			want: plan{delete: true}},
		{name: "above 85 deletes even with a higher max", hour: 3, ratio: 0.86, ratioKnown: true, forcible: true, maxPercent: 95,
			want: plan{delete: true, force: true}},
		{name: "higher max without force", hour: 3, ratio: 0.86, ratioKnown: true, forcible: false, maxPercent: 95},
		{name: "manual trigger", hour: 3, ratio: 0.1, ratioKnown: true, manual: true, forcible: true, maxPercent: 75,
			want: plan{delete: true}},
		{name: "unknown usage never forces", hour: 3, ratio: 0.99, ratioKnown: false, forcible: true, maxPercent: 75},
		{name: "unknown usage at deleteWhen hour", hour: 4, ratio: 0, ratioKnown: false, forcible: true, maxPercent: 75,
			want: plan{delete: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Broker: testBroker()}
			cfg.Broker.DeleteWhen = []int{4, 16}
			cfg.Broker.CleanFileForciblyEnable = tt.forcible
			cfg.Broker.DiskMaxUsedSpaceRatio = tt.maxPercent
			now := time.Date(2024, 5, 6, tt.hour, 59, 0, 0, time.UTC)
			if got := decide(&cfg, now, tt.ratio, tt.ratioKnown, tt.manual); got != tt.want {
				t.Fatalf("decide = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDeletesOnlyAtDeleteWhenHour(t *testing.T) {
	r := startRig(t, 3, 0.1, nil)
	r.disk.waitRounds(t, 3)
	if n := r.log.numCalls(); n != 0 {
		t.Fatalf("%d deletions at hour 3, want none", n)
	}

	r.clock.setHour(4)
	testkit.Eventually(t, "a deletion at hour 4", func() bool { return r.log.numCalls() > 0 })
	want := deleteCall{expiredBefore: r.clock.Now().Add(-testReserved), force: false, maxFiles: 10}
	if got := r.log.callsCopy()[0]; got != want {
		t.Fatalf("call = %+v, want %+v", got, want)
	}

	r.clock.setHour(5)
	r.disk.waitRounds(t, 2) // the first may have read hour 4; the second reads 5
	before := r.log.numCalls()
	r.disk.waitRounds(t, 3)
	if n := r.log.numCalls(); n != before {
		t.Fatalf("%d deletions at hour 5, want none", n-before)
	}
}

func TestUsageTriggersDeletion(t *testing.T) {
	tests := []struct {
		name       string
		ratio      float64
		maxPercent int
		forcible   bool
		wantDelete bool
		wantForce  bool
	}{
		{name: "below the max", ratio: 0.70, maxPercent: 75, forcible: true},
		{name: "at the max", ratio: 0.75, maxPercent: 75, forcible: true},
		{name: "above the max", ratio: 0.80, maxPercent: 75, forcible: true, wantDelete: true},
		{name: "above 85", ratio: 0.86, maxPercent: 75, forcible: true, wantDelete: true, wantForce: true},
		{name: "above 85, force disabled", ratio: 0.86, maxPercent: 75, forcible: false, wantDelete: true},
		{name: "above 85 under a higher max", ratio: 0.86, maxPercent: 95, forcible: true, wantDelete: true, wantForce: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startRig(t, 13, tt.ratio, func(c *Config) {
				c.Broker.DiskMaxUsedSpaceRatio = tt.maxPercent
				c.Broker.CleanFileForciblyEnable = tt.forcible
			})
			if !tt.wantDelete {
				r.disk.waitRounds(t, 3)
				if n := r.log.numCalls(); n != 0 {
					t.Fatalf("%d deletions, want none", n)
				}
				return
			}
			testkit.Eventually(t, "a deletion", func() bool { return r.log.numCalls() > 0 })
			want := deleteCall{expiredBefore: r.clock.Now().Add(-testReserved), force: tt.wantForce, maxFiles: 10}
			if got := r.log.callsCopy()[0]; got != want {
				t.Fatalf("call = %+v, want %+v", got, want)
			}
		})
	}
}

func TestDeleteBelowFollowsDeletions(t *testing.T) {
	r := startRig(t, 13, 0.1, nil)
	r.log.mu.Lock()
	r.log.fileCount = 3 // two deletable, the newest stays
	r.log.mu.Unlock()
	r.disk.set(0.80, nil)
	testkit.Eventually(t, "DeleteBelow", func() bool { return len(r.queues.callsCopy()) > 0 })
	if got := r.queues.callsCopy(); !reflect.DeepEqual(got, []int64{2 << 10}) {
		t.Fatalf("DeleteBelow calls %v, want [2048]", got)
	}

	// Rounds that delete nothing do not touch the queues.
	calls := r.log.numCalls()
	r.disk.waitRounds(t, 3)
	if r.log.numCalls() <= calls {
		t.Fatal("no deletion rounds ran")
	}
	if got := r.queues.callsCopy(); len(got) != 1 {
		t.Fatalf("DeleteBelow calls %v after empty rounds, want one", got)
	}

	// A deletion that also fails still moved the min offset: tell the queues.
	r.log.mu.Lock()
	r.log.err = errors.New("sync dir failed")
	r.log.mu.Unlock()
	r.log.addFiles(1)
	testkit.Eventually(t, "DeleteBelow after a partial deletion", func() bool { return len(r.queues.callsCopy()) == 2 })
	if got := r.queues.callsCopy(); got[1] != 3<<10 {
		t.Fatalf("DeleteBelow calls %v, want second 3072", got)
	}
	// Failing rounds that delete nothing do not.
	r.disk.waitRounds(t, 3)
	if got := r.queues.callsCopy(); len(got) != 2 {
		t.Fatalf("DeleteBelow calls %v after failed empty rounds, want two", got)
	}
}

// TestIndexToldAfterDeletions: Config.Index gets the same min offset as
// the queues, once per round that deleted something.
func TestIndexToldAfterDeletions(t *testing.T) {
	index := &fakeQueues{}
	r := startRig(t, 13, 0.1, func(c *Config) { c.Index = index })
	r.log.mu.Lock()
	r.log.fileCount = 3
	r.log.mu.Unlock()
	r.disk.set(0.80, nil)
	testkit.Eventually(t, "index told", func() bool { return len(index.callsCopy()) > 0 })
	r.disk.waitRounds(t, 2)
	if got := index.callsCopy(); !reflect.DeepEqual(got, []int64{2 << 10}) {
		t.Fatalf("index DeleteBelow calls %v, want [2048]", got)
	}
}

func TestOnDiskFullToggles(t *testing.T) {
	r := startRig(t, 13, 0.5, nil)
	r.disk.waitRounds(t, 3)
	if ev := r.full.copy(); len(ev) != 0 || r.c.DiskFull() {
		t.Fatalf("events %v, DiskFull %v at 50 %%", ev, r.c.DiskFull())
	}
	steps := []struct {
		name  string
		ratio float64
		err   error
		want  []bool
		full  bool
	}{
		{name: "above 90", ratio: 0.95, want: []bool{true}, full: true},
		{name: "at 90 is not full", ratio: 0.90, want: []bool{true, false}},
		{name: "full again", ratio: 0.91, want: []bool{true, false, true}, full: true},
		{name: "unreadable keeps the state", err: errors.New("statfs failed"), want: []bool{true, false, true}, full: true},
		{name: "drops", ratio: 0.2, want: []bool{true, false, true, false}},
	}
	for _, s := range steps {
		r.disk.set(s.ratio, s.err)
		testkit.Eventually(t, s.name, func() bool { return len(r.full.copy()) >= len(s.want) })
		r.disk.waitRounds(t, 3) // no repeated event while the state holds
		if got := r.full.copy(); !reflect.DeepEqual(got, s.want) || r.c.DiskFull() != s.full {
			t.Fatalf("%s: events %v DiskFull %v, want %v %v", s.name, got, r.c.DiskFull(), s.want, s.full)
		}
	}
}

func TestTriggerDeleteRunsOneRound(t *testing.T) {
	r := startRig(t, 13, 0.1, nil)
	r.disk.waitRounds(t, 2)
	if n := r.log.numCalls(); n != 0 {
		t.Fatalf("%d deletions before the trigger", n)
	}
	r.c.TriggerDelete()
	testkit.Eventually(t, "the triggered deletion", func() bool { return r.log.numCalls() > 0 })
	r.disk.waitRounds(t, 3)
	calls := r.log.callsCopy()
	want := deleteCall{expiredBefore: r.clock.Now().Add(-testReserved), force: false, maxFiles: 10}
	if len(calls) != 1 || calls[0] != want {
		t.Fatalf("calls %+v, want one %+v", calls, want)
	}
	if got := r.queues.callsCopy(); !reflect.DeepEqual(got, []int64{10 << 10}) {
		t.Fatalf("DeleteBelow calls %v, want [10240]", got)
	}
}

func TestRestartAfterPanicKeepsDiskFull(t *testing.T) {
	r := startRig(t, 13, 0.95, nil)
	testkit.Eventually(t, "disk full", func() bool { return len(r.full.copy()) == 1 })
	r.disk.setPanicNext()
	r.disk.waitRounds(t, 4) // the panicking round, then rounds of the restarted actor
	if got := r.full.copy(); !reflect.DeepEqual(got, []bool{true}) {
		t.Fatalf("events %v after restart, want [true]", got)
	}
	r.disk.set(0.5, nil)
	testkit.Eventually(t, "disk no longer full", func() bool { return len(r.full.copy()) == 2 })
	if got := r.full.copy(); !reflect.DeepEqual(got, []bool{true, false}) || r.c.DiskFull() {
		t.Fatalf("events %v DiskFull %v, want [true false] false", got, r.c.DiskFull())
	}
}

func TestStopIdempotentNoGoroutineLeft(t *testing.T) {
	sys := testkit.ActorSystem(t)
	base := runtime.NumGoroutine()
	disk := &fakeDisk{ratio: 0.1}
	c, err := Spawn(sys, Config{Broker: testBroker(), Interval: testInterval, Now: newClock(4).Now, Logger: zerolog.Nop()},
		&fakeLog{fileCount: 5, fileSize: 1}, &fakeQueues{}, disk)
	if err != nil {
		t.Fatal(err)
	}
	disk.waitRounds(t, 3)
	c.TriggerDelete()
	for i := range 2 {
		if err := c.Stop(testkit.Context(t)); err != nil {
			t.Fatalf("Stop #%d: %v", i+1, err)
		}
	}
	c.TriggerDelete() // ignored, must not block or panic
	testkit.WaitGoroutines(t, base)
}

func TestStopWaitsForTheRoundInProgress(t *testing.T) {
	r := startRig(t, 13, 0.1, nil)
	gate := make(chan struct{})
	r.disk.setGate(gate)
	r.disk.waitRounds(t, 1) // a round is now blocked in DiskUsageRatio
	if err := r.c.Stop(testkit.ContextWithin(t, 20*time.Millisecond)); !errors.Is(err, ErrStopped) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop during a blocked round = %v, want ErrStopped wrapping DeadlineExceeded", err)
	}
	close(gate)
	if err := r.c.Stop(testkit.Context(t)); err != nil {
		t.Fatalf("Stop after the round: %v", err)
	}
}

func TestSpawnRejectsBadConfig(t *testing.T) {
	sys := testkit.ActorSystem(t)
	tests := []struct {
		name string
		edit func(*Config)
		nilQ bool
	}{
		{name: "nil queues", nilQ: true},
		{name: "negative interval", edit: func(c *Config) { c.Interval = -time.Second }},
		{name: "ratio above 100", edit: func(c *Config) { c.Broker.DiskMaxUsedSpaceRatio = 101 }},
		{name: "negative reserved time", edit: func(c *Config) { c.Broker.FileReservedTime = -time.Hour }},
		{name: "hour 24", edit: func(c *Config) { c.Broker.DeleteWhen = []int{4, 24} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Broker: testBroker()}
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			var q Queues = &fakeQueues{}
			if tt.nilQ {
				q = nil
			}
			if _, err := Spawn(sys, cfg, &fakeLog{}, q, &fakeDisk{}); !errors.Is(err, ErrConfig) {
				t.Fatalf("Spawn = %v, want ErrConfig", err)
			}
		})
	}
}

func TestValidateDefaults(t *testing.T) {
	var cfg Config
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Interval != 10*time.Second || cfg.Broker.DiskMaxUsedSpaceRatio != 75 || cfg.Now == nil {
		t.Fatalf("defaults: interval %v ratio %d now %v", cfg.Interval, cfg.Broker.DiskMaxUsedSpaceRatio, cfg.Now != nil)
	}
}
