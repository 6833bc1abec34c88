package queue

import (
	"github.com/actormq/actormq/internal/crashpoint"
	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/asynkron/protoactor-go/actor"
)

// queueActor owns one ConsumeQueue's write side (Put) and serves its pulls
// and time lookups.
type queueActor struct {
	r *Registry
	e *entry
	// held are the queue's suspended pulls (hold.go), answered after the
	// Put that passes their offset or at their deadline.
	held    heldPulls
	putErrs int // failed Puts so far; only the first few log at Error
	// counted: the queue's topic is one clients may send to, so its units
	// count in Counters.puts; decided once, since with 10,000 queues the
	// per-Put lookup by topic name (a string hash and a read of the
	// name) came with about every message.
	counted bool
	// watchers are pending Watch calls (see watch.go); nil for queues
	// nobody watches.
	watchers []*watchMsg
	// backlog holds units waiting for space, in order (backlog.go); nil
	// when there are none.
	backlog []Unit
}

func (q *queueActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *dispatchMsg:
		if !q.put(m.units) {
			releaseDispatch(m) // applied: the slice goes back (units.go)
		}
	case *pullReq:
		q.pull(m)
	case *timeReq:
		q.time(m)
	case *deleteBelowMsg:
		q.deleteBelow(m)
	case *destroyMsg:
		q.destroyQueue(ctx, m)
	case *watchMsg:
		q.watch(m)
	case *expireHeld:
		q.r.expireHeld(&q.held, q.e.key, q.answer)
	case *retryBacklog:
		q.retryBacklog()
	case *flushWake:
		q.serveHeld()
	case *actor.Stopped:
		q.dropBacklog()
		close(q.e.stopped)
	}
}

// put appends dispatched units. A failed Put is logged and the rest of the
// batch still goes in: the commit log keeps the record, and the store
// re-dispatches what the consume queue lacks at the next start. It reports
// whether it kept units (as the backlog, backlog.go); otherwise the caller
// may release the slice.
func (q *queueActor) put(units []Unit) (kept bool) {
	if len(units) == 0 {
		return false
	}
	if q.backlog != nil {
		q.backlog = append(q.backlog, units...) // behind the backlog (backlog.go)
		return false
	}
	cq := q.e.cq
	before := cq.MaxOffset()
	// Before the Puts publish the units (servedMax relies on it).
	last := &units[len(units)-1]
	q.e.tailEnd.Store(last.PhysOffset + int64(last.Size))
	for i := range units {
		if i > 0 {
			crashpoint.Hit(crashpoint.QueueMidDispatch) // units[:i] are in the consume queue, units[i:] not
		}
		u := &units[i]
		err := cq.Put(u.QueueOffset, consumequeue.Unit{CommitLogOffset: u.PhysOffset, Size: u.Size, TagsCode: u.TagsCode})
		if err != nil && consumequeue.Retryable(err) { // no space or resources: backlog.go
			q.startBacklog(units[i:], err)
			units, kept = units[:i], true
			break
		}
		if err != nil {
			q.r.putFailed(q.e, err)
			q.putErrs++
			ev := q.r.log.Debug()
			if q.putErrs <= 10 {
				ev = q.r.log.Error()
			}
			ev.Err(err).Str("topic", q.e.key.Topic).Int32("queueId", q.e.key.QueueID).
				Int64("queueOffset", u.QueueOffset).Msg("consume queue put failed")
		}
	}
	if len(units) == 0 {
		return kept
	}
	q.r.notePut(units[len(units)-1].StoreTimestamp)
	q.r.noteFlushDue(q.e, before)
	if q.counted {
		q.r.counters.countPut(len(units))
	}
	if len(q.watchers) > 0 {
		q.notifyWatchers()
	}
	q.serveHeld()
	return kept
}

// serveHeld answers the held pulls whose offset the queue now serves and,
// on a SYNC_FLUSH broker, registers for a flush wake-up while some wait
// only for the flush to cover their units (flushed.go). After a Put or a
// flushWake.
func (q *queueActor) serveHeld() {
	if len(q.held.reqs) == 0 {
		return
	}
	cq := q.e.cq
	end := q.r.servedEnd()
	maxOffset := cq.MaxOffset()
	served := q.r.servedMax(q.e, cq.MinOffset(), maxOffset, end, nil)
	q.r.answerHeld(&q.held, func(req *pullReq) bool { return req.offset < served }, q.answer)
	if served == maxOffset {
		return
	}
	for _, req := range q.held.reqs {
		if req.offset < maxOffset {
			q.r.awaitFlush(q.e, end)
			return
		}
	}
}

// pull evaluates req and answers it, or holds it when nothing is there.
func (q *queueActor) pull(req *pullReq) {
	end := q.r.servedEnd() // before evaluate reads it: see awaitFlush
	o := q.r.evaluate(q.e, req, scanLimits{})
	if shouldHold(req, &o) && q.r.hold(&q.held, q.e.key, req) {
		if req.offset < q.e.cq.MaxOffset() {
			q.r.awaitFlush(q.e, end) // its units are there but not flushed
		}
		return
	}
	q.r.writePull(q.e, req, &o)
}

// answer evaluates req and answers whatever it finds (a held request).
func (q *queueActor) answer(req *pullReq) {
	o := q.r.evaluate(q.e, req, scanLimits{})
	q.r.writePull(q.e, req, &o)
}

// writePull answers req with o, counting the messages it carries, on
// either pull path (the queue actor or a gnet loop). Any goroutine.
func (r *Registry) writePull(e *entry, req *pullReq, o *pullOutcome) {
	if o.body != nil {
		r.countGet(e, req.group, len(o.body.slices))
	}
	o.write(req)
}

// answerAbsentPull answers (or holds) a pull of a queue that does not exist
// yet. Registry actor; h holds the queue's suspended pulls until the queue
// actor exists (registryActor.route hands them over).
func (r *Registry) answerAbsentPull(h *heldPulls, req *pullReq) {
	o := r.evaluate(nil, req, scanLimits{})
	if shouldHold(req, &o) && r.hold(h, req.key, req) {
		return
	}
	o.write(req)
}

// answerAbsent answers a held pull of a queue that does not exist (any
// more): PULL_NOT_FOUND at offset 0, else PULL_OFFSET_MOVED to 0.
func (r *Registry) answerAbsent(req *pullReq) {
	o := r.evaluate(nil, req, scanLimits{})
	o.write(req)
}
