package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actormq/actormq/storage/store"
	"github.com/asynkron/protoactor-go/actor"
)

// What the admin requests (package actors/admin) read from and do to the
// queues: lock-free offset and store-time lookups, message counters, and
// the deletion of a topic's consume queues (DELETE_TOPIC_IN_BROKER).

// ErrDeleteTimeout is wrapped when a topic's queues were not destroyed in
// time.
var ErrDeleteTimeout = errors.New("queue: delete topic timed out")

// GroupTopic names the messages one consumer group pulled from one topic.
type GroupTopic struct{ Group, Topic string }

// Counters count messages for the broker's statistics. Queue actors add;
// any goroutine reads.
type Counters struct {
	puts      atomic.Int64 // units stored in non-system topics
	gets      atomic.Int64 // messages returned by pulls
	groupGets sync.Map     // GroupTopic → *atomic.Int64
}

// Puts is the number of messages stored in topics clients may send to since
// start (Java's msgPutTotalTodayNow). Any goroutine.
func (c *Counters) Puts() int64 { return c.puts.Load() }

// Gets is the number of messages returned by pulls since start (Java's
// msgGetTotalTodayNow). Any goroutine.
func (c *Counters) Gets() int64 { return c.gets.Load() }

// GroupGets calls fn with the messages each group pulled from each topic
// since start. Any goroutine.
func (c *Counters) GroupGets(fn func(GroupTopic, int64)) {
	c.groupGets.Range(func(k, v any) bool {
		fn(k.(GroupTopic), v.(*atomic.Int64).Load())
		return true
	})
}

// GroupGet is the number of messages group pulled from topic since start.
// Any goroutine.
func (c *Counters) GroupGet(k GroupTopic) int64 {
	if v, ok := c.groupGets.Load(k); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

// countPut counts n units put into a queue of a topic clients may send to
// (queueActor.counted). Queue actors.
func (c *Counters) countPut(n int) { c.puts.Add(int64(n)) }

// groupCounter returns k's pull counter, creating it on first use. Queue
// actors call it once per group and keep the pointer (queueActor.countGet).
func (c *Counters) groupCounter(k GroupTopic) *atomic.Int64 {
	v, ok := c.groupGets.Load(k)
	if !ok {
		v, _ = c.groupGets.LoadOrStore(k, new(atomic.Int64))
	}
	return v.(*atomic.Int64)
}

// Counters returns the registry's message counters. Any goroutine.
func (r *Registry) Counters() *Counters { return &r.counters }

// SearchOffset is SEARCH_OFFSET_BY_TIMESTAMP's lower bound for a queue: the
// first offset stored at or after ts, the served max offset (flushed.go)
// when every message is older, 0 for an unknown queue. It reads the commit
// log, so it does not run on gnet loops; any other goroutine.
func (r *Registry) SearchOffset(topic string, queueID int32, ts int64) int64 {
	e := r.lookup(store.QueueKey{Topic: topic, QueueID: queueID})
	if e == nil {
		return 0
	}
	minOff := e.cq.MinOffset()
	served := r.servedMax(e, minOff, e.cq.MaxOffset(), r.servedEnd(), nil)
	return r.searchOffset(e.cq, minOff, served, ts, false)
}

// StoreTime is the store timestamp of the message at queue offset off, false
// when there is none (or it cannot be read). Not on gnet loops (it reads the
// commit log); any other goroutine.
func (r *Registry) StoreTime(topic string, queueID int32, off int64) (int64, bool) {
	e := r.lookup(store.QueueKey{Topic: topic, QueueID: queueID})
	if e == nil || off < e.cq.MinOffset() || off >= e.cq.MaxOffset() {
		return 0, false
	}
	return r.storeTimeAt(e.cq, off)
}

// Messages of a topic deletion: the request (registry actor), one destroy
// per live queue actor, and each actor's answer to the registry.
type (
	deleteTopicReq struct {
		topic     string
		replyTo   *actor.PID // the caller's future
		remaining int        // queue actors not yet destroyed; registry actor only
		deleted   int
	}
	destroyMsg     struct{ req *deleteTopicReq }
	queueDestroyed struct {
		e   *entry
		req *deleteTopicReq
	}
	// topicDeleted answers DeleteTopic: how many queues were destroyed.
	topicDeleted struct{ queues int }
)

// DeleteTopic destroys every consume queue of topic: the files, the queue
// actors and the store's handle, so that the topic, if created again, starts
// with empty queues. Messages in the commit log stay until retention. It
// waits (control plane; never on a gnet loop) until every queue is gone or
// ctx ends, and returns how many queues were destroyed.
//
// Order: the registry actor takes every entry of the topic; an idle queue
// (no actor) is destroyed right there, a live one by its own actor, which
// owns its files; the entry is removed and the store forgets the queue only
// after the files are gone, so that a unit dispatched meanwhile can never
// open the old directory again. Units of sends racing the deletion may be
// lost from the consume queue (they stay in the commit log), and a pull
// racing it (sent to the queue actor as it stops) goes unanswered: the
// client retries after its timeout and gets TOPIC_NOT_EXIST.
func (r *Registry) DeleteTopic(ctx context.Context, topic string) (int, error) {
	timeout := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		if timeout = time.Until(dl); timeout <= 0 {
			return 0, fmt.Errorf("%w: %w", ErrDeleteTimeout, context.DeadlineExceeded)
		}
	}
	res, err := r.root.RequestFuture(r.pid, &deleteTopicReq{topic: topic}, timeout).Result()
	if err != nil {
		return 0, fmt.Errorf("%w: topic %s: %w", ErrDeleteTimeout, topic, err)
	}
	return res.(*topicDeleted).queues, nil
}

