package queue

import (
	"math"

	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/storage/store"
)

// Serving only durable records on a SYNC_FLUSH broker.
//
// The writer dispatches a batch's units to the queue actors right after the
// append, before the fsync that makes the records durable. An ASYNC_FLUSH
// broker serves them at once (as RocketMQ 4.x does). A SYNC_FLUSH broker
// acknowledges a send only after the fsync, and a record served before it
// may never become durable: after a failed or torn fsync, or a power cut
// before it, the record is gone although a consumer got it, and recovery
// hands its queue offset to a new message, which a consumer that remembers
// the offset as consumed skips. So a SYNC_FLUSH broker serves a unit only
// once its record ends at or below the commit log's flushed position
// (RocketMQ 5.x likewise dispatches SYNC_FLUSH data only once flushed):
//
//  1. Every pull read (queue actor and gnet loop) caps the queue's max
//     offset at its served max, the offset below which every unit's record
//     is flushed (servedMax). Pull answers report it as maxOffset, and
//     GET_MAX_OFFSET and SEARCH_OFFSET_BY_TIMESTAMP answer within it, so a
//     consumer never learns an offset past an unflushed unit; in particular
//     the nextBeginOffset of PULL_NOT_FOUND, which the Go client commits as
//     consumed, stays at or below it.
//  2. A pull that finds only unflushed units is held like one at the end of
//     its queue, and its queue actor registers for a flush wake-up
//     (awaitFlush). The writer's flush actor calls WakeFlushed after every
//     flush that advanced the flushed position; it Sends one flushWake to
//     each registered queue actor, which answers the held pulls it can now
//     serve (queueActor.serveHeld) and registers again while some still
//     wait. Nothing is polled and no queue is woken that holds nothing.
//
// Rejected: dispatching units only after the fsync (5.x's way), which would
// keep every batch's units in the writer or the flush actor across the
// fsync and delay broker-internal readers (Watch) and consume-queue writes
// as well; capping reads leaves the write path as it is and costs a pull
// one atomic load while its queue's newest unit is flushed.

// noLimit is servedEnd on an ASYNC_FLUSH broker.
const noLimit = math.MaxInt64

// flushWake tells a queue actor that the commit log's flushed position
// advanced.
type flushWake struct{}

var theFlushWake = &flushWake{}

// servedEnd is where a served record must end in the commit log at the
// latest: the flushed position on a SYNC_FLUSH broker, noLimit otherwise.
// Any goroutine.
func (r *Registry) servedEnd() int64 {
	if !r.syncFlush {
		return noLimit
	}
	return r.deps.log.FlushedPosition()
}

// servedMax is the queue offset below which every unit of e's queue in
// [minOff, maxOff) points at a record ending at or below end (fillers,
// which point at nothing, count as the next unit after them). It is maxOff
// without any read when the newest unit dispatched ends there (tailEnd is
// stored before a unit's Put publishes it, and maxOff was read before
// tailEnd, so tailEnd covers every unit below maxOff). Else it
// binary-searches from the last boundary found: the units of a queue point
// at increasing commit-log offsets (the writer appends and dispatches in
// order), and the flushed position never moves back, so every boundary
// found stays valid. scratch (cap >= 1, or nil: one is borrowed from
// unitScratch) is a unit buffer to read into. Any goroutine.
func (r *Registry) servedMax(e *entry, minOff, maxOff, end int64, scratch []consumequeue.Unit) int64 {
	if end == noLimit || e.tailEnd.Load() <= end {
		return maxOff
	}
	// Callers without a scan buffer of their own (GET_MAX_OFFSET, held
	// pulls, time lookups) pass nil: one is borrowed only when a unit has
	// to be read, never on an ASYNC_FLUSH broker.
	if cap(scratch) == 0 {
		s := getUnitScratch()
		defer putUnitScratch(s)
		scratch = s[:0]
	}
	lo, hi := min(max(minOff, e.servedHint.Load()), maxOff), maxOff
	for lo < hi { // the first offset in [lo, hi) from which no record is flushed
		mid := lo + (hi-lo)/2
		if unflushedFrom(e.cq, mid, hi, end, scratch) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	// A racing reader may store a lower boundary: still a valid one.
	e.servedHint.Store(lo)
	return lo
}

// unflushedFrom reports whether the first unit from off on that is not a
// filler ends past end; true when there is none below hi (servedMax only
// asks below an offset it found unflushed, or below maxOff, whose unit is
// the newest Put, never a filler). A unit that cannot be read (retention
// removed it) counts as flushed. Fillers fill the gap a failed Put left;
// they come in short runs, so one unit is read first and a run is walked.
func unflushedFrom(cq cqueue, off, hi, end int64, scratch []consumequeue.Unit) bool {
	n := int64(1)
	for off < hi {
		units, err := cq.Get(off, scratch[:0:min(int64(cap(scratch)), n, hi-off)])
		if err != nil || len(units) == 0 {
			return false
		}
		for _, u := range units {
			if !u.IsFiller() && u.Size > 0 {
				return u.CommitLogOffset+int64(u.Size) > end
			}
		}
		off += int64(len(units))
		n = scanChunkUnits
	}
	return true
}

// ServedMaxOffset is the max offset consumers see (GET_MAX_OFFSET, pull
// answers): the queue's max offset, on a SYNC_FLUSH broker capped at its
// first unit whose record is not flushed yet; 0 for an unknown queue.
// Lock-free; any goroutine (on a SYNC_FLUSH broker while the queue's newest
// unit is not flushed, it reads a few consume-queue units).
func (r *Registry) ServedMaxOffset(topic string, queueID int32) int64 {
	e := r.lookup(store.QueueKey{Topic: topic, QueueID: queueID})
	if e == nil {
		return 0
	}
	minOff, maxOff := e.cq.MinOffset(), e.cq.MaxOffset()
	return r.servedMax(e, minOff, maxOff, r.servedEnd(), nil)
}

// WakeFlushed tells the queue actors whose held pulls wait for the flush
// that the commit log's flushed position advanced. The writer's flush actor
// calls it after every such flush (writer.Config.OnFlushed). Any goroutine;
// never blocks (one Send per waiting queue).
func (r *Registry) WakeFlushed() {
	if !r.syncFlush {
		return
	}
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	for i, e := range r.flushWaiting {
		e.awaitingFlush = false
		if pid := e.pid.Load(); pid != nil {
			r.root.Send(pid, theFlushWake)
		}
		r.flushWaiting[i] = nil
	}
	r.flushWaiting = r.flushWaiting[:0]
}

// awaitFlush registers e's queue actor for the next WakeFlushed: it holds
// pulls of units not flushed when the flushed position was seen. A flush
// that advanced after seen either finds the registration or is seen by the
// check after it (WakeFlushed runs after the position is stored), so no
// wake-up is lost; the actor then wakes itself. Queue actor of e.
func (r *Registry) awaitFlush(e *entry, seen int64) {
	if !r.syncFlush {
		return
	}
	r.flushMu.Lock()
	if !e.awaitingFlush {
		e.awaitingFlush = true
		r.flushWaiting = append(r.flushWaiting, e)
	}
	r.flushMu.Unlock()
	if r.servedEnd() != seen {
		if pid := e.pid.Load(); pid != nil {
			r.root.Send(pid, theFlushWake)
		}
	}
}
