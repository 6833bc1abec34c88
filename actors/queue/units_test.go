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
