package queue

import (
	"context"
	"fmt"

	"github.com/actormq/actormq/actors/actorsys"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/body"
	"github.com/asynkron/protoactor-go/actor"
)

// Stop stops the long-poll actor, every queue actor after its mailbox
// drained, the registry and the flusher (held pulls are dropped with their
// holders: their connections are closing), then flushes every consume
// queue. Call it after the writer stopped, so no dispatch arrives later.
// Idempotent.
func (r *Registry) Stop(ctx context.Context) error {
	if !r.stopped.CompareAndSwap(false, true) {
		return nil
	}
	wait := func(ch chan struct{}) error {
		select {
		case <-ch:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("queue: stop: %w", ctx.Err())
		}
	}
	r.root.Poison(r.longPoll)
	if err := wait(r.pollDone); err != nil {
		return err
	}
	var entries []*entry
	r.entries.Range(func(_, v any) bool {
		e := v.(*entry)
		if pid := e.pid.Load(); pid != nil {
			r.root.Poison(pid)
			entries = append(entries, e)
		}
		return true
	})
	for _, e := range entries {
		if err := wait(e.stopped); err != nil {
			return err
		}
	}
	r.root.Poison(r.flusher)
	r.root.Poison(r.pid)
	if err := wait(r.flusherDone); err != nil {
		return err
	}
	if err := wait(r.regDone); err != nil {
		return err
	}
	r.flushAll(0)
	return nil
}

// flushAll flushes the consume queues with at least leastPages pages
// pending (ConsumeQueue.FlushPages). A round by pages only starts their
// write-back (no unit becomes durable; new files' directory entries do),
// so it advances nothing. A thorough round (leastPages <= 0) makes every
// queue durable to its end (one syncfs: flushAllBySyncFS; else an msync
// per queue) and, when every flush succeeded, advances
// FlushedTimestamp: only then is every unit stored before the round
// durable. A queue whose flush failed fails every later flush too
// (consumequeue.ErrNotWritable), so the timestamp stays where it was while
// that queue is registered (once its topic is deleted it no longer counts,
// and the timestamp may advance again: its units no longer matter), and
// sends are refused until a restart (WriteError is never cleared). Called by the
// flusher actor, and by Stop (thorough) once every actor stopped.
//
// A round by pages looks only at the queues whose end changed page since
// it last looked or that created a file (flushDue, noteFlushDue), since
// FlushPages' verdict changes only then:
// with 10,000 queues each getting a few units a second, visiting every
// queue each second was 2% of the broker's CPU while ~5% of them had a
// page more.
func (r *Registry) flushAll(leastPages int) {
	ts := r.maxPutTimestamp.Load()
	failed := false
	flush := func(e *entry) {
		if err := e.cq.FlushPages(leastPages); err != nil {
			failed = true
			r.flushFailed(e, err)
		}
	}
	if leastPages > 0 {
		r.dueMu.Lock()
		due := r.flushDue
		r.flushDue = nil
		r.dueMu.Unlock()
		for i, e := range due {
			// Cleared before the flush reads the end: a Put after it
			// lists the queue again.
			e.flushDue.Store(false)
			if !e.gone.Load() { // a deleted queue's files are gone
				flush(e)
			}
			due[i] = nil
		}
		r.dueMu.Lock()
		if r.flushDue == nil {
			r.flushDue = due[:0] // reuse the array
		}
		r.dueMu.Unlock()
		return
	}
	if done, f := r.flushAllBySyncFS(); done {
		failed = f
	} else {
		r.entries.Range(func(_, v any) bool {
			flush(v.(*entry))
			return true
		})
	}
	if !failed {
		r.flushedTimestamp.Store(ts)
	}
}

// flushPager is the part of *consumequeue.ConsumeQueue that noteFlushDue
// uses; a queue without it (test fakes) is listed after every Put.
type flushPager interface {
	FlushPage(maxOffset int64) int64
	EntriesUnsynced() bool
}

