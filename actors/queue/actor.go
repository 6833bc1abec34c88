package queue

import (
	"sync/atomic"
	"time"

	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
)

// queueActor owns one ConsumeQueue's write side (Put) and serves its pulls
// and time lookups.
type queueActor struct {
	r *Registry
	e *entry
	// watched is set when a pull of this queue was handed to the long-poll
	// actor; the next Put then tells the long-poll actor the queue advanced.
	// Waking only watched queues keeps Puts of unwatched queues free of
	// long-poll traffic.
	watched bool
	scratch []consumequeue.Unit
	putErrs int // failed Puts so far; only the first few log at Error
	// watchers are pending Watch calls (see watch.go); nil for queues
	// nobody watches.
	watchers []*watchMsg
	// groupGets caches, per consumer group, this topic's pull counter from
	// Counters, so that counting a pull is a string-keyed map read (no
	// boxed key, no allocation).
	groupGets map[string]*atomic.Int64
}

func (q *queueActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *dispatchMsg:
		q.put(m.units)
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
	case *actor.Stopped:
		close(q.e.stopped)
	}
}

// put appends dispatched units. A failed Put is logged and the rest of the
// batch still goes in: the commit log keeps the record, and the store
// re-dispatches what the consume queue lacks at the next start.
func (q *queueActor) put(units []Unit) {
	cq := q.e.cq
	for i := range units {
		u := &units[i]
		err := cq.Put(u.QueueOffset, consumequeue.Unit{CommitLogOffset: u.PhysOffset, Size: u.Size, TagsCode: u.TagsCode})
		if err != nil {
			q.putErrs++
			ev := q.r.log.Debug()
			if q.putErrs <= 10 {
				ev = q.r.log.Error()
			}
			ev.Err(err).Str("topic", q.e.key.Topic).Int32("queueId", q.e.key.QueueID).
				Int64("queueOffset", u.QueueOffset).Msg("consume queue put failed")
		}
	}
	q.r.notePut(units[len(units)-1].StoreTimestamp)
	q.r.counters.countPut(q.e.key.Topic, len(units))
	if len(q.watchers) > 0 {
		q.notifyWatchers()
	}
	if q.watched {
		q.watched = false
		q.r.root.Send(q.r.longPoll, &advanced{key: q.e.key, maxOffset: cq.MaxOffset()})
	}
}

// pull evaluates req and answers it, or hands it to the long-poll actor.
func (q *queueActor) pull(req *pullReq) {
	if q.scratch == nil {
		q.scratch = make([]consumequeue.Unit, 0, scanChunkUnits)
	}
	o := q.r.evaluate(q.e.cq, req, q.scratch)
	if shouldHold(req, &o) {
		q.watched = true
		q.r.hold(req)
		return
	}
	if o.body != nil {
		q.countGet(req.group, len(o.body.slices))
	}
	o.write(req)
}

// countGet counts n messages pulled by group from this queue.
func (q *queueActor) countGet(group string, n int) {
	q.r.counters.gets.Add(int64(n))
	v := q.groupGets[group]
	if v == nil {
		if q.groupGets == nil {
			q.groupGets = make(map[string]*atomic.Int64)
		}
		v = q.r.counters.groupCounter(GroupTopic{Group: group, Topic: q.e.key.Topic})
		q.groupGets[group] = v
	}
	v.Add(int64(n))
}

// shouldHold reports whether the outcome may be suspended instead of sent
// (§13.3): PULL_NOT_FOUND for an original request whose client allows
// suspension.
func shouldHold(req *pullReq, o *pullOutcome) bool {
	return o.code == remoting.RespPullNotFound && req.suspend && req.hold > 0
}

// hold hands req to the long-poll actor. From then on it is a re-sent
// request: suspension is no longer allowed when it is evaluated again.
func (r *Registry) hold(req *pullReq) {
	req.suspend = false
	req.deadline = time.Now().Add(req.hold)
	r.root.Send(r.longPoll, req)
}

// answerAbsentPull answers (or holds) a pull of a queue that does not exist
// yet. Registry actor. The queue actor created for the queue's first unit
// starts watched, so a pull held here is woken by that unit.
func (r *Registry) answerAbsentPull(req *pullReq) {
	o := r.evaluate(nil, req, nil)
	if shouldHold(req, &o) {
		r.hold(req)
		return
	}
	o.write(req)
}
