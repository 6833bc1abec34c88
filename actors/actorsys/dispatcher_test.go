package actorsys

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

// testPool is a pool dispatcher of the test's own, released at its cleanup.
func testPool(t *testing.T, idleExpiry time.Duration) *poolDispatcher {
	d := newPoolDispatcher(idleExpiry, hotThroughput)
	t.Cleanup(d.pool.Release)
	return d
}

// TestHotRunsActorTurns: an actor spawned with Hot receives every message,
// in order, across many idle → busy wake-ups.
func TestHotRunsActorTurns(t *testing.T) {
	sys := New(zerolog.Nop())
	defer sys.Shutdown()
	const n = 2000
	got := make([]int, 0, n)
	done := make(chan struct{})
	pid := sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if v, ok := c.Message().(int); ok {
			got = append(got, v)
			if v == n-1 {
				close(done)
			}
		}
	}, actor.WithDispatcher(Hot)))
	for i := range n {
		sys.Root.Send(pid, i)
		if i%7 == 0 {
			runtime.Gosched() // let the mailbox empty now and then, so it wakes again
		}
	}
	testkit.Receive(t, done, "the last message")
	for i, v := range got {
		if v != i {
			t.Fatalf("message %d is %d, want %d", i, v, i)
		}
	}
}

// TestPoolNeverWaitsForBusyWorkers: with every worker in a turn that blocks
// (as the syncer blocks in fsync), Schedule still returns at once and the
// next turn runs meanwhile on a worker of its own.
func TestPoolNeverWaitsForBusyWorkers(t *testing.T) {
	d := testPool(t, time.Hour)
	const blocked = 16
	unblock := make(chan struct{})
	started := make(chan struct{}, blocked)
	scheduled := make(chan struct{})
	go func() {
		for range blocked {
			d.Schedule(func() {
				started <- struct{}{}
				<-unblock
			})
		}
		close(scheduled)
	}()
	testkit.Receive(t, scheduled, "Schedule to return with its turns blocked")
	for range blocked {
		testkit.Receive(t, started, "every blocked turn to run at once")
	}
	ran := make(chan struct{})
	d.Schedule(func() { close(ran) })
	testkit.Receive(t, ran, "a turn scheduled while every worker is blocked")
	if n := d.pool.Running(); n != blocked+1 {
		t.Fatalf("%d workers, want %d: one more for the turn that found none idle", n, blocked+1)
	}
	close(unblock)
}

// TestPoolReusesIdleWorkers: turns scheduled one after another run on the
// same parked worker rather than on a new goroutine each, as protoactor's
// default dispatcher does (which starts one per turn and fails this).
func TestPoolReusesIdleWorkers(t *testing.T) {
	d := testPool(t, time.Hour)
	done := make(chan struct{}, 1)
	turn := func() { done <- struct{}{} }
	d.Schedule(turn) // the first turn starts the worker
	testkit.Receive(t, done, "the first turn")
	const turns = 1000
	before := goroutinesCreated()
	for range turns {
		d.Schedule(turn)
		testkit.Receive(t, done, "a turn")
	}
	// Nothing else in this test starts goroutines; the slack covers the
	// runtime's and testing's own.
	if n := goroutinesCreated() - before; n > turns/100 {
		t.Fatalf("%d goroutines created for %d turns, want a parked worker to run them", n, turns)
	}
}

func goroutinesCreated() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestPoolIdleWorkersExpire: workers left idle exit, so an idle broker keeps
// no goroutine per actor that once ran.
func TestPoolIdleWorkersExpire(t *testing.T) {
	d := testPool(t, 20*time.Millisecond)
	base := runtime.NumGoroutine()
	const workers = 8
	unblock := make(chan struct{})
	started := make(chan struct{}, workers)
	for range workers {
		d.Schedule(func() {
			started <- struct{}{}
			<-unblock
		})
	}
	for range workers {
		testkit.Receive(t, started, "a turn")
	}
	if n := d.pool.Running(); n != workers {
		t.Fatalf("%d workers, want %d", n, workers)
	}
	close(unblock)
	testkit.Eventually(t, "every idle worker to exit", func() bool { return d.pool.Running() == 0 })
	testkit.WaitGoroutines(t, base)
}

// TestPoolPanicCrashesProcess: a panic escaping a turn ends the process,
// as on protoactor's default dispatcher, rather than being logged by ants
// with the actor's mailbox left marked running. The panicking turn runs in
// a child process (this test binary again), which must die of the panic.
func TestPoolPanicCrashesProcess(t *testing.T) {
	const marker = "actorsys-test-turn-panic"
	if os.Getenv("ACTORSYS_PANIC_CHILD") == "1" {
		d := newPoolDispatcher(time.Hour, hotThroughput)
		d.Schedule(func() { panic(marker) })
		time.Sleep(10 * time.Second) // only reached if the panic did not crash
		os.Exit(0)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestPoolPanicCrashesProcess$")
	cmd.Env = append(os.Environ(), "ACTORSYS_PANIC_CHILD=1")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("child still running after a minute: the turn's panic did not crash it\n%s", out)
	}
	if err == nil || !strings.Contains(string(out), "panic: "+marker) {
		t.Fatalf("child exited with %v, want a crash with panic %q; output:\n%s", err, marker, out)
	}
}
