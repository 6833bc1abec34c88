package netio

import (
	"errors"
	"testing"

	"github.com/actormq/actormq/internal/testkit"
	gerrors "github.com/panjf2000/gnet/v2/pkg/errors"
	"github.com/panjf2000/gnet/v2/pkg/netpoll"
	"github.com/panjf2000/gnet/v2/pkg/queue"
)

// TestPollerWakeUpsAllocateNothing: waking an event loop with a task
// (Trigger, the way Execute and the outbox flush reach a loop) allocates
// nothing: the task comes from a pool, the task queue is a ring
// (third_party/gnet's mutexQueue; upstream's lock-free queue allocated a node
// per task), and nothing in the poller's loop escapes. The patched Polling
// once handed Read a closure that assigned the loop's n and err, which
// moved both to the heap at every turn of the loop, busy turns included.
func TestPollerWakeUpsAllocateNothing(t *testing.T) {
	p, err := netpoll.OpenPoller()
	if err != nil {
		t.Fatalf("OpenPoller: %v", err)
	}
	polled := make(chan error, 1)
	go func() {
		polled <- p.Polling(func(int, netpoll.IOEvent, netpoll.IOFlags) error { return nil })
	}()
	ctx := testkit.Context(t)
	ran := make(chan struct{})
	task := func(any) error { ran <- struct{}{}; return nil }
	wake := func() {
		if err := p.Trigger(queue.HighPriority, task, nil); err != nil {
			t.Fatalf("Trigger: %v", err)
		}
		select {
		case <-ran:
		case <-ctx.Done():
			t.Fatal("the poller did not run the task")
		}
	}
	wake() // the poller's loop is running
	// AllocsPerRun rounds down, so a race build's sync.Pool, which drops a
	// quarter of what is put back, adds nothing.
	if allocs := testing.AllocsPerRun(1000, wake); allocs != 0 {
		t.Errorf("a wake-up allocated %v objects, want 0", allocs)
	}
	stop := func(any) error { return gerrors.ErrEngineShutdown }
	if err := p.Trigger(queue.HighPriority, stop, nil); err != nil {
		t.Fatalf("Trigger: %v", err)
	}
	select {
	case err := <-polled:
		if !errors.Is(err, gerrors.ErrEngineShutdown) {
			t.Fatalf("Polling returned %v, want ErrEngineShutdown", err)
		}
	case <-ctx.Done():
		t.Fatal("Polling did not stop")
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}
