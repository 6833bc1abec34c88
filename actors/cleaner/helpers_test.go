package cleaner

import (
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/internal/testkit"
)

// testInterval keeps rounds frequent; tests count rounds, never sleep.
const testInterval = 5 * time.Millisecond

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(hour int) *clock {
	return &clock{now: time.Date(2024, 5, 6, hour, 30, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) setHour(h int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = time.Date(c.now.Year(), c.now.Month(), c.now.Day(), h, 30, 0, 0, time.UTC)
}

// deleteCall is one recorded DeleteExpiredFiles call.
type deleteCall struct {
	expiredBefore time.Time
	force         bool
	maxFiles      int
}

// fakeLog deletes from a stack of fileCount files of fileSize bytes, never
// the last one, like the real CommitLog; err is returned with the count.
type fakeLog struct {
	mu        sync.Mutex
	calls     []deleteCall
	fileCount int
	fileSize  int64
	minOffset int64
	err       error
}

func (l *fakeLog) DeleteExpiredFiles(expiredBefore time.Time, force bool, maxFiles int) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, deleteCall{expiredBefore, force, maxFiles})
	n := min(maxFiles, max(l.fileCount-1, 0))
	l.fileCount -= n
	l.minOffset += int64(n) * l.fileSize
	return n, l.err
}

func (l *fakeLog) MinOffset() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.minOffset
}

func (l *fakeLog) callsCopy() []deleteCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]deleteCall(nil), l.calls...)
}

func (l *fakeLog) numCalls() int { return len(l.callsCopy()) }

func (l *fakeLog) addFiles(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fileCount += n
}

// fakeQueues records DeleteBelow arguments.
type fakeQueues struct {
	mu    sync.Mutex
	calls []int64
}

func (q *fakeQueues) DeleteBelow(min int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls = append(q.calls, min)
}

func (q *fakeQueues) callsCopy() []int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]int64(nil), q.calls...)
}

// fakeDisk reports a settable ratio and counts calls (one per round); a
// panicNext makes the next call panic, as a broken seam would.
type fakeDisk struct {
	mu        sync.Mutex
	ratio     float64
	err       error
	calls     int
	panicNext bool
	gate      chan struct{} // when set, a call waits until it is closed
}

func (d *fakeDisk) DiskUsageRatio() (float64, error) {
	d.mu.Lock()
	d.calls++
	gate := d.gate
	if d.panicNext {
		d.panicNext = false
		d.mu.Unlock()
		panic("fake disk broken")
	}
	ratio, err := d.ratio, d.err
	d.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return ratio, err
}

func (d *fakeDisk) setPanicNext() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.panicNext = true
}

func (d *fakeDisk) setGate(g chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gate = g
}

func (d *fakeDisk) set(ratio float64, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ratio, d.err = ratio, err
}

func (d *fakeDisk) numCalls() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls
}

// waitRounds waits until n more rounds have started. Round k+1 starts only
// after round k ended, so everything round k did is visible afterwards.
func (d *fakeDisk) waitRounds(t *testing.T, n int) {
	t.Helper()
	target := d.numCalls() + n
	testkit.Eventually(t, "cleaner rounds", func() bool { return d.numCalls() >= target })
}

// fullEvents records OnDiskFull calls.
type fullEvents struct {
	mu     sync.Mutex
	events []bool
}

func (f *fullEvents) on(full bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, full)
}

func (f *fullEvents) copy() []bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]bool(nil), f.events...)
}

// rig is one cleaner over fakes.
type rig struct {
	c      *Cleaner
	clock  *clock
	log    *fakeLog
	queues *fakeQueues
	disk   *fakeDisk
	full   *fullEvents
}

const testReserved = 48 * time.Hour

func testBroker() config.Broker {
	return config.Broker{
		FileReservedTime:        testReserved,
		DeleteWhen:              []int{4},
		DiskMaxUsedSpaceRatio:   75,
		CleanFileForciblyEnable: true,
	}
}

// startRig spawns a cleaner at hour with ratio; edit adjusts the config.
func startRig(t *testing.T, hour int, ratio float64, edit func(*Config)) *rig {
	t.Helper()
	r := &rig{
		clock:  newClock(hour),
		log:    &fakeLog{fileCount: 100, fileSize: 1 << 10},
		queues: &fakeQueues{},
		disk:   &fakeDisk{ratio: ratio},
		full:   &fullEvents{},
	}
	cfg := Config{Broker: testBroker(), Interval: testInterval, Now: r.clock.Now,
		OnDiskFull: r.full.on, Logger: zerolog.Nop()}
	if edit != nil {
		edit(&cfg)
	}
	c, err := Spawn(testkit.ActorSystem(t), cfg, r.log, r.queues, r.disk)
	if err != nil {
		t.Fatalf("Spawn: %v", err)
	}
	r.c = c
	t.Cleanup(func() {
		if err := c.Stop(testkit.Context(t)); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return r
}
