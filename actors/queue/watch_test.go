package queue

import (
	"testing"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/store"
)

// TestWatchFiresOncePastFrom covers the three ways a watch ends: at once for
// a queue already past from, after the Put that passes from (also for a
// queue that did not exist when watched), and never before that Put.
func TestWatchFiresOncePastFrom(t *testing.T) {
	existing := store.QueueKey{Topic: testTopic, QueueID: 0}
	absent := store.QueueKey{Topic: "SCHEDULE_TOPIC_XXXX", QueueID: 2}
	h := newHarness(t, nil, existing)
	h.send(t, existing, "a", "b")

	type fired struct {
		name string
		max  int64 // the queue's MaxOffset when fn ran
	}
	ch := make(chan fired, 16)
	watch := func(name string, key store.QueueKey, from int64) {
		h.r.Watch(key, from, func() { ch <- fired{name: name, max: h.queue(key).MaxOffset()} })
	}

	watch("already past", existing, 1)
	if got := testkit.Receive(t, ch, "watch of a unit that exists"); got.name != "already past" || got.max != 2 {
		t.Fatalf("fired %+v, want already past at max 2", got)
	}

	watch("next unit", existing, 2)
	watch("two units on", existing, 3)
	watch("absent queue", absent, 0)
	// Only the registry and queue actors' mailboxes stand between a watch and
	// its registration: a dispatch sent after it is handled after it.
	h.send(t, existing, "c")
	if got := testkit.Receive(t, ch, "watch of the next unit"); got.name != "next unit" || got.max != 3 {
		t.Fatalf("fired %+v, want next unit at max 3", got)
	}
	h.send(t, absent, "x")
	if got := testkit.Receive(t, ch, "watch of an absent queue"); got.name != "absent queue" || got.max != 1 {
		t.Fatalf("fired %+v, want absent queue at max 1", got)
	}
	select {
	case got := <-ch:
		t.Fatalf("%q fired before its unit was stored (max %d)", got.name, got.max)
	default:
	}
	h.send(t, existing, "d")
	if got := testkit.Receive(t, ch, "watch two units on"); got.name != "two units on" || got.max != 4 {
		t.Fatalf("fired %+v, want two units on at max 4", got)
	}
}
