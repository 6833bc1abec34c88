package consumequeue

import "fmt"

// Durability of directory entries.
//
// A unit is durable once its bytes are msynced and the directory entries of
// its file (and, for a new queue, every entry on the path to its directory
// that a queue of the store created: its own, its topic directory's, the
// consume-queue root's — whichever queue created them) are fsynced. An
// ancestor's fsync is shared: it covers every entry counted in that
// directory before it began (Dirs), so a queue skips it when such an
// fsync already completed after its entries were made. The owner creates
// files while it writes units; the entries are fsynced by syncEntries,
// which Flush runs before it msyncs units and reports them flushed. A
// directory fsync costs milliseconds under disk load (a journal commit), so
// doing it on the owner's Put, as before, stalled the queue actor at every
// file roll and three times at a queue's first unit;
// on the flusher's goroutine it delays no Put or pull, and the creations
// made between two of its fsyncs share one commit.
//
// Crash safety:
//  1. Nothing is reported durable (Flush returns, the checkpoint advances)
//     before syncEntries covered every file holding a unit below the end
//     Flush read: the owner counts a creation (createdGen) before it writes
//     a unit into the file and publishes MaxOffset, and Flush reads
//     MaxOffset before createdGen. A crash can only lose units that were
//     never reported durable, which recovery re-dispatches from the commit
//     log, exactly as for unflushed units in an old file.
//  2. At most one file (the newest) waits for its entry: a roll that finds
//     the previous file still waiting fsyncs on the owner (two rolls within
//     one flush interval, 600,000 units). Otherwise a crash could keep the
//     newer file and lose the older one, and a queue with a hole does not
//     load (ErrCorrupt).
//  3. Removals that must precede a creation (restartAt) are fsynced on the
//     owner before the creation, for the same reason.

// fileCreated counts a new file and keeps rule 2. Owner goroutine only,
// after the file is in q.files.
func (q *queue) fileCreated() error {
	waiting := q.syncedGen.Load() < q.createdGen.Load()
	q.createdGen.Add(1)
	if waiting {
		return q.syncEntries()
	}
	return nil
}

// syncEntries fsyncs the queue directory (and, for a new queue, each
// directory holding an entry it depends on that no fsync has covered yet:
// Dirs) when a file was created since the last sync. A failed fsync of
// the queue directory is sticky (dirErr): after Linux reported the
// error, a retry returns 0 although the entries may not be on disk; the
// owner's failure (rule 2 at a roll) thus reaches the next flush, which
// makes it the queue's (failLocked). Any goroutine; calls are serialized
// (dirMu), and one that finds the entries covered returns without an
// fsync.
func (q *queue) syncEntries() error {
	gen := q.createdGen.Load()
	if q.syncedGen.Load() >= gen {
		return nil // a failure leaves syncedGen below every later gen
	}
	q.dirMu.Lock()
	defer q.dirMu.Unlock()
	if q.dirErr != nil {
		return q.dirErr
	}
	if q.syncedGen.Load() >= gen {
		return nil
	}
	if err := q.fs.SyncDir(q.dir); err != nil {
		q.dirErr = fmt.Errorf("consumequeue: %w: %s: %w", errDirSync, q.dir, err)
		return q.dirErr
	}
	if waits := q.dirEntries.Load(); waits != nil {
		for _, e := range *waits {
			if err := e.sync(q.fs); err != nil {
				return err
			}
		}
		q.dirEntries.CompareAndSwap(waits, nil)
	}
	for {
		cur := q.syncedGen.Load()
		if cur >= gen || q.syncedGen.CompareAndSwap(cur, gen) {
			return nil
		}
	}
}
