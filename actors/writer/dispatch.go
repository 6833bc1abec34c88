package writer

import (
	"github.com/actormq/actormq/actors/queue"
	"github.com/actormq/actormq/storage/store"
)

// TargetDispatcher is a Dispatcher that hands out a handle per queue, so
// that a dispatch needs no lookup of the queue by key: *queue.Registry (and
// the index's feed of it) implements it. With 10,000 queues the writer
// dispatches about once per message, and looking the queue up twice, in its
// own map and in the registry's, was two string-hashing map lookups a
// message; the writer keeps the handle in its queueState instead, so the
// lookup appendOne does anyway is the only one. A Dispatcher without
// handles (test fakes) gets Dispatch.
type TargetDispatcher interface {
	Dispatcher
	// DispatchTarget returns key's handle, made if needed. It stays valid
	// for good, across deletions of the queue's topic. Writer actor only.
	DispatchTarget(key store.QueueKey) *queue.DispatchTarget
	// DispatchTo is Dispatch to the handle's queue. Writer actor only.
	DispatchTo(t *queue.DispatchTarget, units []queue.Unit)
}

// dispatch hands the batch's units to the Dispatcher, one call per queue in
// first-append order, and empties a.order. A queue's handle is taken at its
// first dispatch (queues seeded from the store at start included) and
// dropped with its queueState when its topic is forgotten (forget.go).
func (a *writerActor) dispatch() {
	for i, q := range a.order {
		units := q.units
		q.units = nil // the Dispatcher owns the slice from here on
		q.lastUnits = int32(len(units))
		if a.targets == nil {
			a.w.cfg.Dispatcher.Dispatch(q.key, units)
		} else {
			if q.to == nil {
				q.to = a.targets.DispatchTarget(q.key)
			}
			a.targets.DispatchTo(q.to, units)
		}
		a.order[i] = nil
	}
	a.order = a.order[:0]
}
