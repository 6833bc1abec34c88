package testkit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/panjf2000/ants/v2"
)

// fakeTB records the first failure of a helper instead of failing the real
// test; Fatal ends the calling goroutine as testing.T's does.
type fakeTB struct {
	testing.TB // nil: calling anything not overridden panics

	mu       sync.Mutex
	failure  string
	cleanups []func()
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fail(fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func (f *fakeTB) Fatal(args ...any) {
	f.fail(fmt.Sprint(args...))
	runtime.Goexit()
}

func (f *fakeTB) Errorf(format string, args ...any) { f.fail(fmt.Sprintf(format, args...)) }

func (f *fakeTB) fail(msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failure == "" {
		f.failure = msg
	}
}

func (f *fakeTB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

// run runs body and then the cleanups, last-registered first, on a goroutine
// of their own (so that Fatal can end it), and returns the failure message,
// "" when nothing failed.
func run(body func(tb *fakeTB)) string {
	tb := &fakeTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			for i := len(tb.cleanups) - 1; i >= 0; i-- {
				tb.cleanups[i]()
			}
		}()
		body(tb)
	}()
	<-done
	return tb.failure
}

func TestEventually(t *testing.T) {
	var calls atomic.Int32
	if msg := run(func(tb *fakeTB) {
		Eventually(tb, "the third call", func() bool { return calls.Add(1) == 3 })
	}); msg != "" || calls.Load() != 3 {
		t.Fatalf("failure %q after %d calls, want none after 3", msg, calls.Load())
	}
	if msg := run(func(tb *fakeTB) {
		EventuallyWithin(tb, 20*time.Millisecond, "never", func() bool { return false })
	}); msg != "timed out waiting for never" {
		t.Fatalf("failure %q, want the timeout", msg)
	}
}

func TestReceive(t *testing.T) {
	ch := make(chan int, 1)
	ch <- 7
	var got int
	if msg := run(func(tb *fakeTB) { got = Receive(tb, ch, "a value") }); msg != "" || got != 7 {
		t.Fatalf("Receive = %d, failure %q; want 7", got, msg)
	}
	if msg := run(func(tb *fakeTB) { receiveWithin(tb, ch, "a second value", 20*time.Millisecond) }); msg != "timed out waiting for a second value" {
		t.Fatalf("failure %q, want the timeout", msg)
	}
}

func TestContextCanceledAtCleanup(t *testing.T) {
	var ctx context.Context
	run(func(tb *fakeTB) {
		ctx = Context(tb)
		deadline, ok := ctx.Deadline()
		if !ok || time.Until(deadline) > Timeout {
			t.Errorf("deadline %v, %v; want one within Timeout", deadline, ok)
		}
		if ctx.Err() != nil {
			t.Errorf("context done before cleanup: %v", ctx.Err())
		}
	})
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("after cleanup: %v, want context.Canceled", ctx.Err())
	}
}

func TestActorSystemShutDownAtCleanup(t *testing.T) {
	var sys *actor.ActorSystem
	t.Run("uses the system", func(t *testing.T) {
		sys = ActorSystem(t)
		pid := sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
			if s, ok := c.Message().(string); ok {
				c.Respond("echo " + s)
			}
		}))
		got, err := sys.Root.RequestFuture(pid, "hi", Timeout).Result()
		if err != nil || got != "echo hi" {
			t.Fatalf("answer %v, %v; want \"echo hi\"", got, err)
		}
	})
	if !sys.IsStopped() {
		t.Fatal("actor system still running after the test's cleanup")
	}
}

// parkForLeakTest closes parked (when not nil), then blocks until release is
// closed; tests look for its name in goroutine stacks.
func parkForLeakTest(parked chan<- struct{}, release <-chan struct{}) {
	if parked != nil {
		close(parked)
	}
	<-release
}

func TestWaitGoroutines(t *testing.T) {
	release := make(chan struct{})
	var wg sync.WaitGroup
	msg := run(func(tb *fakeTB) {
		base := settledGoroutines()
		wg.Go(func() { parkForLeakTest(nil, release) })
		waitGoroutines(tb, base, 50*time.Millisecond)
	})
	if !strings.HasPrefix(msg, "goroutine leak:") || !strings.Contains(msg, "parkForLeakTest") {
		t.Fatalf("failure %q, want a leak report with the parked goroutine's stack", msg)
	}
	close(release)
	wg.Wait()

	// A goroutine that ends within the bound is no leak. Wait for it (and the
	// timer's) to be gone before returning, so a later run of this test
	// (-count=N) does not see them exit inside its own window.
	var ended sync.WaitGroup
	if msg := run(func(tb *fakeTB) {
		NoLeaks(tb)
		done := make(chan struct{})
		ended.Go(func() { parkForLeakTest(nil, done) })
		time.AfterFunc(20*time.Millisecond, func() { close(done) })
	}); msg != "" {
		t.Fatalf("failure %q for a goroutine that ended", msg)
	}
	ended.Wait()
}

