package queue

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/actormq/actormq/storage/store"
)

// A consume-queue write that finds no space (a new consume-queue file cannot
// be allocated; the commit log's own answer is in actors/writer/diskfull.go),
// or no descriptor, mapping or memory for a new file (consumequeue.Retryable:
// a moment's shortage must not stop the broker until a restart), in order:
//  1. the failed unit and every later unit of that queue wait in the queue
//     actor's backlog, in queue-offset order: a later unit put first would
//     leave a gap that Put fills with fillers, and the messages in it would
//     never be delivered, although their senders were answered SUCCESS;
//  2. while any queue has a backlog, Full reports true (the writer's
//     DiskFull includes it, so sends are refused with SERVICE_NOT_AVAILABLE),
//     and FlushedTimestamp stays below the oldest backlogged unit, so that a
//     crash meanwhile re-dispatches the backlog from the commit log;
//  3. a timer retries the backlog every backlogRetry; once it is in, the
//     queue is counted out and its held pulls and watchers are told.
//
// Any other Put failure is logged and the unit skipped; a failure to write
// it (consumequeue.ErrNotWritable: not a refused unit or offset) also makes
// the queue refuse every later unit and the store refuse sends until a
// restart re-dispatches them (Registry.flushFailed). A stop
// while a backlog waits loses it from the consume queue (the records stay
// in the commit log); it is logged (dropBacklog).

const backlogRetry = time.Second

// retryBacklog is the queue actor's timer message for step 3.
type retryBacklog struct{}

// backlogs is the registry's view of the queues with a backlog.
type backlogs struct {
	any    atomic.Bool
	mu     sync.Mutex
	oldest map[store.QueueKey]int64 // store time of each backlog's first unit
}

// set records key's backlog and reports whether it is new (not a retry).
func (b *backlogs) set(key store.QueueKey, oldest int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.oldest == nil {
		b.oldest = make(map[store.QueueKey]int64)
	}
	_, had := b.oldest[key]
	b.oldest[key] = oldest
	b.any.Store(true)
	return !had
}

func (b *backlogs) clear(key store.QueueKey) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.oldest, key)
	b.any.Store(len(b.oldest) > 0)
}

// cap lowers ts below the oldest backlogged unit (step 2).
func (b *backlogs) cap(ts int64) int64 {
	if !b.any.Load() {
		return ts
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, o := range b.oldest {
		ts = min(ts, o-1)
	}
	return ts
}

// Full reports whether some queue holds units it has no space to write
// (step 2). Lock-free; any goroutine.
func (r *Registry) Full() bool { return r.backlog.any.Load() }

// startBacklog keeps units, whose first Put found no space, for the retry
// (step 1) and arms it. Queue actor.
func (q *queueActor) startBacklog(units []Unit, err error) {
	q.backlog = units     // the queue actor owns dispatched units
	ev := q.r.log.Debug() // a retry that still finds no space
	if q.r.backlog.set(q.e.key, units[0].StoreTimestamp) {
		ev = q.r.log.Error()
	}
	ev.Err(err).Str("topic", q.e.key.Topic).Int32("queueId", q.e.key.QueueID).
		Int64("queueOffset", units[0].QueueOffset).Msg("consume queue out of space or resources: units wait, sends are refused")
	root, pid := q.r.root, q.e.pid.Load()
	time.AfterFunc(backlogRetry, func() { root.Send(pid, &retryBacklog{}) })
}

// retry puts the backlog again (step 3). Queue actor.
func (q *queueActor) retryBacklog() {
	units := q.backlog
	if units == nil {
		return
	}
	q.backlog = nil
	q.put(units)
	if q.backlog == nil {
		q.r.backlog.clear(q.e.key)
		q.r.log.Info().Str("topic", q.e.key.Topic).Int32("queueId", q.e.key.QueueID).Msg("consume queue has space again")
	}
}

// dropBacklog reports units a stopping queue actor could not write: their
// records stay in the commit log, but the consume queue lacks them until a
// recovery after a crash re-dispatches them. Queue actor, when it stops.
func (q *queueActor) dropBacklog() {
	if q.backlog == nil {
		return
	}
	q.r.log.Error().Str("topic", q.e.key.Topic).Int32("queueId", q.e.key.QueueID).
		Int64("fromQueueOffset", q.backlog[0].QueueOffset).Int("units", len(q.backlog)).
		Msg("queue stopped with units still waiting for space; they are not in the consume queue")
	q.r.backlog.clear(q.e.key)
	q.backlog = nil
}
