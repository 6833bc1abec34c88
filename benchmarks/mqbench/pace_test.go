package main

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
)

// TestPacerSchedule checks the intended send times: i/rate after the start,
// rounded up to the millisecond grid, handed out in order and only when due.
func TestPacerSchedule(t *testing.T) {
	start := 5 * time.Second
	pc := newPacer(start, 50000) // one request every 20 µs: 50 per millisecond
	for i, want := range map[int64]time.Duration{
		0: start, 1: start + time.Millisecond, 50: start + time.Millisecond,
		51: start + 2*time.Millisecond, 50000: start + time.Second,
	} {
		if got := pc.due(i); got != want {
			t.Errorf("due(%d) = %v, want %v", i, got, want)
		}
	}

	now := start + time.Millisecond // requests 0..50 are due
	fixed := func() time.Duration { return now }
	for i := range int64(51) {
		due, ok := pc.next(now, nil, fixed)
		if !ok || due != pc.due(i) {
			t.Fatalf("request %d: next = %v, %v; want %v, true", i, due, ok, pc.due(i))
		}
	}
	if due, ok := pc.next(now, nil, fixed); ok {
		t.Fatalf("request 51 (due %v) handed out at %v without waiting: %v", pc.due(51), now, due)
	}
	// A late generator gets the overdue request at once, with its intended
	// time, not the time it took it.
	sl := newTestSleeper(t, context.Background())
	now = start + time.Hour
	if due, ok := pc.next(now, sl, fixed); !ok || due != start+2*time.Millisecond {
		t.Fatalf("overdue request 51: next = %v, %v; want %v, true", due, ok, start+2*time.Millisecond)
	}
	if got := pc.claimed.Load(); got != 52 {
		t.Fatalf("claimed %d requests, want 52", got)
	}
}

// TestPacerWaitEnds checks that a sender waiting for a request that is not
// due yet stops when the run ends.
func TestPacerWaitEnds(t *testing.T) {
	pc := newPacer(time.Hour, 1) // the first request is due in an hour
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if due, ok := pc.next(0, newTestSleeper(t, ctx), func() time.Duration { return 0 }); ok {
		t.Fatalf("next after the end = %v, true; want false", due)
	}
}

// TestSleeper checks the timerfd sleeper: a sleep lasts at least its
// duration (a timer may fire late, never early), the next sleep waits
// again (the expiry was consumed, not left readable), and a sleep under
// way ends, false, when the run's context ends.
func TestSleeper(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sl := newTestSleeper(t, ctx)
	for range 3 {
		const d = 2 * time.Millisecond
		began := time.Now()
		if !sl.sleep(d) {
			t.Fatal("sleep ended early with the context live")
		}
		if took := time.Since(began); took < d {
			t.Fatalf("sleep(%v) returned after %v", d, took)
		}
	}
	if !sl.sleep(0) || !sl.sleep(-time.Second) {
		t.Fatal("a sleep for nothing reported the run over")
	}

	ended := make(chan bool)
	go func() { ended <- sl.sleep(time.Hour) }()
	cancel()
	if testkit.Receive(t, ended, "the hour-long sleep to end with its context") {
		t.Fatal("a sleep cut short by the run's end reported true")
	}
	if sl.sleep(time.Millisecond) {
		t.Fatal("a sleep after the run's end reported true")
	}
}

// TestSleepersWaitInTheNetpoller: the timerfd is non-blocking and on the
// netpoller (a read deadline can be set: os.File refuses one for a file
// the poller does not hold), so a sleep parks its goroutine, not a thread:
// sleeps seen waiting in the poller ("IO wait") end, false, with their
// context. A blocking timerfd passed TestSleeper, whose sleep ended through
// the context check before it ever read.
func TestSleepersWaitInTheNetpoller(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const n = 8
	ended := make(chan bool, n)
	for range n {
		sl := newTestSleeper(t, ctx)
		if err := sl.f.SetReadDeadline(time.Time{}); err != nil {
			t.Fatalf("the timerfd is not on the netpoller: %v", err)
		}
		go func() { ended <- sl.sleep(time.Hour) }()
	}
	buf := make([]byte, 1<<20)
	testkit.Eventually(t, "every sleep waiting in the netpoller", func() bool {
		stacks := string(buf[:runtime.Stack(buf, true)])
		return strings.Count(stacks, "[IO wait") >= n && strings.Count(stacks, "(*sleeper).sleep") >= n
	})
	cancel()
	for range n {
		if testkit.Receive(t, ended, "a sleep waiting in the netpoller to end with its context") {
			t.Fatal("a sleep cut short by the run's end reported true")
		}
	}
}

func newTestSleeper(t *testing.T, ctx context.Context) *sleeper {
	t.Helper()
	sl, err := newSleeper(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sl.close(); err != nil {
			t.Error(err)
		}
	})
	return sl
}
