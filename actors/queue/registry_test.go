package queue

import (
	"testing"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/store"
)

// TestDeletedTopicDispatchStateDropped: the writer-side dispatch state of a
// deleted topic's queues goes at the next Dispatch (it used to stay for
// good), the other topics' state stays, and the topic created again gets
// every unit in order through a fresh state, straight sends included.
func TestDeletedTopicDispatchStateDropped(t *testing.T) {
	h := newHarness(t, nil)
	t.Cleanup(func() { _ = h.r.Stop(testkit.Context(t)) })
	kept := store.QueueKey{Topic: "Kept", QueueID: 0}
	var gone []store.QueueKey
	for id := range int32(4) {
		k := store.QueueKey{Topic: "Gone", QueueID: id}
		gone = append(gone, k)
		h.send(t, k, "a")
		h.send(t, k, "b") // straight to the queue actor this time
	}
	h.send(t, kept, "a")
	if n, err := h.r.DeleteTopic(testkit.Context(t), "Gone"); err != nil || n != 4 {
		t.Fatalf("DeleteTopic = %d, %v", n, err)
	}
	first := h.queue(gone[0])
	h.send(t, kept, "b") // the writer's next Dispatch drops the state
	for _, k := range gone {
		if _, ok := h.r.dispatchTo[k]; ok {
			t.Fatalf("dispatch state of deleted queue %v kept", k)
		}
	}
	if h.r.dispatchTo[kept] == nil || h.r.goneWaiting.Load() {
		t.Fatalf("kept queue's state %v, gone entries waiting %v", h.r.dispatchTo[kept], h.r.goneWaiting.Load())
	}

	// Created again: a fresh queue from offset 0. The first dispatch goes
	// through the registry actor, the ones after it, sent without waiting,
	// straight or behind it; all arrive in order (fakeCQ.Put records an
	// error for any unit out of order).
	h.next[gone[0]] = 0
	for range 50 {
		off := h.next[gone[0]]
		h.next[gone[0]] = off + 1
		h.r.Dispatch(gone[0], []Unit{h.log.append(gone[0], off, "c", "again", 1)})
	}
	testkit.Eventually(t, "the re-created queue holds every unit", func() bool {
		q := h.queue(gone[0])
		return q != first && q.MaxOffset() == 50
	})
	if errs := h.queue(gone[0]).putErrors(); len(errs) != 0 {
		t.Fatalf("units out of order: %v", errs)
	}
	if first.MaxOffset() != 2 {
		t.Fatalf("deleted queue written again: max %d", first.MaxOffset())
	}
}

// TestDropGoneWaitsForRoutedDispatches: a deleted queue's state stays while
// a dispatch routed through the registry actor is on its way (a fresh state
// would send straight past it), and while a new entry of the key uses it.
func TestDropGoneWaitsForRoutedDispatches(t *testing.T) {
	r := &Registry{dispatchTo: map[store.QueueKey]*DispatchTarget{}}
	k := store.QueueKey{Topic: "T", QueueID: 1}
	old := &entry{key: k}
	old.gone.Store(true)
	tgt := &DispatchTarget{e: old, seq: 3}
	tgt.forwarded.Store(2)
	r.dispatchTo[k] = tgt
	r.noteGone(old)
	r.dropGone()
	if r.dispatchTo[k] != tgt || !r.goneWaiting.Load() {
		t.Fatalf("state dropped with a routed dispatch on its way (waiting %v)", r.goneWaiting.Load())
	}
	tgt.forwarded.Store(3)
	r.dropGone()
	if _, ok := r.dispatchTo[k]; ok || r.goneWaiting.Load() || len(r.goneEntries) != 0 {
		t.Fatalf("state kept after the routed dispatches arrived (waiting %v, %d entries)", r.goneWaiting.Load(), len(r.goneEntries))
	}

	// The key in use again by a live entry: its state stays, the gone
	// entry is let go.
	live := &entry{key: k}
	r.dispatchTo[k] = &DispatchTarget{e: live, seq: 1}
	r.dispatchTo[k].forwarded.Store(1)
	r.noteGone(old)
	r.dropGone()
	if r.dispatchTo[k] == nil || r.goneWaiting.Load() || len(r.goneEntries) != 0 {
		t.Fatal("live entry's state dropped, or the gone entry kept waiting")
	}
}

// TestDispatchHandleAcrossTopicDeletion: a DispatchTarget handle the writer
// keeps while its topic is deleted stays usable. Its state, dropped with
// the deleted queue, comes back with the handle's next dispatch, so that
// DispatchTarget hands out the same state (a fresh one would send straight
// past the routed dispatch just made); and when a newer state was made
// meanwhile (the writer forgot the topic and asked again), the old handle
// dispatches through it. Every unit arrives in order.
func TestDispatchHandleAcrossTopicDeletion(t *testing.T) {
	h := newHarness(t, nil)
	t.Cleanup(func() { _ = h.r.Stop(testkit.Context(t)) })
	k := store.QueueKey{Topic: "Gone", QueueID: 0}
	kept := store.QueueKey{Topic: "Kept", QueueID: 0}
	dispatch := func(to *DispatchTarget, n int) {
		for range n {
			off := h.next[k]
			h.next[k] = off + 1
			h.r.DispatchTo(to, []Unit{h.log.append(k, off, "t", "body", 1)})
		}
	}
	holds := func(what string, n int64) *fakeCQ {
		t.Helper()
		var q *fakeCQ
		testkit.Eventually(t, what, func() bool {
			q = h.queue(k)
			return q != nil && q.MaxOffset() == n
		})
		if errs := q.putErrors(); len(errs) != 0 {
			t.Fatalf("%s: units out of order: %v", what, errs)
		}
		return q
	}
	deleteTopic := func() {
		t.Helper()
		if n, err := h.r.DeleteTopic(testkit.Context(t), k.Topic); err != nil || n != 1 {
			t.Fatalf("DeleteTopic = %d, %v", n, err)
		}
		h.next[k] = 0
	}

	handle := h.r.DispatchTarget(k)
	dispatch(handle, 2) // routed, then straight once the first arrived
	first := holds("first queue", 2)
	deleteTopic()
	dispatch(handle, 1) // drops the state, puts it back, routes the unit
	if h.r.DispatchTarget(k) != handle {
		t.Fatal("the handle's state was not put back: DispatchTarget made a fresh one")
	}
	dispatch(handle, 49)
	if q := holds("re-created queue", 50); q == first {
		t.Fatal("units went to the deleted queue")
	}

	deleteTopic()
	h.send(t, kept, "a") // a dispatch of another queue drops the state
	if _, ok := h.r.dispatchTo[k]; ok || !handle.dropped {
		t.Fatal("deleted queue's state kept")
	}
	newer := h.r.DispatchTarget(k)
	if newer == handle {
		t.Fatal("DispatchTarget returned the dropped state")
	}
	dispatch(newer, 1)
	dispatch(handle, 9)
	holds("queue created a third time", 10)
	if h.r.dispatchTo[k] != newer {
		t.Fatal("the old handle replaced the newer state")
	}
}