// TestGoroutinesSkipsIdlePoolWorkers: an ants worker waiting for its next
// task is not counted, one running a task is (its stack is in the report).
func TestGoroutinesSkipsIdlePoolWorkers(t *testing.T) {
	pool, err := ants.NewPool(-1, ants.WithExpiryDuration(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Release()
	settledGoroutines()
	// run's goroutine is the one more than base that each check allows.
	base := Goroutines() + 1
	ran := make(chan struct{})
	if err := pool.Submit(func() { close(ran) }); err != nil {
		t.Fatal(err)
	}
	<-ran
	if msg := run(func(tb *fakeTB) { waitCount(tb, base, Timeout, Goroutines) }); msg != "" {
		t.Fatalf("idle worker counted: %s", msg)
	}
	if n := pool.Running(); n != 1 {
		t.Fatalf("%d workers, want the idle one", n)
	}

	parked, release := make(chan struct{}), make(chan struct{})
	if err := pool.Submit(func() { parkForLeakTest(parked, release) }); err != nil {
		t.Fatal(err)
	}
	<-parked
	defer close(release)
	msg := run(func(tb *fakeTB) { waitCount(tb, base, 50*time.Millisecond, Goroutines) })
	if !strings.HasPrefix(msg, "goroutine leak:") || !strings.Contains(msg, "parkForLeakTest") {
		t.Fatalf("failure %q, want a leak report with the busy worker's stack", msg)
	}
}

// settledGoroutines returns the goroutine count once it has held still for a
// few polls: goroutines of earlier tests (run's own, timers) may still be
// exiting, and one that exits inside the 50 ms window would hide the leak.
func settledGoroutines() int {
	n, still := runtime.NumGoroutine(), 0
	for deadline := time.Now().Add(Timeout); still < 5 && time.Now().Before(deadline); {
		time.Sleep(2 * time.Millisecond)
		if m := runtime.NumGoroutine(); m == n {
			still++
		} else {
			n, still = m, 0
		}
	}
	return n
}

func TestNoLeaksInLooksOnlyAtTheNamedCode(t *testing.T) {
	release := make(chan struct{})
	var wg sync.WaitGroup
	parked := make(chan struct{})
	wg.Go(func() { parkForLeakTest(parked, release) })
	defer func() { close(release); wg.Wait() }()
	<-parked // its stack names parkForLeakTest from here on

	if msg := run(func(tb *fakeTB) { NoLeaksIn(tb, "some/other/package") }); msg != "" {
		t.Fatalf("failure %q for code no goroutine runs", msg)
	}
	msg := run(func(tb *fakeTB) { waitNoneRunning(tb, []string{"parkForLeakTest"}, 50*time.Millisecond) })
	if !strings.HasPrefix(msg, "goroutine leak:") || !strings.Contains(msg, "parkForLeakTest") || strings.Contains(msg, "testing.tRunner") {
		t.Fatalf("failure %q, want exactly the parked goroutine", msg)
	}
}

func TestDirNames(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"b", "a", "c"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	if msg := run(func(tb *fakeTB) { got = DirNames(tb, dir) }); msg != "" || !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("DirNames = %v, failure %q; want [a b c]", got, msg)
	}
	if msg := run(func(tb *fakeTB) { DirNames(tb, filepath.Join(dir, "missing")) }); msg == "" {
		t.Fatal("a missing dir did not fail the test")
	}
}

func TestClosedAddrRefusesDials(t *testing.T) {
	addr := ClosedAddr(t)
	nc, err := net.DialTimeout("tcp", addr, Timeout)
	if err == nil {
		_ = nc.Close()
		t.Fatalf("dial to %s succeeded", addr)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial to %s: %v, want connection refused", addr, err)
	}
}

// fakeService records its lifecycle calls and returns the set errors.
type fakeService struct {
	calls               []string
	startErr, stopErr   error
	shutdownHadDeadline bool
}

func (s *fakeService) Start() error {
	s.calls = append(s.calls, "Start")
	return s.startErr
}

func (s *fakeService) Shutdown(ctx context.Context) error {
	s.calls = append(s.calls, "Shutdown")
	_, s.shutdownHadDeadline = ctx.Deadline()
	return s.stopErr
}

func TestStart(t *testing.T) {
	tests := []struct {
		name        string
		svc         *fakeService
		wantCalls   []string
		wantFailure string
	}{
		{name: "started and shut down", svc: &fakeService{}, wantCalls: []string{"Start", "Shutdown"}},
		{name: "start fails", svc: &fakeService{startErr: errors.New("port taken")},
			wantCalls: []string{"Start"}, wantFailure: "Start: port taken"},
		{name: "shutdown fails", svc: &fakeService{stopErr: errors.New("still draining")},
			wantCalls: []string{"Start", "Shutdown"}, wantFailure: "Shutdown: still draining"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var during []string
			msg := run(func(tb *fakeTB) {
				if got := Start(tb, tt.svc); got != tt.svc {
					t.Errorf("Start returned %p, want %p", got, tt.svc)
				}
				during = slices.Clone(tt.svc.calls)
			})
			if msg != tt.wantFailure || !slices.Equal(tt.svc.calls, tt.wantCalls) {
				t.Fatalf("failure %q calls %v, want %q %v", msg, tt.svc.calls, tt.wantFailure, tt.wantCalls)
			}
			if tt.svc.startErr == nil && (!slices.Equal(during, []string{"Start"}) || !tt.svc.shutdownHadDeadline) {
				t.Fatalf("calls during the test %v, Shutdown deadline %v; want [Start], true", during, tt.svc.shutdownHadDeadline)
			}
		})
	}
}
