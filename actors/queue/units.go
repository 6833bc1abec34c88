package queue

import (
	"sync"

	"github.com/actormq/actormq/internal/sizeclass"
)

// Units slices are recycled between the commitlog writer and the queue
// actors. The writer dispatches one slice per queue per group commit, about
// one per message with many queues, and a fresh slice each time was most of
// the writer's heap garbage (~83 B per message, ~4.3 KB per 64×128 B batch).
//
// Ownership, one owner at a time:
//  1. the writer takes an empty slice with NewUnits and appends the
//     group's units of one queue to it;
//  2. Dispatch passes it to the queue actor (through the registry actor when
//     the queue has no actor yet) inside a pooled dispatchMsg; from then on
//     the writer must not touch it;
//  3. the queue actor Puts the units and releases the message with its
//     slice (releaseDispatch), unless it keeps the slice as its backlog
//     (backlog.go), which then becomes garbage once put. A slice that is
//     dropped on the way (a consume queue that cannot be opened, a stopped
//     actor) is simply garbage, as before pooling.
//
// A Dispatcher that is not the Registry (test fakes, a wrapper) may hand a
// slice it owns back with ReleaseUnits.
//
// Race builds (go test -race) poison instead of recycling (units_race.go):
// the released units are overwritten and the slice never reused, so a reader
// that kept the slice sees nonsense, and the race detector sees the write.
//
// Rejected alternatives: a writer-side slice per queue handed back through
// the entry (an atomic hand-back per queue and a slice kept per idle queue,
// with 100,000 queues); bytebufferpool-like calibration (not for typed
// slices). sync.Pool keeps them per P; a dispatchMsg carries the slice
// both ways, so recycling allocates nothing. Carriers without a slice wait
// in their own pool: the writer takes several slices before it dispatches
// any, and one pool would hand it back the carrier it just emptied.
//
// Slices are pooled in power-of-two classes of capacity, 4 to 4,096 units,
// so that a request finds a slice of its size whatever the mix: single
// sends take 4, a group's queue in 64×128 B batches 64 to 512 (the writer
// grows a queue's slice from the pool when another batch message for it
// joins the group). With one pool, a request for more than the slice it
// drew dropped that slice: in the first 10 s of 64×128 B batches, 14 MB
// of units slices were allocated.
var (
	// Units slice classes, 4 to 4,096 units; a slice grown for a huge group
	// is not kept.
	unitsClasses  = sizeclass.Classes{MinShift: 2, Count: 11}
	unitsCarriers [11]sync.Pool // *dispatchMsg with an empty slice (NewUnits), by class
	emptyCarriers sync.Pool     // *dispatchMsg without a slice (newDispatchMsg)
)

// unitsPoison fills released units in race builds.
var unitsPoison = Unit{QueueOffset: -0x5A5A5A5B, PhysOffset: -0x5A5A5A5B, Size: -1, TagsCode: -0x5A5A, StoreTimestamp: -1}

// NewUnits returns an empty units slice for one Dispatch with room for at
// least n units, from n's class or the one above (where a slice of n's
// class goes back once the writer grew it). Writer actor (any goroutine is
// safe).
func NewUnits(n int) []Unit {
	c := unitsClasses.For(n)
	if c < 0 {
		return make([]Unit, 0, n)
	}
	for k := c; k < min(c+2, len(unitsCarriers)); k++ {
		if m, _ := unitsCarriers[k].Get().(*dispatchMsg); m != nil {
			s := m.units
			m.units = nil
			emptyCarriers.Put(m) // Dispatch takes it again for this slice
			return s[:0]
		}
	}
	return make([]Unit, 0, unitsClasses.Size(c))
}

// ReleaseUnits gives a units slice its caller owns back for reuse; the
// caller must not touch it again.
func ReleaseUnits(units []Unit) {
	releaseDispatch(newDispatchMsg(units))
}

// newDispatchMsg wraps units, whose ownership the message takes.
func newDispatchMsg(units []Unit) *dispatchMsg {
	m, _ := emptyCarriers.Get().(*dispatchMsg)
	if m == nil {
		m = new(dispatchMsg)
	}
	m.units = units
	return m
}

// releaseDispatch returns m and its slice to the pool once the queue actor
// applied the units. Nobody may touch m or its units afterwards.
func releaseDispatch(m *dispatchMsg) {
	s := m.units
	if poisonReleasedUnits {
		for i := range s {
			s[i] = unitsPoison
		}
		m.units = nil // neither m nor the slice is reused
		return
	}
	// The largest class whose size s holds: NewUnits's promise of room.
	c := unitsClasses.Holding(cap(s))
	if c < 0 {
		m.units = nil
		emptyCarriers.Put(m)
		return
	}
	m.units = s[:0]
	unitsCarriers[c].Put(m)
}
