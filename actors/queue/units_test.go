package queue

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// TestUnitsRecycleAllocatesNothing: a units slice given back is handed out
// again, carrier and all, so a dispatch cycle allocates nothing.
func TestUnitsRecycleAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("race builds poison released units instead of recycling them")
	}
	u := Unit{QueueOffset: 1, PhysOffset: 2, Size: 3}
	cycle := func() {
		s := NewUnits(2)
		if len(s) != 0 {
			t.Fatalf("NewUnits returned %d units, want an empty slice", len(s))
		}
		s = append(s, u, u)
		m := newDispatchMsg(s) // what Dispatch sends
		releaseDispatch(m)     // what the queue actor does after the Put
	}
	cycle() // fill the pools
	if n := testing.AllocsPerRun(100, cycle); n != 0 {
		t.Fatalf("a NewUnits/Dispatch/release cycle allocates %.1f objects, want 0", n)
	}
}

// TestReleasedUnitsArePoisoned: in race builds a released slice is
// overwritten, so a reader that kept it finds nonsense.
func TestReleasedUnitsArePoisoned(t *testing.T) {
	if !poisonReleasedUnits {
		t.Skip("only race builds poison released units")
	}
	s := append(NewUnits(2), Unit{QueueOffset: 7, PhysOffset: 8, Size: 9}, Unit{QueueOffset: 8, PhysOffset: 17, Size: 9})
	ReleaseUnits(s)
	for i, u := range s {
		if u != unitsPoison {
			t.Fatalf("released unit %d = %+v, want the poison", i, u)
		}
	}
}

// TestNewUnitsHonoursHintForPooledSlices: a pooled slice smaller than the
// hint is not handed out, so the writer does not regrow it on append.
func TestNewUnitsHonoursHintForPooledSlices(t *testing.T) {
	for _, n := range []int{64, 1000, 4, 1} {
		ReleaseUnits(make([]Unit, 0, 4)) // what a single send's dispatch leaves
		if s := NewUnits(n); cap(s) < n || len(s) != 0 {
			t.Fatalf("NewUnits(%d) = len %d cap %d, want empty with room for %d", n, len(s), cap(s), n)
		}
	}
}

// TestUnitsSmallSlicesStayPooled: a request for a large slice does not use
// up the small ones single sends left: each size has its class, so the small
// slice comes back for the next small request, and the large one, once
// released, for the next large request. (One pool without classes dropped
// the small slice it drew for a large request.)
func TestUnitsSmallSlicesStayPooled(t *testing.T) {
	if raceEnabled {
		t.Skip("race builds poison released units instead of recycling them")
	}
	// sync.Pool keeps what is put on this P until a GC: none runs here.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	runtime.LockOSThread() // and the goroutine stays on its P
	defer runtime.UnlockOSThread()
	small := make([]Unit, 0, 4)
	ReleaseUnits(small)
	large := NewUnits(64)
	if cap(large) < 64 {
		t.Fatalf("NewUnits(64) has room for %d", cap(large))
	}
	if !same(NewUnits(4), small) {
		t.Error("the 4-unit slice did not come back for a request of 4 after a request of 64")
	}
	ReleaseUnits(large)
	if !same(NewUnits(40), large) {
		t.Error("the 64-unit slice did not come back for a request of 40")
	}
}

// same reports whether a and b share their backing array.
func same(a, b []Unit) bool { return cap(a) == cap(b) && &a[:1][0] == &b[:1][0] }
