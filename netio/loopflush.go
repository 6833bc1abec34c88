package netio

import (
	"context"
	"sync"

	"github.com/panjf2000/gnet/v2"
)

// Flush tasks per event loop. A connection whose outbox a writer arms
// (outbox.go, contract step 2) joins its loop's due list; only the writer
// that finds the list unclaimed queues a task on the loop (gnet's
// EventLoop.Execute: an eventfd write and two heap objects, its closure and
// its queue node), and that one task flushes every connection on the list.
// While the loop is inside OnTraffic the list stays claimed and the end of
// OnTraffic flushes it, as contract step 3 does for the connection read:
// writes the broker's actors make for other connections of a busy loop
// meanwhile need no task at all.
//
// Before, each armed connection queued a task of its own: per flush of
// every connection two objects of garbage and an eventfd write, although a
// loop serving several connections mostly had several due at once.
// Rejected: gnet's Wake (it re-enters OnTraffic with no new bytes, a task
// per connection as well); reaching gnet's poller queue directly (internal
// to gnet, and its node would still be allocated).
type loopFlushes struct {
	mu sync.Mutex
	// claimed: a task is queued on the loop, or the loop is inside
	// OnTraffic; either takes due without further notice.
	claimed bool
	due     []*conn // connections to flush, once per arming of their outbox (add)
	spare   []*conn // the emptied list the next take swaps in; loop-owned
	loop    gnet.EventLoop
	// join is writeJoined's scratch piece, made on the loop's first
	// backlogged write; loop-owned (every flush runs on the loop), free
	// again once gnet's Write returned. One per loop: no pool to empty at
	// each GC.
	join []byte
}

// joinPiece returns the loop's scratch piece of joinPieceBytes. Runs on the
// loop.
func (lf *loopFlushes) joinPiece() []byte {
	if lf.join == nil {
		lf.join = make([]byte, joinPieceBytes)
	}
	return lf.join
}

// loopFlushesFor returns the due list of loop, made on its first
// connection. REQUIRES: srv.mu held.
func (srv *server) loopFlushesFor(loop gnet.EventLoop) *loopFlushes {
	lf := srv.loops[loop]
	if lf == nil {
		lf = &loopFlushes{loop: loop}
		srv.loops[loop] = lf
	}
	return lf
}

// add puts c on the due list and reports whether the caller must queue the
// loop's task (the list was unclaimed). REQUIRES: c's outbox armed by the
// caller. c can be on the list twice: an OnTraffic of c that ran while c
// waited flushed and disarmed it, and a writer armed it again; the second
// flush finds nothing pending, so that costs a lock, not a write.
func (lf *loopFlushes) add(c *conn) (queue bool) {
	lf.mu.Lock()
	lf.due = append(lf.due, c)
	queue = !lf.claimed
	lf.claimed = true
	lf.mu.Unlock()
	return queue
}

// claim marks the list as taken care of by the loop: OnTraffic calls it
// first and flushAll last. Runs on the loop.
func (lf *loopFlushes) claim() {
	lf.mu.Lock()
	lf.claimed = true
	lf.mu.Unlock()
}

// flushAll takes the due list, unclaims it (a writer after this queues a
// new task) and flushes each connection on it. A connection closed since
// it joined finds nothing pending (OnClose released it). Runs on the loop.
func (lf *loopFlushes) flushAll() {
	lf.mu.Lock()
	due := lf.due
	lf.due, lf.spare = lf.spare, nil
	lf.claimed = false
	lf.mu.Unlock()
	for i, c := range due {
		c.flush()
		due[i] = nil
	}
	lf.spare = due[:0]
}

// loopFlushTask is a loopFlushes as the gnet.Runnable of its task:
// converting the pointer allocates nothing.
type loopFlushTask loopFlushes

func (t *loopFlushTask) Run(context.Context) error {
	(*loopFlushes)(t).flushAll()
	return nil
}

// Compile-time check: loopFlushTask is what EventLoop.Execute runs.
var _ gnet.Runnable = (*loopFlushTask)(nil)
