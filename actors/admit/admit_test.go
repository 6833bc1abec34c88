package admit

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/wire/remoting"
)

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestGateBoundsAndStops: at most max requests are admitted at a time,
// beyond it SYSTEM_BUSY; a Leave frees a place; after Stop every request
// is refused with SERVICE_NOT_AVAILABLE and Drained closes with the last
// Leave, not before.
func TestGateBoundsAndStops(t *testing.T) {
	g := New("things", 2)
	for i := range 2 {
		if err := g.Enter(); err != nil {
			t.Fatalf("enter %d: %v", i, err)
		}
	}
	err := g.Enter()
	if reply.CodeOf(err) != remoting.RespSystemBusy || err.Error() != "[REJECTREQUEST]system busy, 2 things in flight" {
		t.Fatalf("third enter: %v (code %d)", err, reply.CodeOf(err))
	}
	if g.Inflight() != 2 || g.Max() != 2 {
		t.Fatalf("inflight %d max %d after a refusal", g.Inflight(), g.Max())
	}
	g.Leave()
	if err := g.Enter(); err != nil {
		t.Fatalf("enter after a leave: %v", err)
	}

	if !g.Stop() || g.Stop() {
		t.Fatal("Stop must report true once, then false")
	}
	if err := g.Enter(); !errors.Is(err, ErrStopping) || reply.CodeOf(err) != remoting.RespServiceNotAvailable {
		t.Fatalf("enter after stop: %v", err)
	}
	g.Leave()
	if isClosed(g.Drained()) {
		t.Fatal("drained with one request in flight")
	}
	g.Leave()
	if !isClosed(g.Drained()) || g.Inflight() != 0 {
		t.Fatalf("not drained after the last leave (inflight %d)", g.Inflight())
	}
}

// TestGateStopWithNothingInFlight: Drained closes at Stop when nothing is
// in flight.
func TestGateStopWithNothingInFlight(t *testing.T) {
	g := New("things", 1)
	g.Stop()
	if !isClosed(g.Drained()) || !g.Stopped() {
		t.Fatal("a stopped idle gate is not drained")
	}
}

// TestGateConcurrentStop: requests entering and leaving on many goroutines
// while the gate stops: never more than max admitted at once, the count
// back at zero, and Drained closed once the admitted ones have left (run
// with -race).
func TestGateConcurrentStop(t *testing.T) {
	const workers, rounds, limit = 8, 2000, 5
	g := New("things", limit)
	var wg sync.WaitGroup
	var admitted atomic.Int64 // requests between Enter and Leave
	var mu sync.Mutex
	peak := int64(0)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				if w == 0 && i == rounds/2 {
					g.Stop()
				}
				if g.Enter() != nil {
					continue
				}
				n := admitted.Add(1)
				mu.Lock()
				peak = max(peak, n)
				mu.Unlock()
				admitted.Add(-1)
				g.Leave()
			}
		}()
	}
	wg.Wait()
	if peak > limit || g.Inflight() != 0 {
		t.Fatalf("peak %d (max %d), inflight %d at the end", peak, limit, g.Inflight())
	}
	if !isClosed(g.Drained()) {
		t.Fatal("not drained after every admitted request left")
	}
}
