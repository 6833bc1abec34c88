package main

import (
	"context"
	"testing"
	"time"
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

	ctx := context.Background()
	now := start + time.Millisecond // requests 0..50 are due
	fixed := func() time.Duration { return now }
	for i := range int64(51) {
		due, ok := pc.next(ctx, now, false, fixed)
		if !ok || due != pc.due(i) {
			t.Fatalf("request %d: next = %v, %v; want %v, true", i, due, ok, pc.due(i))
		}
	}
	if due, ok := pc.next(ctx, now, false, fixed); ok {
		t.Fatalf("request 51 (due %v) handed out at %v without waiting: %v", pc.due(51), now, due)
	}
	// A late generator gets the overdue request at once, with its intended
	// time, not the time it took it.
	now = start + time.Hour
	if due, ok := pc.next(ctx, now, true, fixed); !ok || due != start+2*time.Millisecond {
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
	if due, ok := pc.next(ctx, 0, true, func() time.Duration { return 0 }); ok {
		t.Fatalf("next after the end = %v, true; want false", due)
	}
}
