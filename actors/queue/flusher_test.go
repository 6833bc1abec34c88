package queue

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/storage/store"
)

// TestFlushRounds checks the flusher's rounds: between thorough rounds each
// queue Put to since the last round (fakeCQ has no FlushPage, so every Put
// lists it) is asked to flush with FlushConsumeQueueLeastPages, a queue
// without Puts is not asked, and FlushedTimestamp stays; a thorough round
// asks every queue for everything and advances it.
func TestFlushRounds(t *testing.T) {
	q1 := store.QueueKey{Topic: testTopic, QueueID: 1}
	h := newHarness(t, func(c *Config) {
		c.CQFlushInterval = 5 * time.Millisecond
		c.CQFlushThoroughInterval = time.Hour
		c.Broker.FlushConsumeQueueLeastPages = 2
	}, q1)
	flushes := func(k store.QueueKey) []int {
		q := h.queue(k)
		q.mu.Lock()
		defer q.mu.Unlock()
		return slices.Clone(q.flushes)
	}
	h.sendAt(t, q0, 1234)
	testkit.Eventually(t, "a flush round", func() bool { return len(flushes(q0)) >= 1 })
	h.sendAt(t, q0, 1000)
	testkit.Eventually(t, "a flush round after the next Put", func() bool { return len(flushes(q0)) >= 2 })
	if got := flushes(q0); slices.ContainsFunc(got, func(n int) bool { return n != 2 }) {
		t.Fatalf("leastPages of the rounds: %v, want 2 each", got)
	}
	if got := flushes(q1); len(got) != 0 {
		t.Fatalf("queue without Puts asked to flush by rounds by pages: %v", got)
	}
	if ts := h.r.FlushedTimestamp(); ts != 0 {
		t.Fatalf("FlushedTimestamp %d after rounds that may skip units", ts)
	}
	// Stop ends with a thorough round.
	if err := h.r.Stop(testkit.Context(t)); err != nil {
		t.Fatal(err)
	}
	for _, k := range []store.QueueKey{q0, q1} {
		if got := flushes(k); got[len(got)-1] != 0 {
			t.Fatalf("last flush of Stop asked %v for %d pages, want all (0)", k, got[len(got)-1])
		}
	}
	if ts := h.r.FlushedTimestamp(); ts != 1234 {
		t.Fatalf("FlushedTimestamp %d after the thorough flush, want 1234", ts)
	}
}

// countedCQ is a real ConsumeQueue that counts the FlushPages calls.
type countedCQ struct {
	*consumequeue.ConsumeQueue
	flushCalls atomic.Int64
}

func (q *countedCQ) FlushPages(leastPages int) error {
	q.flushCalls.Add(1)
	return q.ConsumeQueue.FlushPages(leastPages)
}

// TestFlushRoundsVisitQueuesWhoseEndChangedPage: with a real consume queue
// a round by pages asks a new queue once, to fsync its directory entries,
// then only when its end moved to another page since the round before
// (FlushPage), and flushes it once two pages are due.
func TestFlushRoundsVisitQueuesWhoseEndChangedPage(t *testing.T) {
	root := t.TempDir()
	var opened atomic.Pointer[countedCQ] // set on the registry actor
	log := &fakeLog{}
	deps := storeDeps{log: log, queues: map[store.QueueKey]cqueue{}, open: func(k store.QueueKey) (cqueue, error) {
		q, err := consumequeue.Open(consumequeue.Config{RootDir: root, Topic: k.Topic, QueueID: k.QueueID})
		if err != nil {
			return nil, err
		}
		c := &countedCQ{ConsumeQueue: q}
		opened.Store(c)
		return c, nil
	}}
	cfg := Config{Topics: fakeTopics{}, Subscriptions: fakeSubs{}, CQFlushInterval: time.Hour, CQFlushThoroughInterval: time.Hour}
	cfg.Broker.FlushConsumeQueueLeastPages = 2
	r, err := spawn(testkit.ActorSystem(t), cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = r.Stop(testkit.Context(t))
		if q := opened.Load(); q != nil {
			_ = q.Close()
		}
	})
	var cq *countedCQ
	var next int64
	putUpTo := func(end int64) { // one Dispatch per unit, as with many queues
		for ; next < end; next++ {
			r.Dispatch(q0, []Unit{log.append(q0, next, "", "b", 1)})
		}
		testkit.Eventually(t, "units stored", func() bool { cq = opened.Load(); return cq != nil && cq.MaxOffset() == end })
		testkit.Eventually(t, "the queue actor done", func() bool {
			r.dueMu.Lock()
			defer r.dueMu.Unlock()
			return len(r.flushDue) > 0 || cq.FlushPage(end) == cq.FlushPage(0)
		})
	}
	// A page holds 204 units and a part.
	const perPage = 4096 / consumequeue.UnitBytes
	putUpTo(100) // page 0 of a new file: asked for its entries only
	testkit.Eventually(t, "the new queue listed", func() bool {
		r.dueMu.Lock()
		defer r.dueMu.Unlock()
		return len(r.flushDue) > 0
	})
	r.flushAll(2)
	r.flushAll(2)
	if n := cq.flushCalls.Load(); n != 1 {
		t.Fatalf("FlushPages calls %d for a new queue in its first page, want 1", n)
	}
	if cq.EntriesUnsynced() {
		t.Fatal("the new queue's directory entries wait after a round by pages")
	}
	putUpTo(200) // page 0, entries synced: not asked
	r.flushAll(2)
	if n := cq.flushCalls.Load(); n != 1 {
		t.Fatalf("FlushPages calls %d after Puts within the first page, want 1", n)
	}
	putUpTo(perPage + 1) // page 1: asked, one page is not enough
	r.flushAll(2)
	r.flushAll(2)
	if n := cq.flushCalls.Load(); n != 2 {
		t.Fatalf("FlushPages calls %d after the end moved one page, want 2", n)
	}
	putUpTo(2*perPage + 2) // page 2: asked and flushed
	r.flushAll(2)
	if n := cq.flushCalls.Load(); n != 3 {
		t.Fatalf("FlushPages calls %d after the end moved another page, want 3", n)
	}
	r.dueMu.Lock()
	defer r.dueMu.Unlock()
	if len(r.flushDue) != 0 {
		t.Fatalf("%d queues still listed after the round", len(r.flushDue))
	}
}
