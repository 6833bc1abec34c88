package testkit

import (
	"syscall"
	"testing"
	"time"
)

// ProcessCPU is the user and system CPU time the process used so far (every
// goroutine's, the GC's and the test's own servers' included). Benchmarks
// report its difference per op: on a shared machine it moves less with the
// load than ns/op does.
func ProcessCPU(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
