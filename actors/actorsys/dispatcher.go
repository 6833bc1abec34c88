package actorsys

// Why the hot actors have a dispatcher of their own:
//
// protoactor's default dispatcher runs every mailbox turn on a new goroutine
// (`go process()` each time a mailbox goes from idle to busy). The runtime
// hands a new goroutine a minimal stack (a dead goroutine's larger stack is
// freed, not reused), so every wake-up of an actor whose Receive runs deeper
// than that grows the stack again: runtime.newproc1, morestack and
// copystack took 3–13% of broker CPU on single 128 B sends, and most of the
// scale run's loss (10,000 queues; GODEBUG=adaptivestackstart=1, which
// starts goroutines with larger stacks, lifted it 0.75→0.88, but a GODEBUG
// setting cannot be set by //go:debug for that one).
//
// Hot runs turns on long-lived workers of an ants pool instead: a worker
// that finished a turn parks on its channel with its stack already grown and
// takes the next turn of any hot actor. The pool is unbounded, so Schedule
// never waits for a worker: with none idle it starts one (what the default
// dispatcher does on every wake-up). That matters because actors block
// briefly (the syncer's fsync, msync); a fixed pool that queued turns behind
// them would starve every other actor, and could deadlock. Idle workers are
// kept in a stack (the last to finish takes the next turn, so few stay warm)
// and exit after hotIdleExpiry, so idle queues cost no goroutine. (A GC may
// still halve a parked worker's stack; it then grows once per GC cycle, not
// once per wake-up.) With GOMAXPROCS 1, ants hands a turn over on an
// unbuffered channel, so Schedule waits until the chosen idle worker is back
// at its receive: a few instructions, never a turn.
//
// Rejected: a hand-written pool (a mutex, an idle stack, a channel per
// worker) would be about as long as this file plus its expiry, which needs a
// timer per idle worker or a sweeper; ants does exactly that, is well kept
// and is already in the module graph (gnet uses it). Its costs: two
// goroutines with a ticker each for the process's life (expiry sweep every
// hotIdleExpiry, a coarse clock every 500 ms), and a spin lock taken twice
// per turn. Submit on a warm worker allocates nothing.

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/panjf2000/ants/v2"
)

const (
	// hotIdleExpiry is how long a worker may stay idle before it exits: the
	// pool checks every hotIdleExpiry against a clock it updates every
	// 500 ms, so an idle worker exits within about a second. Under load the
	// last worker to finish takes the next turn, so only surplus workers
	// sit idle that long; shorter than the pool clock's step would end
	// workers that just finished a turn.
	hotIdleExpiry = 500 * time.Millisecond
	// hotThroughput is the messages a turn handles before it yields the
	// processor (runtime.Gosched), protoactor's default.
	hotThroughput = 300
)

// Hot is the dispatcher of the few actors on the per-message path (the
// commitlog writer, flush actor and syncer, the long-poll and index
// actors, and the offset manager, which gets a commit with each pull):
// spawn them with actor.WithDispatcher(Hot). The many (send topic actors,
// queue actors) run on a Turns, whose drainers run on Hot's workers.
// It is created with the package, so its pool's two goroutines predate
// every test's goroutine count.
var Hot actor.Dispatcher = newPoolDispatcher(hotIdleExpiry, hotThroughput)

// poolDispatcher is an actor.Dispatcher running turns on an unbounded ants
// pool.
type poolDispatcher struct {
	pool       *ants.Pool
	throughput int
}

var _ actor.Dispatcher = (*poolDispatcher)(nil)

func newPoolDispatcher(idleExpiry time.Duration, throughput int) *poolDispatcher {
	pool, err := ants.NewPool(-1, // unbounded: Submit starts a worker rather than wait for one
		ants.WithExpiryDuration(idleExpiry),
		// A panic that escapes a turn (protoactor recovers the actor's own)
		// crashes the process, as it would on the default dispatcher's
		// goroutine; ants would otherwise log it and leave the mailbox
		// marked running forever.
		ants.WithPanicHandler(func(p any) { panic(p) }))
	if err != nil { // only for a negative expiry or PreAlloc without a size
		panic("actorsys: " + err.Error())
	}
	return &poolDispatcher{pool: pool, throughput: throughput}
}

// Schedule runs fn on an idle worker, or on a new one when none is idle.
// It never waits for a turn to end. Any goroutine.
func (d *poolDispatcher) Schedule(fn func()) {
	if err := d.pool.Submit(fn); err != nil {
		// An unbounded pool refuses only once released, which Hot never
		// is; a turn must run regardless, or its mailbox stays marked
		// running and never runs again.
		go fn()
	}
}

// Throughput is the messages per turn before yielding the processor.
func (d *poolDispatcher) Throughput() int { return d.throughput }
