package writer

import "testing"

// TestBatchDoneRecycleAllocatesNothing: a SYNC_FLUSH batch's batchDone and
// its waiters slice come back through the pool, so the writer's hand-off to
// the flush actor (newBatchDone, appends, Send; recycle after onBatch)
// allocates nothing per batch once the pool holds one of that size.
func TestBatchDoneRecycleAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random in race builds")
	}
	ps := make([]*Append, 64)
	for i := range ps {
		ps[i] = new(Append)
	}
	cycle := func() {
		d := newBatchDone()
		for _, p := range ps {
			d.waiters = append(d.waiters, p)
		}
		d.end, d.storeTimestamp = 1, 2
		d.recycle()
	}
	cycle() // fill the pool
	if n := testing.AllocsPerRun(100, cycle); n != 0 {
		t.Fatalf("a batchDone cycle with %d waiters allocates %.1f objects, want 0", len(ps), n)
	}
}

// TestBatchDoneRecycleClears: a recycled batchDone keeps no reference to
// its waiters (Appends are recycled once answered) and comes back empty.
func TestBatchDoneRecycleClears(t *testing.T) {
	d := &batchDone{end: 5, storeTimestamp: 6, waiters: []*Append{new(Append), new(Append)}}
	ws := d.waiters
	d.recycle()
	for i, p := range ws {
		if p != nil {
			t.Fatalf("waiter slot %d still set after recycle", i)
		}
	}
	if d.end != 0 || d.storeTimestamp != 0 || len(d.waiters) != 0 {
		t.Fatalf("recycled batchDone = %+v, want empty", *d)
	}
}
