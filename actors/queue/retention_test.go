package queue

import (
	"testing"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/store"
)

// TestDeleteBelowReachesEveryQueue checks the cleaner's notice reaches both a
// queue with a running actor and a recovered queue that has none yet.
func TestDeleteBelowReachesEveryQueue(t *testing.T) {
	idle := store.QueueKey{Topic: testTopic, QueueID: 2}
	h := newHarness(t, nil, idle)
	busy := store.QueueKey{Topic: testTopic, QueueID: 0}
	h.send(t, busy, "TagA") // spawns busy's actor
	h.r.DeleteBelow(4096)
	for _, k := range []store.QueueKey{busy, idle} {
		q := h.queue(k)
		testkit.Eventually(t, "DeleteBelow on "+k.Topic, func() bool { return q.lastDeletedBelow() == 4096 })
	}
}
