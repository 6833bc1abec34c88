package consumequeue

import "testing"

// TestRepairKeepsFillers: a filler is a unit Put wrote on purpose (the
// offsets below a queue's first message after a restart, or a gap), never
// a torn one (a torn unit reads as zeros or its own older bytes, and no
// message has size FillerSize). Repair keeps it, so a record of those
// offsets (a deleted topic's, whose queue restarted past them) does not
// come back into the queue below its MinOffset.
func TestRepairKeepsFillers(t *testing.T) {
	q := openTest(t, t.TempDir(), 100*UnitBytes)
	for _, off := range []int64{5, 6, 9} { // fillers at 0-4 (restart) and 7-8 (gap)
		if err := q.Put(off, msgUnit(off)); err != nil {
			t.Fatal(err)
		}
	}
	for _, off := range []int64{2, 7} {
		if fixed, err := q.Repair(off, msgUnit(off)); err != nil || fixed {
			t.Fatalf("Repair(%d) over a filler = %v, %v; want the filler kept", off, fixed, err)
		}
		if u := getAll(t, q, off, 1); len(u) != 1 || !u[0].IsFiller() {
			t.Fatalf("unit %d = %+v after Repair, want a filler", off, u)
		}
	}
	if n := q.MinOffset(); n != 5 {
		t.Fatalf("MinOffset %d after Repair, want 5", n)
	}
}
