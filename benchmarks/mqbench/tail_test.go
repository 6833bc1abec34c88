package main

import (
	"context"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
)

// TestTailVerdict: a consumer keeps up when it received everything and was
// at most one second of sends behind when the producers stopped.
func TestTailVerdict(t *testing.T) {
	for _, tc := range []struct {
		name                          string
		sent, received, receivedAtEnd int64
		elapsed                       time.Duration
		wantLag, wantCatchUpMs        int64
		wantKeptUp                    bool
	}{
		{"one pull behind", 10_000, 10_000, 9_968, 2 * time.Second, 32, 5, true},
		{"one second behind", 10_000, 10_000, 5_000, 2 * time.Second, 5_000, 5, true},
		{"fell behind", 10_000, 10_000, 4_000, 2 * time.Second, 6_000, 5, false},
		{"never caught up", 10_000, 9_999, 9_990, 2 * time.Second, 10, -1, false},
	} {
		got := newTail(tc.sent, tc.received, tc.receivedAtEnd, tc.elapsed, 5*time.Millisecond)
		if got.LagEndMsgs != tc.wantLag || got.CatchUpMs != tc.wantCatchUpMs || got.KeptUp != tc.wantKeptUp ||
			got.SendMsgsPerS != 5_000 || got.ConsumerMsgsPerS != float64(tc.receivedAtEnd)/2 {
			t.Errorf("%s: %+v", tc.name, got)
		}
	}
}

// TestConsumeRepeat: --repeat reads the stored messages again from each
// queue's first offset (no gap counted at the wrap) and reports the backlog
// but no latency.
func TestConsumeRepeat(t *testing.T) {
	ns := startCluster(t)
	sent, _ := mqbench(t, "produce", "-n", ns, "-t", "BenchRepeat", "-s", "32", "-c", "1", "-w", "4", "--mode", "async", "--messages", "40", "--duration", "30s")
	if sent.Sent != 40 || sent.Errors != 0 {
		t.Fatalf("produce: %+v", sent)
	}
	testkit.Eventually(t, "every acknowledged message in the consume queues", func() bool {
		return storedCount(t, ns, "BenchRepeat") == 40
	})
	got, _ := mqbench(t, "consume", "-n", ns, "-t", "BenchRepeat", "-c", "2", "--repeat", "--duration", "2s")
	if got.Backlog != 40 || got.Received <= got.Backlog || got.Errors != 0 {
		t.Fatalf("consume --repeat: want more than the 40 stored received again, no errors: %+v", got)
	}
	// Re-read messages' receipt − store time is their age: no latency.
	if !got.Repeat || got.P50Us != 0 || got.P99Us != 0 || got.MaxUs != 0 {
		t.Errorf("consume --repeat reported a latency: %+v", got)
	}
}

// TestConsumeRepeatFlags: --repeat neither drains nor starts at the last
// offsets, and refuses a topic with nothing stored.
func TestConsumeRepeatFlags(t *testing.T) {
	for _, args := range [][]string{{"--drain"}, {"--from", "last"}} {
		root, _ := newRoot(&lockedWriter{t: t})
		root.SetArgs(append([]string{"consume", "--repeat", "-n", testkit.ClosedAddr(t)}, args...))
		if err := root.ExecuteContext(context.Background()); err == nil || err.Error() != "--repeat reads from the first offsets and never drains: no --drain, no --from last" {
			t.Errorf("--repeat %v: %v", args, err)
		}
	}
	ns := startCluster(t)
	root, _ := newRoot(&lockedWriter{t: t})
	root.SetArgs([]string{"consume", "-n", ns, "-t", "BenchEmpty", "--repeat", "--duration", "5s"})
	if err := root.ExecuteContext(testkit.ContextWithin(t, time.Minute)); err == nil || err.Error() != "--repeat: BenchEmpty has no messages to read" {
		t.Errorf("--repeat on an empty topic: %v", err)
	}
}
