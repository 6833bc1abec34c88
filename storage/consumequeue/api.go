// Package consumequeue owns ConsumeQueues: per topic and queue, a dense array
// of 20-byte units in mapped files under consumequeue/<topic>/<queueId>/
// (storage-format.md §4). Unit index = logical queue offset.
//
// Unit layout (big-endian):
//
//	+--------+------+------------------------------------------+
//	| offset | size | field                                    |
//	+--------+------+------------------------------------------+
//	|      0 |    8 | commit-log offset of the record          |
//	|      8 |    4 | record size (TOTALSIZE)                  |
//	|     12 |    8 | tagsCode: tag hash code, or the delivery |
//	|        |      | time in SCHEDULE_TOPIC_XXXX              |
//	+--------+------+------------------------------------------+
//
// Files are FileSize bytes (default 6000000 = 300000 units), named by the
// 20-digit decimal start BYTE offset of their first unit, so queue offset q
// lives in file (q*20)/FileSize*FileSize at position (q*20)%FileSize.
//
// A queue whose first unit arrives at offset > 0 (recreated queue, lost
// files) is filled up to that offset with filler units
// [offset 0][size 0x7FFFFFFF][tagsCode 0]; fillers are valid placeholders for
// recovery but never a message: MinOffset skips them and readers must skip
// them too (Unit.IsFiller).
package consumequeue

import (
	"errors"
	"syscall"

	"github.com/actormq/actormq/storage/vfs"
	"github.com/rs/zerolog"
)

// UnitBytes is the size of one unit.
const UnitBytes = 20

// FileSizeDefault is mapedFileSizeConsumeQueue's default: 300000 units.
const FileSizeDefault = 300000 * UnitBytes

// FillerSize is the size field of a filler unit.
const FillerSize int32 = 0x7FFFFFFF

// Sentinel errors.
var (
	// ErrClosed is returned by every call after Close or Destroy.
	ErrClosed = errors.New("consumequeue: closed")
	// ErrOffsetGone is returned by Get for an offset below the oldest file
	// (deleted by retention) or negative.
	ErrOffsetGone = errors.New("consumequeue: offset below the oldest file")
	// ErrBadUnit rejects a unit that recovery would read as the end of the
	// queue (negative offset, size <= 0) or a negative queue offset.
	ErrBadUnit = errors.New("consumequeue: invalid unit")
	// ErrGapTooLarge rejects a Put that would need more than one file of
	// filler units in a queue that already holds messages: the writer
	// assigns dense offsets, so such a gap means a corrupt QUEUEOFFSET and
	// filling it could write gigabytes of fillers.
	ErrGapTooLarge = errors.New("consumequeue: queue offset gap too large")
	// ErrCorrupt reports queue files that cannot belong to one queue
	// (bad names, sizes or a missing file in the middle).
	ErrCorrupt = errors.New("consumequeue: corrupt queue files")
	// ErrNotWritable is wrapped by every flush of a queue after one of its
	// flushes failed (read.go, failLocked): the failure is sticky, since
	// Linux reports a write-back error once per descriptor and a retried
	// msync would report success for units that never reached the disk.
	// Likewise by every Put and flush after a unit could not be written
	// (Put). The broker answers it SERVICE_NOT_AVAILABLE (actors/reply).
	ErrNotWritable = errors.New("consumequeue: not writable")
	// ErrBadName rejects a topic that cannot be a directory name, or a
	// negative queue id (never a queue; its directory would not load).
	ErrBadName = errors.New("consumequeue: topic or queue id cannot name a queue directory")

	// errDirSync marks a failed directory fsync, which Retryable never
	// retries, whatever its errno: the entries may not be on disk, and a
	// retry of restartAt finds nothing left to remove and would create the
	// new file without the fsync its removals need (entries.go, rule 3).
	errDirSync = errors.New("directory fsync failed")
)

