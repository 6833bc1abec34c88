package main

import (
	"context"
	"sync/atomic"
	"time"
)

// paceGrid is the resolution of a paced run's schedule: Go's timers wake a
// process that has nothing else to run about once a millisecond, so a finer
// schedule would only count the timer's lateness against the broker.
const paceGrid = time.Millisecond

// pacer is the fixed-rate schedule of a paced run (e2e --rate): request i
// is due at its intended send time, start + i/rate rounded up to paceGrid
// (so rate/1000 requests fall due together each millisecond). Latencies,
// the send round trip and the body stamp of publish-to-deliver alike, count
// from that intended time, not from when a sender got to the request: a
// generator that falls behind (its window full while the broker stalls, its
// goroutines not scheduled) shows the lag in its figures instead of hiding
// it (coordinated omission). Requests are never dropped; one that is late
// goes at once.
//
// Rejected: the previous design, a ticker goroutine feeding tokens into a
// channel that dropped what the senders did not take within 10 ms, with
// requests stamped when a sender started its burst (before it waited for
// its first token, which added up to a tick of generator idle time to
// publish-to-deliver) and send round trips timed from the write (which left
// out every request's wait for its sender).
type pacer struct {
	start   time.Duration // since producer.epoch
	every   float64       // ns between requests
	claimed atomic.Int64  // requests handed out
}

func newPacer(start time.Duration, requestsPerS float64) *pacer {
	// At least 1 ns: a zero intended time means "not paced" to the senders.
	return &pacer{start: max(start, 1), every: float64(time.Second) / requestsPerS}
}

// due is request i's intended send time, since producer.epoch.
func (pc *pacer) due(i int64) time.Duration {
	at := time.Duration(float64(i) * pc.every)
	return pc.start + (at+paceGrid-1)/paceGrid*paceGrid
}

// next hands out the next request and its intended send time. Without
// wait it only takes a request that is due by now (false otherwise); with
// wait it takes the next one and sleeps until it is due (false when ctx
// ends first).
func (pc *pacer) next(ctx context.Context, now time.Duration, wait bool, since func() time.Duration) (time.Duration, bool) {
	if !wait {
		for {
			i := pc.claimed.Load()
			due := pc.due(i)
			if due > now {
				return 0, false
			}
			if pc.claimed.CompareAndSwap(i, i+1) {
				return due, true
			}
		}
	}
	due := pc.due(pc.claimed.Add(1) - 1)
	if d := due - since(); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return 0, false
		}
	}
	return due, true
}
