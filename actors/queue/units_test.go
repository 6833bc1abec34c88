package queue

import "testing"

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

// BenchmarkUnitsSmallPooled is the writer's units traffic for 64-message
// batches of 8 queues when the pool holds only slices single sends left
// (4 units, NewUnits(1)): per op, the pool is emptied, 8 such slices are
// released into it, and 8 queues' batches are filled and released.
func BenchmarkUnitsSmallPooled(b *testing.B) {
	if raceEnabled {
		b.Skip("race builds do not recycle units")
	}
	u := Unit{QueueOffset: 1, PhysOffset: 2, Size: 3}
	var held [8][]Unit
	b.ReportAllocs()
	for b.Loop() {
		for {
			m, _ := unitsCarriers.Get().(*dispatchMsg)
			if m == nil {
				break
			}
			m.units = nil
			emptyCarriers.Put(m)
		}
		for range held {
			ReleaseUnits(make([]Unit, 0, 4))
		}
		for i := range held {
			s := NewUnits(64)
			for range 64 {
				s = append(s, u)
			}
			held[i] = s
		}
		for i := range held {
			ReleaseUnits(held[i])
			held[i] = nil
		}
	}
}