// Retryable reports whether a failed Put can be retried as it is: the unit
// was not written because the system lacked a resource while a file was
// made, mapped or allocated — disk space or quota (ENOSPC, EDQUOT), file
// descriptors (EMFILE, ENFILE), mappings or memory (ENOMEM, EAGAIN) —
// and the queue is still writable. The queue actor keeps the unit and every
// later one, in order, and tries again (actors/queue/backlog.go); Java
// retries a failed unit write 30 times, a second apart, before it stops
// taking writes. Any other failure makes the queue not writable (Put).
func Retryable(err error) bool {
	if errors.Is(err, ErrNotWritable) || errors.Is(err, errDirSync) {
		return false
	}
	for _, errno := range [...]syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EMFILE, syscall.ENFILE, syscall.ENOMEM, syscall.EAGAIN} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

// Unit is one consume-queue entry.
type Unit struct {
	CommitLogOffset int64
	Size            int32
	TagsCode        int64
}

// IsFiller reports whether u is a filler placeholder, not a message.
func (u Unit) IsFiller() bool { return u.CommitLogOffset == 0 && u.Size == FillerSize }

// Config configures one queue.
type Config struct {
	RootDir  string // <storePathRootDir>/consumequeue
	Topic    string
	QueueID  int32
	FileSize int64  // mapedFileSizeConsumeQueue, a multiple of UnitBytes; default FileSizeDefault
	FS       vfs.FS // default vfs.Default
	Logger   zerolog.Logger
	// Dirs is shared by the queues under RootDir, so that one directory
	// fsync covers the entries of every queue created in it before; default
	// a record of this queue's own.
	Dirs *Dirs
}

// ConsumeQueue is one queue. Goroutine contract: Put/TruncateDirty/
// ResyncFrom/DeleteBelow/Close/Destroy from the owning queue actor (one
// goroutine at a time); Get/MinOffset/MaxOffset/MaxPhysicalOffset/Flush from any goroutine.
type ConsumeQueue struct{ impl *queue }

// Open loads the queue's files and truncates an invalid tail (§7.2). A queue
// without a directory opens empty; its files are created by the first Put.
func Open(cfg Config) (*ConsumeQueue, error) {
	q, err := openQueue(cfg)
	if err != nil {
		return nil, err
	}
	return &ConsumeQueue{impl: q}, nil
}

// Put writes the unit at queueOffset. Units below MaxOffset or pointing below
// MaxPhysicalOffset are ignored (re-dispatch); a gap is filled with filler units.
// A unit that cannot be written for a reason other than a lack of
// resources (Retryable) makes the queue not writable: this and every later
// Put and flush fail with an error wrapping ErrNotWritable.
func (q *ConsumeQueue) Put(queueOffset int64, u Unit) error {
	if err := q.impl.put(queueOffset, u); err != nil {
		return q.impl.putFailed(err)
	}
	return nil
}

// Get fills dst (up to cap(dst)) with units from queueOffset on, stopping at
// MaxOffset, and returns dst[:n]. The units are copies: dst belongs to the
// caller and no file memory is retained. Filler units are returned as they
// are; callers skip them. An offset at or beyond MaxOffset yields no units.
func (q *ConsumeQueue) Get(queueOffset int64, dst []Unit) ([]Unit, error) {
	return q.impl.get(queueOffset, dst)
}

// MinOffset is the queue offset of the first message unit (fillers and
// units below the commit-log minimum skipped); MaxOffset when there is none.
func (q *ConsumeQueue) MinOffset() int64 { return q.impl.minOffset.Load() }

// MaxOffset is the next queue offset (number of units written).
func (q *ConsumeQueue) MaxOffset() int64 { return q.impl.maxOffset.Load() }

// MaxPhysicalOffset is the commit-log end (offset+size) of the newest
// message unit; 0 when there is none.
func (q *ConsumeQueue) MaxPhysicalOffset() int64 { return q.impl.maxPhysical.Load() }

