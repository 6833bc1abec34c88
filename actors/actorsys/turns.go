package actorsys

import (
	"runtime"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Turns is a dispatcher for actors of which there are many, each woken for
// a short turn (queue actors, send topic actors): mailbox turns wait in one
// FIFO and at most GOMAXPROCS drainers, run on Hot's workers, take them one
// after another. Each actor's mailbox still runs one turn at a time, so
// ownership and message order are what they are under any dispatcher; only
// the goroutine a turn runs on changes.
//
// Why: with 10,000 queues a writer group of ~100 sends wakes ~100 queue
// actors, and under Hot each wake-up was a pool hand-off that readied a
// parked worker (a channel send, a goroutine wake-up and often an OS thread
// wake-up): per message, not per group, once the queues outnumber the
// messages of a group. Under Turns a group costs at most GOMAXPROCS such
// hand-offs, and a drainer runs the turns back to back on a warm stack.
//
// A turn may block (a consume-queue file created or deleted, a pull reading
// cold records that fault in from disk). So that it delays only its own
// actor, a watchdog does what Go's sysmon does for a P stuck in a syscall:
// every turnsTick while turns wait, a drainer whose current turn began
// before the previous tick counts as stuck, and drainers are started until
// GOMAXPROCS are not stuck (at most turnsLimit in all). Extra drainers exit
// when the FIFO is empty, like the others. The watchdog's timer is armed
// only when a Schedule finds every drainer busy, and re-armed from its own
// callback while turns wait, so the common path (drainers keep up) costs a
// flag test under the FIFO lock, and idle Turns hold no goroutine and no
// armed timer.
// Rejected: Hot itself (a hand-off per wake-up, above); a drainer per
// turn-burst without a bound, which is Hot again; a watchdog that starts a
// drainer only when no turn at all was taken for a tick, which lets a
// backlog of slow turns (file creations of ~1 ms each on this VM, the
// 10,000-queue start-up) drain at one turn per tick while unrelated queues
// wait behind it for seconds; a time.Now per turn to date it, where an
// epoch counter bumped by the tick does.
type Turns struct {
	throughput int
	max        int // drainers not stuck in a turn: at most, and the watchdog's aim
	limit      int // drainers in all, stuck ones included
	// drainFn is d.drain, bound once: a method value handed to Hot.Schedule
	// would be a fresh closure on the heap for every drainer started.
	drainFn func()

	mu      sync.Mutex
	ready   []func() // queued turns, oldest at ready[head]
	head    int
	running int // drainers started and not yet finished

	// The watchdog's state. epoch counts ticks; fresh is the number of
	// drainers that took a turn during the current epoch (each counted
	// once), so running-fresh drainers are in a turn that began before
	// the last tick, or between two turns.
	watch *time.Timer // nil until first armed; then reused, stopped when idle
	armed bool
	epoch uint64
	fresh int
}

const (
	// turnsTick is how long turns may wait behind stuck drainers before
	// more start: sysmon's order of magnitude (20 µs–10 ms), longer than
	// any non-blocking turn, short against a consumer's patience.
	turnsTick = time.Millisecond
	// turnsLimitPerProc bounds the drainers at GOMAXPROCS×4 (8 at
	// least). Each stuck drainer holds an OS thread in a syscall or a page
	// fault, and a few extra are enough for the turns queued behind them.
	// More would not help the blocking turns themselves (file creations
	// measured no faster with more drainers: the kernel serializes them),
	// and on a saturated CPU a drainer the OS merely preempted for over a
	// tick also counts as stuck, so a high bound (the first one was 16
	// per proc, 64 at least) could fill up with drainers that add only
	// contention for the FIFO lock.
	turnsLimitPerProc = 4
	turnsLimitMin     = 8
)

var _ actor.Dispatcher = (*Turns)(nil)

// NewTurns returns a Turns dispatcher. Idle, it holds no goroutine: its
// drainers exit when the FIFO is empty (and Hot's idle workers after
// hotIdleExpiry).
func NewTurns() *Turns {
	procs := max(1, runtime.GOMAXPROCS(0))
	return newTurns(procs, max(turnsLimitMin, procs*turnsLimitPerProc))
}

func newTurns(maxDrainers, limit int) *Turns {
	d := &Turns{throughput: hotThroughput, max: maxDrainers, limit: limit}
	d.drainFn = d.drain
	return d
}

// Schedule queues a mailbox turn and starts a drainer when fewer than max
// run; otherwise it arms the watchdog if it is not. Never waits beyond the
// short FIFO lock.
func (d *Turns) Schedule(fn func()) {
	d.mu.Lock()
	d.ready = append(d.ready, fn)
	start := d.running < d.max
	if start {
		d.running++
	} else if !d.armed {
		d.arm()
	}
	d.mu.Unlock()
	if start {
		Hot.Schedule(d.drainFn)
	}
}

// arm starts the watchdog's tick. Called with d.mu held.
func (d *Turns) arm() {
	d.armed = true
	if d.watch == nil {
		d.watch = time.AfterFunc(turnsTick, d.tick)
		return
	}
	d.watch.Reset(turnsTick)
}

// Throughput is how many messages a mailbox turn handles before it yields.
func (d *Turns) Throughput() int { return d.throughput }

// tick is the watchdog: while turns wait, it starts a drainer for each
// stuck one until max are not stuck, within limit, and ticks again.
func (d *Turns) tick() {
	d.mu.Lock()
	if d.head == len(d.ready) {
		d.armed = false
		d.mu.Unlock()
		return
	}
	starts := max(0, min(d.max-d.fresh, d.limit-d.running))
	d.running += starts
	d.epoch++
	d.fresh = 0
	d.watch.Reset(turnsTick)
	d.mu.Unlock()
	for range starts {
		Hot.Schedule(d.drainFn)
	}
}

// drain runs queued turns until the FIFO is empty.
func (d *Turns) drain() {
	epoch := ^uint64(0) // the epoch of this drainer's last turn
	for {
		d.mu.Lock()
		if d.head == len(d.ready) {
			if cap(d.ready) > 1<<16 {
				d.ready = nil // grown for a burst: not kept
			}
			d.ready, d.head = d.ready[:0], 0
			d.running--
			if epoch == d.epoch {
				d.fresh--
			}
			d.mu.Unlock()
			return
		}
		if epoch != d.epoch {
			epoch = d.epoch
			d.fresh++
		}
		fn := d.ready[d.head]
		d.ready[d.head] = nil
		d.head++
		if d.head > 1024 && d.head*2 > len(d.ready) {
			// Long backlog never empty: drop the run slots instead of
			// growing the slice forever.
			n := copy(d.ready, d.ready[d.head:])
			clear(d.ready[n:])
			d.ready, d.head = d.ready[:n], 0
		}
		d.mu.Unlock()
		fn()
	}
}
