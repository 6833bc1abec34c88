package testkit

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// leakPollInterval is how often the leak checks count goroutines again.
const leakPollInterval = 5 * time.Millisecond

// NoLeaks records how many goroutines run now and registers a cleanup that
// waits, bounded by Timeout, until no more than that run again; otherwise the
// test fails with the stack of every goroutine. Call it first in a test:
// cleanups run last-registered first, so the check then runs after every
// server, client and actor system the test started is gone.
//
// Idle ants pool workers are not counted (Goroutines): the process-wide
// pool of actorsys.Hot keeps a worker for up to about a second after its
// last turn on purpose, and waiting for that would slow every test that
// runs actors on it. A worker running a turn still counts, so an actor left
// busy is still a leak. Rejected: NoLeaksIn with the product's package
// prefixes, which would miss leaked goroutines of any code not named.
func NoLeaks(t testing.TB) {
	t.Helper()
	base := Goroutines()
	t.Cleanup(func() { waitCount(t, base, Timeout, Goroutines) })
}

// Goroutines is runtime.NumGoroutine() without the ants pool workers that
// wait idle for their next task.
// It counts the goroutines of one stack dump, so the two numbers come from
// the same moment.
func Goroutines() int {
	n := 0
	for _, g := range strings.Split(allStacks(), "\n\n") {
		if !isIdlePoolWorker(g) {
			n++
		}
	}
	return n
}

// idlePoolWorker is the function of an ants worker's goroutine; it loops
// over the worker's task channel, calling each task.
const idlePoolWorker = "github.com/panjf2000/ants/v2.(*goWorker).run.func1("

// isIdlePoolWorker reports whether the goroutine stack g is an ants worker
// waiting on its task channel: its only frame is the worker's loop (the
// runtime's frames are not shown), followed by where it was created. A
// worker running a task has the task's frames on top.
func isIdlePoolWorker(g string) bool {
	lines := strings.SplitN(g, "\n", 4)
	return len(lines) == 4 && strings.Contains(lines[0], "[chan receive") &&
		strings.HasPrefix(lines[1], idlePoolWorker) && strings.HasPrefix(lines[3], "created by ")
}

// WaitGoroutines waits, bounded by Timeout, until at most base goroutines run
// (base is a runtime.NumGoroutine() taken earlier), and fails the test with
// the stack of every goroutine otherwise. Tests that stop what they started
// before their end call it directly instead of NoLeaks. Unlike NoLeaks it
// counts idle pool workers too (actorsys's test of their expiry needs that).
func WaitGoroutines(t testing.TB, base int) {
	t.Helper()
	waitGoroutines(t, base, Timeout)
}

func waitGoroutines(t testing.TB, base int, timeout time.Duration) {
	t.Helper()
	waitCount(t, base, timeout, runtime.NumGoroutine)
}

// waitCount waits, bounded by timeout, until count() is at most base.
func waitCount(t testing.TB, base int, timeout time.Duration, count func() int) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for n := count(); n > base; n = count() {
		if time.Now().After(deadline) {
			t.Fatalf("goroutine leak: %d running, %d at start\n%s", n, base, allStacks())
		}
		time.Sleep(leakPollInterval)
	}
}

// NoLeaksIn registers a cleanup that waits, bounded by Timeout, until no
// goroutine runs code whose stack mentions one of code (substrings such as
// "actormq/actors/" or "protoactor-go"); otherwise the test fails with the
// stacks of those goroutines. Unlike NoLeaks it ignores everything else, so
// pools that outlive a test on purpose (gnet's, ants') do not count, and so
// do not the test goroutines themselves (started by testing.tRunner) or the
// goroutine running the check. Call it first in a test, like NoLeaks.
func NoLeaksIn(t testing.TB, code ...string) {
	t.Helper()
	t.Cleanup(func() { waitNoneRunning(t, code, Timeout) })
}

func waitNoneRunning(t testing.TB, code []string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		leaked := goroutinesRunning(code)
		if len(leaked) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutine leak:\n%s", strings.Join(leaked, "\n\n"))
		}
		time.Sleep(leakPollInterval)
	}
}

// goroutinesRunning returns the stacks, other than the caller's and the test
// goroutines', that mention one of code.
func goroutinesRunning(code []string) []string {
	// runtime.Stack puts the calling goroutine first: skip it.
	stacks := strings.Split(allStacks(), "\n\n")[1:]
	var out []string
	for _, g := range stacks {
		if strings.Contains(g, "testing.tRunner") {
			continue
		}
		for _, c := range code {
			if strings.Contains(g, c) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// allStacks returns the stacks of every goroutine, the caller's first.
func allStacks() string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf)) // cut short: Goroutines must see all
	}
}