// noteFlushDue lists e for the next flush round by pages when a Put moved
// its end from before to another page, or created a file whose directory
// entry waits for an fsync (a new queue's first Put): the round fsyncs it
// then rather than the full round up to CQFlushThoroughInterval later.
// Queue actor of e, after its Puts.
func (r *Registry) noteFlushDue(e *entry, before int64) {
	if fp, ok := e.cq.(flushPager); ok && fp.FlushPage(before) == fp.FlushPage(e.cq.MaxOffset()) && !fp.EntriesUnsynced() {
		return
	}
	if e.flushDue.Load() || !e.flushDue.CompareAndSwap(false, true) {
		return
	}
	r.dueMu.Lock()
	r.flushDue = append(r.flushDue, e)
	r.dueMu.Unlock()
}

// notePut raises maxPutTimestamp to ts. Queue actors.
func (r *Registry) notePut(ts int64) {
	for {
		cur := r.maxPutTimestamp.Load()
		if ts <= cur || r.maxPutTimestamp.CompareAndSwap(cur, ts) {
			return
		}
	}
}

// registryActor creates queue actors and answers for queues that do not
// exist. Only it writes r.entries (besides Spawn).
type registryActor struct {
	r *Registry
	// absent holds the suspended pulls of queues that do not exist yet; a
	// queue's list goes to its queue actor when the actor is created.
	absent map[store.QueueKey]*heldPulls
}

func (a *registryActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *routed:
		a.route(ctx, m)
	case *deleteTopicReq:
		a.deleteTopic(ctx, m)
	case *queueDestroyed:
		a.queueDestroyed(ctx, m)
	case *actor.Stopped:
		close(a.r.regDone)
	}
}

func (a *registryActor) route(ctx actor.Context, m *routed) {
	r := a.r
	e := r.lookup(m.key)
	if e == nil {
		switch msg := m.msg.(type) {
		case *dispatchMsg, *watchMsg:
			// A dispatch brings the queue's first units; a watch waits
			// for them (opening creates no files).
			cq, err := r.deps.open(m.key)
			if err != nil {
				// Dispatched units stay in the commit log; the store
				// re-dispatches them at the next start.
				r.log.Error().Err(err).Str("topic", m.key.Topic).Int32("queueId", m.key.QueueID).
					Str("dropped", fmt.Sprintf("%T", msg)).Msg("open consume queue failed")
				if m.to != nil {
					m.to.forwarded.Store(m.seq) // handled: none is on its way
				}
				return
			}
			e = &entry{key: m.key, cq: cq, stopped: make(chan struct{})}
			r.entries.Store(m.key, e)
		case *pullReq:
			h := a.absent[m.key]
			if h == nil {
				if a.absent == nil {
					a.absent = make(map[store.QueueKey]*heldPulls)
				}
				h = &heldPulls{}
				a.absent[m.key] = h
			}
			r.answerAbsentPull(h, msg)
			if len(h.reqs) == 0 {
				delete(a.absent, m.key)
			}
			return
		case *expireHeld:
			if h := a.absent[m.key]; h != nil {
				r.expireHeld(h, m.key, r.answerAbsent)
				if len(h.reqs) == 0 {
					delete(a.absent, m.key)
				}
			}
			return
		case *timeReq:
			answerAbsentTime(msg)
			return
		default:
			return
		}
	}
	pid := e.pid.Load()
	if pid == nil {
		if _, ok := m.msg.(*expireHeld); ok {
			return // no actor, so nothing held
		}
		pid = ctx.Spawn(actor.PropsFromProducer(func() actor.Actor {
			return &queueActor{r: r, e: e, counted: !body.IsNotSendable(e.key.Topic)}
		}, actor.WithDispatcher(r.turns), actor.WithMailbox(actorsys.Mailbox)))
		// Set before pid, which publishes it (Dispatch loads pid first).
		// An actor that already stopped resolves to dead letters, where a
		// Send would go too.
		e.proc, _ = ctx.ActorSystem().ProcessRegistry.Get(pid)
		e.pid.Store(pid)
	}
	ctx.Send(pid, m.msg)
	if m.to != nil {
		m.to.forwarded.Store(m.seq)
	}
	// Pulls held while the queue did not exist go to its actor, still
	// suspended and with their deadlines: after the dispatch that brought
	// the first units they find them; after a watch they are held again.
	if h := a.absent[m.key]; h != nil {
		for _, req := range r.takeHeld(h) {
			ctx.Send(pid, req)
		}
		delete(a.absent, m.key)
	}
}
