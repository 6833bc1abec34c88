// Package testkit holds the helpers the module's tests share: bounded waits
// (Eventually, Receive, Context), quiet protoactor actor systems
// (ActorSystem), goroutine-leak checks (NoLeaks, NoLeaksIn, WaitGoroutines),
// a started-then-shut-down service (Start) and small file-system and network
// helpers (DirNames, ClosedAddr). The netio
// fixtures live in the netkit subpackage, because netio's own tests import
// testkit and a testkit that imported netio would make a cycle.
//
// It is imported only from _test.go files: product code must not import it
// (it fails tests through testing.TB and sleeps while it polls). Living under
// internal/, it is out of reach of anything outside this module.
//
// Every wait is bounded: by Timeout, or by the duration a ...Within variant
// takes. No helper sleeps for luck; they poll a condition and fail the test
// with what they waited for when the bound passes.
package testkit

import (
	"context"
	"net"
	"os"
	"testing"
	"time"
)

// Timeout bounds every wait of the helpers without a duration parameter. It is
// far above what any wait takes on a loaded machine, so a test that reaches it
// is broken, not slow.
const Timeout = 10 * time.Second

// pollInterval is how long a polling wait sleeps between two checks: short
// enough not to slow tests down, long enough not to starve the code under test
// of the CPU (tests run on 2 shared cores under -race).
const pollInterval = 2 * time.Millisecond

// Eventually polls cond until it holds, failing the test with "timed out
// waiting for <what>" when Timeout passes first. It must run on the test's
// goroutine (it may call t.Fatalf).
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	EventuallyWithin(t, Timeout, what, cond)
}

// EventuallyWithin is Eventually bounded by timeout instead of Timeout.
func EventuallyWithin(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(pollInterval)
	}
}

// Receive returns the next value from ch, failing the test with "timed out
// waiting for <what>" when none arrives within Timeout. It must run on the
// test's goroutine.
func Receive[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	return receiveWithin(t, ch, what, Timeout)
}

func receiveWithin[T any](t testing.TB, ch <-chan T, what string, timeout time.Duration) T {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// Context returns a context that expires after Timeout and is canceled at the
// test's cleanup.
func Context(t testing.TB) context.Context {
	return ContextWithin(t, Timeout)
}

// ContextWithin is Context expiring after timeout instead of Timeout.
func ContextWithin(t testing.TB, timeout time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return ctx
}

// DirNames returns the names of the entries of dir, sorted by name; any read
// error (a missing dir included) fails the test.
func DirNames(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// ClosedAddr returns a 127.0.0.1 address that nothing listens on: a port the
// kernel just handed out and that was released again, so a dial to it is
// refused.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}
