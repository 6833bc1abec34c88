package queue

import "github.com/actormq/actormq/storage/store"

// watchMsg asks a queue actor to call fn once its consume queue holds a
// unit at queue offset from (MaxOffset > from).
type watchMsg struct {
	from int64
	fn   func()
}

// Watch calls fn once, on key's queue actor, as soon as key's consume queue
// holds a unit at queue offset from — at once when it already does, else
// right after the Put that stores it (so ReadUnits then sees the unit). fn
// must not block: callers pass a function that Sends to themselves.
//
// It is how broker-internal readers of ReadUnits (the schedule levels) wait
// for new units without polling. The queue actor checks its watch list only
// on Puts of its own queue, so queues nobody watches pay nothing; a hook
// called by the writer for every dispatch was rejected because the writer
// runs before the units are readable and would test every batch. A watch of
// a queue that does not exist yet opens it (no files are created before its
// first unit) and gets an actor, like a dispatch does. Watches are dropped
// when the queue actors stop. Any goroutine; never blocks.
func (r *Registry) Watch(key store.QueueKey, from int64, fn func()) {
	r.route(key, &watchMsg{from: from, fn: fn})
}

// watch registers m, or calls it at once when the queue is already past
// m.from. Queue actor.
func (q *queueActor) watch(m *watchMsg) {
	if q.e.cq.MaxOffset() > m.from {
		m.fn()
		return
	}
	q.watchers = append(q.watchers, m)
}

// notifyWatchers calls and drops every watch the queue has passed. Queue
// actor, after a Put.
func (q *queueActor) notifyWatchers() {
	maxOffset := q.e.cq.MaxOffset()
	kept := q.watchers[:0]
	for _, w := range q.watchers {
		if maxOffset > w.from {
			w.fn()
			continue
		}
		kept = append(kept, w)
	}
	clear(q.watchers[len(kept):])
	q.watchers = kept
}
