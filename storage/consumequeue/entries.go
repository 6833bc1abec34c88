package consumequeue

import "fmt"

// Durability of directory entries.
//
// A unit is durable once its bytes are msynced and the directory entries of
// its file (and, for a new queue, of every directory ensureDir created, the
// consume-queue root's own entry included for the store's first queue) are
// fsynced. The owner creates files while it writes units; the entries are
// fsynced by syncEntries, which Flush runs before it msyncs units and
// reports them flushed. A directory fsync costs milliseconds under disk load
// (a journal commit), so doing it on the owner's Put, as before, stalled the
// queue actor at every file roll and three times at a queue's first unit;
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

// syncEntries fsyncs the queue directory (and, for a new queue, the parent
// of each directory ensureDir created) when a file was created since the
// last sync. Any goroutine; concurrent calls only fsync twice.
func (q *queue) syncEntries() error {
	gen := q.createdGen.Load()
	if q.syncedGen.Load() >= gen {
		return nil
	}
	dirs := []string{q.dir}
	parents := q.newDirParents.Load()
	if parents != nil {
		dirs = append(dirs, *parents...)
	}
	for _, d := range dirs {
		if err := q.fs.SyncDir(d); err != nil {
			return fmt.Errorf("consumequeue: sync %s: %w", d, err)
		}
	}
	if parents != nil {
		q.newDirParents.CompareAndSwap(parents, nil)
	}
	for {
		cur := q.syncedGen.Load()
		if cur >= gen || q.syncedGen.CompareAndSwap(cur, gen) {
			return nil
		}
	}
}
