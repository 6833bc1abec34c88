package queue

import (
	"slices"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
)

// TestFlushRounds checks the flusher's rounds: between thorough rounds each
// queue is asked to flush with FlushConsumeQueueLeastPages and
// FlushedTimestamp stays; a thorough round asks for everything and
// advances it.
func TestFlushRounds(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.CQFlushInterval = 5 * time.Millisecond
		c.CQFlushThoroughInterval = time.Hour
		c.Broker.FlushConsumeQueueLeastPages = 2
	})
	h.sendAt(t, q0, 1234)
	flushes := func() []int {
		q := h.queue(q0)
		q.mu.Lock()
		defer q.mu.Unlock()
		return slices.Clone(q.flushes)
	}
	testkit.Eventually(t, "two flush rounds", func() bool { return len(flushes()) >= 2 })
	if got := flushes(); slices.ContainsFunc(got, func(n int) bool { return n != 2 }) {
		t.Fatalf("leastPages of the rounds: %v, want 2 each", got)
	}
	if ts := h.r.FlushedTimestamp(); ts != 0 {
		t.Fatalf("FlushedTimestamp %d after rounds that may skip units", ts)
	}
	// Stop ends with a thorough round.
	if err := h.r.Stop(testkit.Context(t)); err != nil {
		t.Fatal(err)
	}
	if got := flushes(); got[len(got)-1] != 0 {
		t.Fatalf("last flush of Stop asked for %d pages, want all (0)", got[len(got)-1])
	}
	if ts := h.r.FlushedTimestamp(); ts != 1234 {
		t.Fatalf("FlushedTimestamp %d after the thorough flush, want 1234", ts)
	}
}
