// Package admit is the intake of requests that a handler on a gnet loop
// hands to an actor: a stop flag and a bound on the requests admitted and
// not answered yet. Beyond the bound a request is refused with SYSTEM_BUSY
// at once, so an actor's mailbox never grows without limit and the loop
// never blocks (style: never post to a bounded mailbox from a loop; bound
// every in-flight count). After Stop every request is refused with
// SERVICE_NOT_AVAILABLE, and Drained tells when the last admitted one has
// been answered.
//
// A handler's life with a Gate:
//  1. on the loop: parse and check the request, then Enter; on error answer
//     it, otherwise Send it to the actor;
//  2. wherever the request is answered (the actor, or a writer callback):
//     Leave, exactly once;
//  3. at shutdown: Stop, then wait for the actor (or Drained).
package admit

import (
	"sync"
	"sync/atomic"

	"github.com/actormq/actormq/actors/reply"
)

// ErrStopping answers requests that arrive or wait while the broker stops.
var ErrStopping = reply.Errorf(reply.ErrServiceNotAvailable, "the broker is stopping")

// Gate admits requests to one actor. Its methods are safe from any
// goroutine; none blocks.
type Gate struct {
	what     string // the requests, plural, for the SYSTEM_BUSY remark
	max      int64
	inflight atomic.Int64
	stopped  atomic.Bool
	drained  chan struct{} // closed once stopped with nothing in flight
	drainOne sync.Once
}

// New returns a gate that admits at most max requests at a time; what names
// them in the SYSTEM_BUSY remark ("sends", "send-backs").
func New(what string, max int64) *Gate {
	return &Gate{what: what, max: max, drained: make(chan struct{})}
}

// Enter admits one request, or refuses it: ErrStopping after Stop, a
// SYSTEM_BUSY error while max requests are in flight. An admitted request
// must be ended with exactly one Leave.
func (g *Gate) Enter() error {
	if g.stopped.Load() {
		return ErrStopping
	}
	if g.inflight.Add(1) > g.max {
		g.Leave()
		return reply.Errorf(reply.ErrSystemBusy, "[REJECTREQUEST]system busy, %d %s in flight", g.max, g.what)
	}
	if g.stopped.Load() { // Stop ran between the first check and the count
		g.Leave()
		return ErrStopping
	}
	return nil
}

// Leave ends one admitted request (answered, or dropped by a failure that
// answered it).
func (g *Gate) Leave() {
	if g.inflight.Add(-1) == 0 && g.stopped.Load() {
		g.drainOne.Do(func() { close(g.drained) })
	}
}

// Stop refuses every request from now on. It reports whether this call
// stopped the gate, so that a Stop method calling it is idempotent.
func (g *Gate) Stop() bool {
	if !g.stopped.CompareAndSwap(false, true) {
		return false
	}
	if g.inflight.Load() == 0 {
		g.drainOne.Do(func() { close(g.drained) })
	}
	return true
}

// Stopped reports whether Stop was called.
func (g *Gate) Stopped() bool { return g.stopped.Load() }

// Drained is closed once the gate is stopped and every admitted request
// has left.
func (g *Gate) Drained() <-chan struct{} { return g.drained }

// Inflight is the number of admitted requests not answered yet.
func (g *Gate) Inflight() int64 { return g.inflight.Load() }

// Max is the bound on Inflight.
func (g *Gate) Max() int64 { return g.max }