// deleteTopic starts a deletion. Registry actor.
func (a *registryActor) deleteTopic(ctx actor.Context, req *deleteTopicReq) {
	r := a.r
	req.replyTo = ctx.Sender()
	r.entries.Range(func(k, v any) bool {
		e := v.(*entry)
		if e.key.Topic != req.topic {
			return true
		}
		if pid := e.pid.Load(); pid != nil {
			req.remaining++
			ctx.Send(pid, &destroyMsg{req: req})
			return true
		}
		r.destroy(e)
		a.forget(e)
		req.deleted++
		return true
	})
	a.maybeDone(ctx, req)
}

// queueDestroyed follows a queue actor's destroy. Registry actor.
func (a *registryActor) queueDestroyed(ctx actor.Context, m *queueDestroyed) {
	a.forget(m.e)
	m.req.remaining--
	m.req.deleted++
	a.maybeDone(ctx, m.req)
}

func (a *registryActor) maybeDone(ctx actor.Context, req *deleteTopicReq) {
	if req.remaining == 0 && req.replyTo != nil {
		ctx.Send(req.replyTo, &topicDeleted{queues: req.deleted})
	}
}

// forget removes a destroyed queue from the registry and the store.
func (a *registryActor) forget(e *entry) {
	e.gone.Store(true) // before the removal: Dispatch's cache (registry.go)
	a.r.entries.CompareAndDelete(e.key, e)
	a.r.noteGone(e) // the writer drops its dispatch state (dropGone)
	if a.r.deps.drop != nil {
		a.r.deps.drop(e.key)
	}
}

// destroy removes a queue's files; the caller owns the queue (its actor, or
// the registry for an idle queue).
func (r *Registry) destroy(e *entry) {
	if cq, ok := e.cq.(interface{ Destroy() error }); ok {
		if err := cq.Destroy(); err != nil {
			r.log.Error().Err(err).Str("topic", e.key.Topic).Int32("queueId", e.key.QueueID).Msg("consume queue destroy failed")
		}
	}
}

// destroyQueue destroys the actor's queue, answers its held pulls as pulls
// of a queue that does not exist, reports to the registry and stops the
// actor: later messages of the queue go to a new actor once the registry
// forgot this one. Queue actor.
func (q *queueActor) destroyQueue(ctx actor.Context, m *destroyMsg) {
	q.r.destroy(q.e)
	for _, req := range q.r.takeHeld(&q.held) {
		req.suspend = false
		q.r.answerAbsent(req)
	}
	ctx.Send(q.r.pid, &queueDestroyed{e: q.e, req: m.req})
	ctx.Stop(ctx.Self())
}
