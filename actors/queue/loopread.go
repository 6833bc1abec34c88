package queue

import (
	"sync/atomic"

	"github.com/actormq/actormq/wire/remoting"
)

// Answering pulls on the gnet loop. A consumer that keeps up with its queue
// asks for messages stored moments ago. Handing such a pull to the queue
// actor costs a goroutine hand-off there and a loop wake-up back for the
// answer, each one a chance to wait for a CPU on a busy machine; answered on
// the loop that decoded it, the answer leaves with that read's flush
// (netio's outbox), with no hand-off at all.
//
// The loop may read the queue because reading is lock-free by the
// ConsumeQueue and CommitLog contracts (the queue actor stays the only
// writer), and it must not block, so it answers only when:
//
//  1. the filter is tag codes (an SQL92 selector's cost per record is the
//     client's to choose; those pulls go to the queue actor);
//  2. the queue holds units at the request offset (nothing to read means the
//     request may be held, which the queue actor does);
//  3. it finds messages within want units (maxMsgNums capped by
//     MaxTransferCountOnMessage), all at most LoopReadBytes behind the
//     commit log's end: data written that recently is in the page cache, as
//     is the consume-queue tail that points to it, so no read waits for the
//     disk (the rule Java's broker uses to tell hot messages from cold ones).
//
// Anything else (nothing found, an offset out of range, a cold record first)
// goes to the queue actor as before, which evaluates the request afresh.
// Rejected: answering every pull on the loop, which would put the page
// faults of a consumer catching up on old messages on the loop.

// answerOnLoop answers req on the calling gnet loop when the conditions
// above hold, and reports whether it did; if not, req is untouched and the
// caller routes it to the queue actor.
func (r *Registry) answerOnLoop(req *pullReq) bool {
	if req.filter.sql != nil || r.cfg.LoopReadBytes < 0 {
		return false
	}
	e := r.lookup(req.key)
	if e == nil || req.offset >= e.cq.MaxOffset() {
		return false
	}
	lim := scanLimits{onLoop: true, physMin: r.deps.log.WrotePosition() - r.cfg.LoopReadBytes}
	o, ok := r.evaluateOnLoop(e, req, lim)
	if !ok || o.code != remoting.RespSuccess {
		return false // only SUCCESS outcomes carry a body
	}
	r.writePull(e, req, &o)
	return true
}

// evaluateOnLoop is evaluate with a recover: a fault in a storage read on a
// loop must not take the process down (on the queue actor the supervisor
// resumes instead). The request then goes to the queue actor, which reads
// again; the slices of a scan cut short are not released, so the segments
// they pin stay mapped.
func (r *Registry) evaluateOnLoop(e *entry, req *pullReq, lim scanLimits) (o pullOutcome, ok bool) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error().Interface("panic", p).Str("topic", req.key.Topic).Int32("queueId", req.key.QueueID).
				Msg("pull read on the event loop failed; handing it to the queue actor")
			o, ok = pullOutcome{}, false
		}
	}()
	return r.evaluate(e, req, lim), true
}

// countGet counts n messages pulled by group from e's queue. Any goroutine.
func (r *Registry) countGet(e *entry, group string, n int) {
	r.counters.gets.Add(int64(n))
	if m := e.groupGets.Load(); m != nil {
		if c := (*m)[group]; c != nil {
			c.Add(int64(n))
			return
		}
	}
	c := r.counters.groupCounter(GroupTopic{Group: group, Topic: e.key.Topic})
	for {
		old := e.groupGets.Load()
		next := make(map[string]*atomic.Int64, 1)
		if old != nil {
			for g, v := range *old {
				next[g] = v
			}
		}
		next[group] = c
		if e.groupGets.CompareAndSwap(old, &next) {
			break
		}
	}
	c.Add(int64(n))
}
