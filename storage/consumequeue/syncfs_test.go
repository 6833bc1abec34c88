package consumequeue

import (
	"errors"
	"testing"
)

// TestSyncFSFlushCountsUnitsFlushed checks the thorough round's halves on
// the OS file system: EndFlush after a SyncFS records every unit below
// BeginFlush's mark flushed (so Close msyncs nothing of them), never units
// put after the mark, and a mark taken before units were rewritten
// (TruncateDirty) is dropped.
func TestSyncFSFlushCountsUnitsFlushed(t *testing.T) {
	q := openTest(t, t.TempDir(), 1000*UnitBytes)
	defer q.Close()
	putRange(t, q, 0, 300)
	m, err := q.BeginFlush()
	if err != nil {
		t.Fatal(err)
	}
	putRange(t, q, 300, 350) // after the mark: not covered
	// (the store's syncfs would run here: EndFlush's bookkeeping is what
	// this test checks)
	q.EndFlush(m)
	if got := flushedOf(q); got != 300*UnitBytes {
		t.Fatalf("flushed %d after EndFlush, want %d", got, 300*UnitBytes)
	}
	if q.EntriesUnsynced() {
		t.Fatal("directory entries unsynced after BeginFlush")
	}

	m, err = q.BeginFlush()
	if err != nil {
		t.Fatal(err)
	}
	if err := q.TruncateDirty(msgUnit(320).CommitLogOffset); err != nil { // drops units 320 on
		t.Fatal(err)
	}
	q.EndFlush(m)
	if got := flushedOf(q); got != 300*UnitBytes {
		t.Fatalf("flushed %d after EndFlush of a mark taken before a truncation, want %d (unchanged)", got, 300*UnitBytes)
	}
}

func flushedOf(q *ConsumeQueue) int64 {
	q.impl.flushMu.Lock()
	defer q.impl.flushMu.Unlock()
	return q.impl.flushed
}

// TestBeginFlushOfAClosedQueue: a closed queue takes no part in a round.
func TestBeginFlushOfAClosedQueue(t *testing.T) {
	q := openTest(t, t.TempDir(), 1000*UnitBytes)
	q.Close()
	if _, err := q.BeginFlush(); !errors.Is(err, ErrClosed) {
		t.Fatalf("BeginFlush of a closed queue: %v, want ErrClosed", err)
	}
}