// Repair makes the unit at queueOffset (below MaxOffset) u, the unit the
// commit log says belongs there, and reports whether it was different.
// After a crash a unit can be half on disk: 20 bytes straddle a page (or
// sector) boundary every 4096/20 units, and write-back or a power cut
// during an msync can make one side durable and not the other. Recovery
// keeps such a unit when its offset and size came through (it cannot tell a
// zero or stale tag code from a real one), and Put ignores offsets below
// MaxOffset, so only Repair rewrites it; the next Flush makes it durable.
// A unit holding a record newer than u (a higher commit-log offset: the
// queue was deleted and created again, and u is the old queue's) is kept,
// and so are a filler (never torn) and one below the oldest file. Torn
// bytes read as zeros or older bytes, never as a higher offset, so a torn
// unit is always repaired (or, when its record was lost too, dropped by
// TruncateDirty first).
// Owner goroutine, before the queue is used (the store's re-dispatch).
func (q *ConsumeQueue) Repair(queueOffset int64, u Unit) (bool, error) {
	return q.impl.repair(queueOffset, u)
}

// TruncateDirty drops units whose commit-log offset is >= phyOffset.
func (q *ConsumeQueue) TruncateDirty(phyOffset int64) error { return q.impl.truncateDirty(phyOffset) }

// ResyncFrom rewrites the units pointing at or beyond phyOffset and makes
// the next Flush msync them again, after an fsync of the queue directory,
// and reports whether there are any. After a crash the store cannot tell
// whether the units Open loaded were durable or only in the page cache (a
// process crash keeps them there, a later power cut does not), and Flush
// would msync only what is written from now on: the checkpoint, which
// advances after a flush round, would count them durable, and a power cut
// would lose them for good (the commit log is re-dispatched only from the
// checkpoint on). Rewritten, not only msynced: after a write-back error
// (the previous process stopped on it) Linux keeps the failed pages in the
// page cache, clean, so they read back right and an msync of them writes
// nothing; a write makes them dirty again. An error (the write failed)
// fails the store's Open. Owner goroutine, before the queue is used.
func (q *ConsumeQueue) ResyncFrom(phyOffset int64) (bool, error) { return q.impl.resyncFrom(phyOffset) }

// DeleteBelow deletes files whose last unit points below commitLogMin and
// moves MinOffset to the first unit at or above it. The newest file is
// never deleted, so MaxOffset survives.
func (q *ConsumeQueue) DeleteBelow(commitLogMin int64) error { return q.impl.deleteBelow(commitLogMin) }

// Flush makes written units durable (msync of the unflushed range). After
// one failed flush (this, FlushPages, BeginFlush or Close) every later one
// fails with the first error, which wraps ErrNotWritable.
func (q *ConsumeQueue) Flush() error { return q.impl.flush(0) }

// FlushPages, with leastPages > 0, starts write-back of the whole pages of
// units written since the last call when there are at least leastPages of
// them or the end moved into a newer file, and does nothing otherwise
// (Java's flushConsumeQueueLeastPages): with many slow queues, writing each
// every round would cost a write and a page fault per queue and round. It
// makes no unit durable (Java msyncs them; only Flush does here), only new
// files' directory entries. leastPages <= 0 is Flush.
func (q *ConsumeQueue) FlushPages(leastPages int) error { return q.impl.flush(leastPages) }

// FlushPage numbers the page of its file that the unit at queue offset
// maxOffset would start in (file index and page within it). FlushPages'
// verdict for a given flushed position changes only when the end's
// FlushPage does, so a caller that sees it unchanged across Puts knows no
// more pages became due. Pure; any goroutine.
func (q *ConsumeQueue) FlushPage(maxOffset int64) int64 {
	end := maxOffset * UnitBytes
	return end/q.impl.fileSize<<32 | end%q.impl.fileSize/pageBytes
}

// EntriesUnsynced reports whether a file was created whose directory entry
// no fsync has covered yet; FlushPages with leastPages > 0 fsyncs them
// even when no pages are due. Any goroutine.
func (q *ConsumeQueue) EntriesUnsynced() bool {
	return q.impl.syncedGen.Load() < q.impl.createdGen.Load()
}

// Close flushes and unmaps. Later calls return nil.
func (q *ConsumeQueue) Close() error { return q.impl.close() }

// Destroy closes and deletes the queue's files and directory.
func (q *ConsumeQueue) Destroy() error { return q.impl.destroy() }
