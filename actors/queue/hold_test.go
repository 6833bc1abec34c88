package queue

import (
	"fmt"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/remoting"
)

// TestHeldPullsNoLostWakeup tails a queue with suspending pulls while
// another goroutine dispatches messages one small batch at a time, as the
// writer does: every pull must be answered by the dispatch that passes its
// offset (a lost wake-up would leave it held for 20 s, past the test's
// bound), and the consumer must receive every message once, in order.
func TestHeldPullsNoLostWakeup(t *testing.T) {
	const total = 2000
	h := newHarness(t, nil)
	h.send(t, q0, "") // the queue exists: pulls at its end are held by its actor
	produced := h.dispatchSmallBatches(total)
	h.tail(t, total)
	testkit.Receive(t, produced, "the producer done")
	testkit.Eventually(t, "nothing held", func() bool { return h.heldCount() == 0 })
}

// dispatchSmallBatches plays the writer (the only goroutine calling
// Dispatch): it dispatches the messages "m1".."m<total-1>" to q0 in batches
// of one to three units and closes the returned channel when done.
func (h *harness) dispatchSmallBatches(total int64) <-chan struct{} {
	produced := make(chan struct{})
	go func() {
		defer close(produced)
		off := int64(1)
		for off < total {
			n := min(1+off%3, total-off)
			units := make([]Unit, 0, n)
			for i := int64(0); i < n; i++ {
				units = append(units, h.log.append(q0, off+i, "", fmt.Sprintf("m%d", off+i), time.Now().UnixMilli()))
			}
			h.r.Dispatch(q0, units)
			off += n
		}
	}()
	return produced
}

// tail pulls q0 from offset 1 with suspending pulls until it has received
// every message below total: each pull must be answered SUCCESS, with the
// next messages in order and the nextBeginOffset after them.
func (h *harness) tail(t *testing.T, total int64) {
	t.Helper()
	c := newFakeConn()
	for next := int64(1); next < total; {
		h.r.handlePull(c, pullCmd("g1", 0, next, pullFlagSuspend, 20*time.Second, ""))
		r := c.next(t)
		if r.cmd.Code != remoting.RespSuccess {
			t.Fatalf("pull at %d answered %d (%s)", next, r.cmd.Code, r.cmd.Remark)
		}
		for _, b := range bodies(t, r.body) {
			if want := fmt.Sprintf("m%d", next); b != want {
				t.Fatalf("got %q, want %q", b, want)
			}
			next++
		}
		if got := ext(t, r.cmd, "nextBeginOffset"); got != next {
			t.Fatalf("nextBeginOffset %d, want %d", got, next)
		}
	}
}

// TestHeldPullsDeadlines: each held pull is answered at its own deadline,
// not before, while a later one of the same queue stays held until a
// message wakes it; a pull of a queue that does not exist expires the same
// way.
func TestHeldPullsDeadlines(t *testing.T) {
	h := newHarness(t, nil)
	h.send(t, q0, "")
	absent := store.QueueKey{Topic: testTopic, QueueID: 3}
	short, long, none := newFakeConn(), newFakeConn(), newFakeConn()
	start := time.Now()
	h.r.handlePull(long, pullCmd("g1", 0, 1, pullFlagSuspend, 20*time.Second, ""))
	h.r.handlePull(short, pullCmd("g1", 0, 1, pullFlagSuspend, 50*time.Millisecond, ""))
	h.r.handlePull(none, pullCmd("g1", absent.QueueID, 0, pullFlagSuspend, 80*time.Millisecond, ""))

	for _, tt := range []struct {
		name string
		c    *fakeConn
		hold time.Duration
	}{{"short", short, 50 * time.Millisecond}, {"absent queue", none, 80 * time.Millisecond}} {
		r := tt.c.next(t)
		if r.cmd.Code != remoting.RespPullNotFound {
			t.Fatalf("%s: code %d (%s), want PULL_NOT_FOUND", tt.name, r.cmd.Code, r.cmd.Remark)
		}
		if waited := time.Since(start); waited < tt.hold-sweepSlack {
			t.Fatalf("%s: answered after %v, before its hold of %v", tt.name, waited, tt.hold)
		}
	}
	testkit.Eventually(t, "one pull held", func() bool { return h.heldCount() == 1 })
	long.none(t)
	h.send(t, q0, "x")
	if r := long.next(t); r.cmd.Code != remoting.RespSuccess || len(bodies(t, r.body)) != 1 {
		t.Fatalf("long: code %d (%s)", r.cmd.Code, r.cmd.Remark)
	}
	testkit.Eventually(t, "nothing held", func() bool { return h.heldCount() == 0 })
}

