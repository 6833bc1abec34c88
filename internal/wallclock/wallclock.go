// Package wallclock is the wall-clock seam of scheduled work: the code that
// compares wall-clock times with stored ones (delay-level delivery times,
// the ages of half messages) reads the time through Now, so that sim/ can
// jump the clock forward or backward in process, as an NTP step or an
// operator would on a real machine. Timers stay on Go's monotonic timers;
// only what a timer is armed for (Until) follows the jumped clock.
//
// Without a jump Now is time.Now: one atomic load more. Rejected: passing a
// clock through every Config (transaction.Config.Now does that for its
// tests): a jump must reach every reader of the wall clock in the broker at
// once, including ones built deep inside actors.
//
// A real process (sim/proc) starts with its clock jumped by the Go duration
// in ACTORMQ_WALLCLOCK_OFFSET ("2h", "-90m"): a restart after a clock step.
// A value that does not parse makes the process exit with status 2 at
// start-up, so a typo never passes for an unjumped run.
package wallclock

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"
)

// EnvVar is the environment variable that jumps a process's clock at start.
const EnvVar = "ACTORMQ_WALLCLOCK_OFFSET"

// offset is the sum of all jumps, in nanoseconds.
var offset atomic.Int64

func init() {
	v := os.Getenv(EnvVar)
	if v == "" {
		return
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", EnvVar, err)
		os.Exit(2)
	}
	offset.Store(int64(d))
}

// Env returns the environment entry that starts a child process with its
// clock jumped by d, for proc.Options.Env.
func Env(d time.Duration) string { return EnvVar + "=" + d.String() }

// Now is the wall clock: time.Now shifted by the jumps so far. A jumped time
// carries no monotonic reading (Round(0)), so Sub and comparisons between
// jumped times use the jumped wall clock, as the stored millisecond times
// they are compared with do. Unlike two time.Now readings on a real machine,
// a duration between two Now readings taken across a jump includes the jump:
// measure elapsed time with time.Now, not with Now.
func Now() time.Time {
	if d := offset.Load(); d != 0 {
		return time.Now().Round(0).Add(time.Duration(d))
	}
	return time.Now()
}

// Until is t.Sub(Now()): how long a monotonic timer has to run until the
// wall clock reads t.
func Until(t time.Time) time.Duration { return t.Sub(Now()) }

// Jump moves the wall clock by d (negative: backward) for every reader in
// this process. Any goroutine; meant for sim and tests.
func Jump(d time.Duration) { offset.Add(int64(d)) }

// Reset undoes every jump.
func Reset() { offset.Store(0) }

// Offset is the sum of the jumps so far.
func Offset() time.Duration { return time.Duration(offset.Load()) }
