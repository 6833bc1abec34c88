package index

import (
	"math"

	"github.com/actormq/actormq/actors/writer"
	"github.com/asynkron/protoactor-go/actor"
)

// noBound is catchUp's bound for "up to the write position".
const noBound = math.MaxInt64

// handoffsMax bounds the IndexBatches held while the start-up backlog is
// read; beyond it they are dropped, and the scan reads their records.
const handoffsMax = 1024

// handOff takes one commit's IndexBatch from the writer. Batches come in
// commit-log order, one per group commit, so the batch at hand starts at
// a.next unless the start-up backlog is still being read (or batches
// were dropped): then it waits in handoffs until the scan reaches it, and
// handOff reports that a wakeUp must come.
func (a *indexActor) handOff(b *writer.IndexBatch) (wake bool) {
	if a.x.idx == nil || a.failed {
		b.Release()
		return false
	}
	if len(a.handoffs) == 0 && b.From <= a.next {
		a.apply(b)
		return false
	}
	if len(a.handoffs) == handoffsMax {
		a.dropHandoffs()
	}
	a.handoffs = append(a.handoffs, b)
	return true
}

// step is one catch-up step of a wakeUp: it reads the commit log up to the
// first waiting batch (or the write position), applies the waiting
// batches the read reached, and reports whether there is more to do.
func (a *indexActor) step() bool {
	to := int64(noBound)
	if len(a.handoffs) > 0 {
		to = a.handoffs[0].From
	}
	more := a.catchUp(scanChunkRecords, 0, to)
	if a.failed {
		a.dropHandoffs()
		return false
	}
	for len(a.handoffs) > 0 && a.handoffs[0].From <= a.next {
		b := a.handoffs[0]
		a.handoffs[0] = nil
		a.handoffs = a.handoffs[1:]
		a.apply(b)
	}
	if len(a.handoffs) == 0 {
		a.handoffs = a.handoffs[:0:0] // let the drained array go
	}
	return more || len(a.handoffs) > 0
}

// apply indexes the records of b from a.next on (b.From <= a.next): by its
// keys when it is Complete, else by reading them. It releases b.
func (a *indexActor) apply(b *writer.IndexBatch) {
	defer b.Release()
	if b.To <= a.next || a.failed {
		return // read already, by the start-up scan
	}
	if !b.Complete {
		a.catchUp(0, 0, b.To)
		return
	}
	// Keys of records the start-up scan read already lie at or below the
	// index's end offset: PutKeys skips them.
	keys := b.Keys
	for len(keys) > 0 {
		n := min(len(keys), keysBatch) // keysBatch: see its comment
		if _, err := a.x.idx.PutKeys(keys[:n]); err != nil {
			a.fail(err)
			return
		}
		keys = keys[n:]
	}
	if b.Last >= a.next {
		if err := a.x.idx.Advance(b.Last, b.LastTimestamp); err != nil {
			a.fail(err)
			return
		}
	}
	a.next = b.To
}

// wake sends the actor a wakeUp unless one is in the mailbox.
func (a *indexActor) wake(ctx actor.Context) {
	if !a.woken {
		a.woken = true
		ctx.Send(ctx.Self(), theWakeUp)
	}
}

// dropHandoffs releases the waiting batches: the scan reads their records.
func (a *indexActor) dropHandoffs() {
	for i, b := range a.handoffs {
		b.Release()
		a.handoffs[i] = nil
	}
	a.handoffs = a.handoffs[:0]
}