// TestHeldPullOfAbsentQueueSurvivesItsCreation: a pull held while its queue
// did not exist moves to the queue actor when a watch creates the actor
// before any unit, stays held there, and the first unit wakes it.
func TestHeldPullOfAbsentQueueSurvivesItsCreation(t *testing.T) {
	h := newHarness(t, nil)
	k := store.QueueKey{Topic: testTopic, QueueID: 2}
	c := newFakeConn()
	h.r.handlePull(c, pullCmd("g1", k.QueueID, 0, pullFlagSuspend, 20*time.Second, ""))
	testkit.Eventually(t, "held", func() bool { return h.heldCount() == 1 })
	watched := make(chan struct{})
	h.r.Watch(k, 0, func() { close(watched) })
	testkit.Eventually(t, "the queue actor created", func() bool {
		e := h.r.lookup(k)
		return e != nil && e.pid.Load() != nil
	})
	// Answered at the hand-over (wrongly), the pull's first answer would be
	// PULL_NOT_FOUND, or there would be none left to wake.
	h.send(t, k, "first")
	if r := c.next(t); r.cmd.Code != remoting.RespSuccess || len(bodies(t, r.body)) != 1 {
		t.Fatalf("code %d (%s)", r.cmd.Code, r.cmd.Remark)
	}
	testkit.Receive(t, watched, "the watch")
}

// TestDeleteTopicAnswersHeldPulls: deleting a topic answers the pulls held
// on its queues at once, as pulls of a queue that does not exist.
func TestDeleteTopicAnswersHeldPulls(t *testing.T) {
	h := newHarness(t, nil)
	h.send(t, q0, "a", "b")
	c := newFakeConn()
	h.r.handlePull(c, pullCmd("g1", 0, 2, pullFlagSuspend, 20*time.Second, ""))
	testkit.Eventually(t, "held", func() bool { return h.heldCount() == 1 })
	if n, err := h.r.DeleteTopic(testkit.Context(t), testTopic); err != nil || n != 1 {
		t.Fatalf("DeleteTopic = %d, %v", n, err)
	}
	r := c.next(t)
	if r.cmd.Code != remoting.RespPullOffsetMoved || ext(t, r.cmd, "nextBeginOffset") != 0 {
		t.Fatalf("code %d (%s) next %d, want PULL_OFFSET_MOVED to 0", r.cmd.Code, r.cmd.Remark, ext(t, r.cmd, "nextBeginOffset"))
	}
	if got := h.heldCount(); got != 0 {
		t.Fatalf("%d pulls still counted as held", got)
	}
}

// TestHeldPullsMaxAcrossHolders: HeldPullsMax bounds the pulls held by
// queue actors and the registry together; past it a pull is answered
// PULL_NOT_FOUND at once.
func TestHeldPullsMaxAcrossHolders(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.HeldPullsMax = 2 })
	h.send(t, q0, "")
	c := newFakeConn()
	h.r.handlePull(c, pullCmd("g1", 0, 1, pullFlagSuspend, 20*time.Second, "")) // queue actor
	h.r.handlePull(c, pullCmd("g1", 2, 0, pullFlagSuspend, 20*time.Second, "")) // registry: no queue 2
	testkit.Eventually(t, "two held", func() bool { return h.heldCount() == 2 })
	h.r.handlePull(c, pullCmd("g1", 0, 1, pullFlagSuspend, 20*time.Second, ""))
	if r := c.next(t); r.cmd.Code != remoting.RespPullNotFound {
		t.Fatalf("code %d, want PULL_NOT_FOUND", r.cmd.Code)
	}
	c.none(t)
	if got := h.heldCount(); got != 2 {
		t.Fatalf("held %d, want 2", got)
	}
}
