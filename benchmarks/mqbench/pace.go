package main

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// paceGrid is the resolution of a paced run's schedule: the requests due
// within one step go together. A finer grid, closer to evenly spaced
// requests, was measured worse at 50,000 msgs/s (session 12, with the
// timerfd sleeper below): 250, 100 and 20 µs steps raised the generator's
// CPU per message from ~9 to 14–20 µs and the broker's from ~14.5 to
// 15–18 µs, and the send p99 from 2.1–3.4 ms to 2.6–9.3 ms (20 µs: 5.7–32
// ms), every step a wake-up of the senders and of the broker's threads.
const paceGrid = time.Millisecond

// pacer is the fixed-rate schedule of a paced run (e2e --rate): request i
// is due at its intended send time, start + i/rate rounded up to paceGrid
// (so rate/1000 requests fall due together each millisecond). Latencies, the send round trip and the body stamp of
// publish-to-deliver alike, count from that intended time, not from when a
// sender got to the request: a generator that falls behind (its window full
// while the broker stalls, its goroutines not scheduled, its wake-up late)
// shows the lag in its figures instead of hiding it (coordinated omission).
// Requests are never dropped; one that is late goes at once.
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

// next hands out the next request and its intended send time. Without a
// sleeper it only takes a request that is due by now (false otherwise);
// with one it takes the next request and sleeps until it is due (false
// when the sleeper's run ends first).
func (pc *pacer) next(now time.Duration, sl *sleeper, since func() time.Duration) (time.Duration, bool) {
	if sl == nil {
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
	if !sl.sleep(due - since()) {
		return 0, false
	}
	return due, true
}

// sleeper is one sender's wait for its next paced request, a timerfd read
// through Go's netpoller. Go's own timers wake late here: a process with
// nothing else to run waits for its next timer in epoll_wait, whose
// timeout the runtime rounds to whole milliseconds (a timer due in 0.3 ms
// fires after 1 ms; measured on this VM with the process otherwise idle:
// a wait for the next millisecond mark woke p50 0.6 ms, p99 1.1–1.6 ms
// late), and at 50,000 msgs/s that lateness (pace_late p50 0.3 ms, p99
// 1.4 ms in session 12's suite) was counted against the broker. A timerfd's
// expiry is an hrtimer without that rounding, and its descriptor is
// readable the moment it fires, so epoll_wait returns at once: the same
// wait woke p50 45–53 µs late. The sender still parks in the netpoller
// like any goroutine, so no thread of its own sleeps or spins.
//
// Waking on time costs both processes: the generator ~2.5 CPU-µs a message
// more (four senders woken each millisecond instead of with the answers'
// reader), and the broker ~2.5 more, its context switches per 1,000
// messages 230 → 330, since a request now reaches it after it went idle
// since the previous millisecond, as fixed-rate load does, instead of while
// it still answered the previous one.
//
// Rejected: a locked OS thread sleeping in clock_nanosleep and handing due
// requests to the senders (a thread blocked in a syscall holds its P until
// sysmon retakes it, and each hand-off is one more goroutine wake-up);
// spinning until the due time (a core of the two the broker shares); one
// sender at a time waiting for the next due time, handing that turn on
// after its burst (measured no cheaper with the machine shared).
type sleeper struct {
	ctx context.Context
	f   *os.File // the timerfd, non-blocking, so reads wait in the netpoller
	// fd is f's descriptor, kept for timerfd_settime: f.Fd() would put
	// the descriptor in blocking mode and take its reads off the netpoller.
	fd   int
	stop func() bool // unregisters the ctx callback that interrupts a read
	buf  [8]byte     // the expiration count a read returns
}

// newSleeper makes a sleeper whose sleeps end early, false, when ctx ends.
func newSleeper(ctx context.Context) (*sleeper, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("timerfd_create: %w", err)
	}
	sl := &sleeper{ctx: ctx, f: os.NewFile(uintptr(fd), "pacer-timerfd"), fd: fd}
	// A read deadline in the past wakes a read waiting in the netpoller
	// and fails every later one, so a run's end never waits for a due time.
	sl.stop = context.AfterFunc(ctx, func() { _ = sl.f.SetReadDeadline(time.Unix(1, 0)) })
	return sl, nil
}

// sleep waits d (nothing when d ≤ 0) and reports whether the run goes on.
func (sl *sleeper) sleep(d time.Duration) bool {
	// Checked first: when ctx ended before newSleeper, AfterFunc sets the
	// deadline from a goroutine of its own, maybe after this read began.
	if sl.ctx.Err() != nil {
		return false
	}
	if d <= 0 {
		return true
	}
	// Relative: the time between reading since() and arming is the only
	// error, well under the wake-up's own. A zero it_value would disarm.
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(d.Nanoseconds())}
	if err := unix.TimerfdSettime(sl.fd, 0, &spec, nil); err != nil {
		// Cannot happen with a valid descriptor and value; sleep the
		// ordinary way rather than send early.
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-sl.ctx.Done():
			return false
		}
	}
	// Any error ends the run's sends: the deadline set when ctx ended, or
	// a descriptor already closed (a timerfd read fails no other way).
	_, err := sl.f.Read(sl.buf[:])
	return err == nil
}

// close releases the timerfd; the sleeper is not used after.
func (sl *sleeper) close() error {
	sl.stop()
	return sl.f.Close()
}
