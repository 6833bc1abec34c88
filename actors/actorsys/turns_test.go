package actorsys

import (
	"sync"
	"testing"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

// TestTurnsKeepsEachActorsOrder: many actors on one Turns, each sent a
// sequence from several goroutines' interleaved wake-ups, receive every
// message in order, one turn at a time; the drainers are gone once all is
// delivered.
func TestTurnsKeepsEachActorsOrder(t *testing.T) {
	sys := New(zerolog.Nop())
	defer sys.Shutdown()
	d := NewTurns()
	const actors, msgs = 200, 300
	var (
		mu       sync.Mutex
		inTurn   = make([]bool, actors)
		got      = make([][]int, actors)
		overlaps int
		left     = actors * msgs
	)
	done := make(chan struct{})
	pids := make([]*actor.PID, actors)
	for i := range pids {
		pids[i] = sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
			v, ok := c.Message().(int)
			if !ok {
				return
			}
			mu.Lock()
			if inTurn[i] {
				overlaps++
			}
			inTurn[i] = true
			mu.Unlock()
			mu.Lock()
			inTurn[i] = false
			got[i] = append(got[i], v)
			left--
			if left == 0 {
				close(done)
			}
			mu.Unlock()
		}, actor.WithDispatcher(d)))
	}
	// Two senders per actor would reorder its messages; one goroutine per
	// half of the actors interleaves wake-ups across actors instead.
	var wg sync.WaitGroup
	for half := range 2 {
		wg.Go(func() {
			for v := range msgs {
				for i := half; i < actors; i += 2 {
					sys.Root.Send(pids[i], v)
				}
			}
		})
	}
	wg.Wait()
	select {
	case <-done:
	case <-testkit.Context(t).Done():
		t.Fatalf("%d messages not delivered", left)
	}
	mu.Lock()
	defer mu.Unlock()
	if overlaps != 0 {
		t.Fatalf("%d turns overlapped another turn of the same actor", overlaps)
	}
	for i, vs := range got {
		for j, v := range vs {
			if v != j {
				t.Fatalf("actor %d got %d as message %d", i, v, j)
			}
		}
	}
	testkit.Eventually(t, "drainers finished", func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.running == 0 && d.head == len(d.ready)
	})
	if d.max < 1 {
		t.Fatalf("max drainers %d", d.max)
	}
}

// TestTurnsStartsDrainersPastStuckTurns: with every drainer blocked in a
// turn, a turn queued for another actor still runs (the watchdog starts a
// drainer); with limit drainers blocked, none more starts; once released,
// every turn runs and the Turns go back to no drainer, no armed timer and
// no goroutine.
func TestTurnsStartsDrainersPastStuckTurns(t *testing.T) {
	testkit.NoLeaks(t)
	const maxDrainers, limit = 2, 4
	d := newTurns(maxDrainers, limit)
	release := make(chan struct{})
	blocked := make(chan int, limit)
	block := func(i int) func() {
		return func() {
			blocked <- i
			<-release
		}
	}
	for i := range maxDrainers {
		d.Schedule(block(i))
	}
	for range maxDrainers {
		testkit.Receive(t, blocked, "a blocking turn to start")
	}

	ran := make(chan struct{})
	d.Schedule(func() { close(ran) })
	testkit.Receive(t, ran, "the turn queued behind stuck drainers")

	// Fill the drainers up to limit with blocked turns: one more turn then
	// waits, however many ticks pass.
	for i := maxDrainers; i < limit; i++ {
		d.Schedule(block(i))
	}
	for range limit - maxDrainers {
		testkit.Receive(t, blocked, "a blocking turn past max to start")
	}
	late := make(chan struct{})
	d.Schedule(func() { close(late) })
	d.mu.Lock()
	from := d.epoch
	d.mu.Unlock()
	testkit.Eventually(t, "three watchdog ticks", func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.epoch >= from+3
	})
	select {
	case <-late:
		t.Fatal("a turn ran while limit drainers were blocked")
	default:
	}
	d.mu.Lock()
	running := d.running
	d.mu.Unlock()
	if running != limit {
		t.Fatalf("%d drainers running, limit %d", running, limit)
	}

	close(release)
	testkit.Receive(t, late, "the turn queued past limit, after release")
	testkit.Eventually(t, "drainers finished and watchdog disarmed", func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.running == 0 && d.head == len(d.ready) && !d.armed && d.fresh == 0
	})
	if d.watch.Stop() {
		t.Fatal("the watchdog's timer was still armed with no turn waiting")
	}
}

// BenchmarkTurnsGroups is the Schedule→turn path as the writer drives it: a
// group of 100 turns of different actors woken at once, then the next group
// once those ran. One op is one turn.
func BenchmarkTurnsGroups(b *testing.B) {
	d := NewTurns()
	const group = 100
	var wg sync.WaitGroup
	turn := func() { wg.Done() }
	b.ReportAllocs()
	for i := 0; i < b.N; i += group {
		n := min(group, b.N-i)
		wg.Add(n)
		for range n {
			d.Schedule(turn)
		}
		wg.Wait()
	}
}

// TestTurnsScheduleAllocatesNothing: a turn scheduled on an idle Turns,
// the drainer started for it included, allocates nothing once Hot has an
// idle worker (a drainer was a fresh closure of d.drain each time).
func TestTurnsScheduleAllocatesNothing(t *testing.T) {
	d := NewTurns()
	done := make(chan struct{}, 1)
	turn := func() { done <- struct{}{} }
	allocs := testing.AllocsPerRun(200, func() {
		d.Schedule(turn)
		<-done
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per scheduled turn, want 0", allocs)
	}
}
