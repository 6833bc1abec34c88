package queue

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
)

// destroyableCQ is a fakeCQ with the Destroy a real ConsumeQueue has.
type destroyableCQ struct {
	*fakeCQ
	destroyed atomic.Bool
}

func (q *destroyableCQ) Destroy() error { q.destroyed.Store(true); return nil }

func TestDeleteTopicDestroysItsQueues(t *testing.T) {
	var (
		mu      sync.Mutex
		opened  = map[store.QueueKey][]*destroyableCQ{}
		dropped []store.QueueKey
	)
	idle := store.QueueKey{Topic: "T", QueueID: 0}
	live := store.QueueKey{Topic: "T", QueueID: 1}
	other := store.QueueKey{Topic: "Other", QueueID: 0}
	idleQ := &destroyableCQ{fakeCQ: &fakeCQ{}}
	log := &fakeLog{}
	deps := storeDeps{
		log:    log,
		queues: map[store.QueueKey]cqueue{idle: idleQ},
		open: func(k store.QueueKey) (cqueue, error) {
			mu.Lock()
			defer mu.Unlock()
			q := &destroyableCQ{fakeCQ: &fakeCQ{}}
			opened[k] = append(opened[k], q)
			return q, nil
		},
		drop: func(k store.QueueKey) {
			mu.Lock()
			dropped = append(dropped, k)
			mu.Unlock()
		},
	}
	r, err := spawn(testkit.ActorSystem(t), Config{Topics: fakeTopics{}, Subscriptions: fakeSubs{}}, deps)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop(testkit.Context(t)) })
	latest := func(k store.QueueKey) *destroyableCQ {
		mu.Lock()
		defer mu.Unlock()
		qs := opened[k]
		if len(qs) == 0 {
			return nil
		}
		return qs[len(qs)-1]
	}
	dispatch := func(k store.QueueKey, off int64) {
		r.Dispatch(k, []Unit{log.append(k, off, "", "b", 1)})
		testkit.Eventually(t, "the unit stored", func() bool { q := latest(k); return q != nil && q.MaxOffset() == off+1 })
	}
	// Twice: the second dispatch goes straight to the queue actor through
	// Dispatch's cached entry, which the deletion must invalidate (gone).
	dispatch(live, 0)
	dispatch(live, 1)
	dispatch(other, 0)

	n, err := r.DeleteTopic(testkit.Context(t), "T")
	if err != nil || n != 2 {
		t.Fatalf("DeleteTopic = %d, %v", n, err)
	}
	if !idleQ.destroyed.Load() || !latest(live).destroyed.Load() || latest(other).destroyed.Load() {
		t.Fatalf("destroyed: idle %v live %v other %v", idleQ.destroyed.Load(), latest(live).destroyed.Load(), latest(other).destroyed.Load())
	}
	mu.Lock()
	if len(dropped) != 2 {
		t.Fatalf("store told to drop %v", dropped)
	}
	mu.Unlock()
	if r.lookup(idle) != nil || r.lookup(live) != nil || r.lookup(other) == nil {
		t.Fatal("registry entries not removed")
	}
	// The topic created again starts a fresh queue at offset 0.
	first := latest(live)
	r.Dispatch(live, []Unit{log.append(live, 0, "", "b", 1)})
	testkit.Eventually(t, "a fresh queue with the unit", func() bool {
		q := latest(live)
		return q != first && q.MaxOffset() == 1
	})
	if first.MaxOffset() != 2 {
		t.Fatal("the destroyed queue was written again")
	}
	if n, err := r.DeleteTopic(testkit.Context(t), "Nope"); err != nil || n != 0 {
		t.Fatalf("DeleteTopic of an unknown topic = %d, %v", n, err)
	}
}

func TestCountersAndTimeLookups(t *testing.T) {
	h := newHarness(t, nil)
	k := store.QueueKey{Topic: testTopic, QueueID: 0}
	var units []Unit
	for i, ts := range []int64{100, 200, 300} {
		units = append(units, h.log.append(k, int64(i), "", "b", ts))
	}
	h.r.Dispatch(k, units)
	testkit.Eventually(t, "units stored", func() bool { q := h.queue(k); return q != nil && q.MaxOffset() == 3 })
	sched := store.QueueKey{Topic: body.ScheduleTopic, QueueID: 0}
	h.r.Dispatch(sched, []Unit{h.log.append(sched, 0, "", "d", 1)})
	testkit.Eventually(t, "schedule unit stored", func() bool { q := h.queue(sched); return q != nil && q.MaxOffset() == 1 })

	c := newFakeConn()
	h.r.handlePull(c, pullCmd("g1", 0, 1, 0, 0, ""))
	if resp := c.next(t); resp.cmd.Code != remoting.RespSuccess || len(bodies(t, resp.body)) != 2 {
		t.Fatalf("pull: %d %d messages", resp.cmd.Code, len(bodies(t, resp.body)))
	}
	cnt := h.r.Counters()
	if cnt.Puts() != 3 || cnt.Gets() != 2 || cnt.GroupGet(GroupTopic{Group: "g1", Topic: testTopic}) != 2 {
		t.Fatalf("puts %d gets %d group %d", cnt.Puts(), cnt.Gets(), cnt.GroupGet(GroupTopic{Group: "g1", Topic: testTopic}))
	}

	for ts, want := range map[int64]int64{50: 0, 200: 1, 250: 2, 301: 3} {
		if got := h.r.SearchOffset(testTopic, 0, ts); got != want {
			t.Errorf("SearchOffset(%d) = %d, want %d", ts, got, want)
		}
	}
	if ts, ok := h.r.StoreTime(testTopic, 0, 2); !ok || ts != 300 {
		t.Errorf("StoreTime(2) = %d, %v", ts, ok)
	}
	if _, ok := h.r.StoreTime(testTopic, 0, 3); ok {
		t.Error("StoreTime beyond the queue found something")
	}
	if got := h.r.SearchOffset("Nope", 0, 1); got != 0 {
		t.Errorf("SearchOffset of an unknown queue = %d", got)
	}
}

// TestCountingAPullAllocatesNothing: the per-group pull counter is looked up
// through the queue's copy-on-write group map, so a pull's count costs no
// allocation once the group has been seen, on a loop or the queue actor.
func TestCountingAPullAllocatesNothing(t *testing.T) {
	r := &Registry{}
	e := &entry{key: store.QueueKey{Topic: "T", QueueID: 1}}
	r.countGet(e, "G", 3)
	if n := testing.AllocsPerRun(100, func() { r.countGet(e, "G", 2) }); n != 0 {
		t.Fatalf("countGet allocates %.1f times per pull", n)
	}
	if got := r.counters.GroupGet(GroupTopic{Group: "G", Topic: "T"}); got != 3+2*101 {
		t.Fatalf("group count %d, want %d", got, 3+2*101)
	}
	if got := r.counters.Gets(); got != 3+2*101 {
		t.Fatalf("gets %d, want %d", got, 3+2*101)
	}
}
