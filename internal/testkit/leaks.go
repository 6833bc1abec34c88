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
func NoLeaks(t testing.TB) {
	t.Helper()
	base := runtime.NumGoroutine()
	t.Cleanup(func() { WaitGoroutines(t, base) })
}

// WaitGoroutines waits, bounded by Timeout, until at most base goroutines run
// (base is a runtime.NumGoroutine() taken earlier), and fails the test with
// the stack of every goroutine otherwise. Tests that stop what they started
// before their end call it directly instead of NoLeaks.
func WaitGoroutines(t testing.TB, base int) {
	t.Helper()
	waitGoroutines(t, base, Timeout)
}

func waitGoroutines(t testing.TB, base int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			t.Fatalf("goroutine leak: %d running, %d at start\n%s", runtime.NumGoroutine(), base, allStacks())
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
	return string(buf[:runtime.Stack(buf, true)])
}
