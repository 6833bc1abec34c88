package consumequeue

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/actormq/actormq/storage/vfs"
)

// get implements Get. Any goroutine.
func (q *queue) get(off int64, dst []Unit) ([]Unit, error) {
	dst = dst[:0]
	if q.closed.Load() {
		return dst, ErrClosed
	}
	if off < 0 {
		return dst, ErrOffsetGone
	}
	q.mu.RLock()
	defer q.mu.RUnlock()
	// Loaded under mu: truncation moves max backwards only while holding mu
	// exclusively, and Put stores it only after the units are written.
	maxOff := q.maxOffset.Load()
	if len(q.files) == 0 || off >= maxOff {
		return dst, nil
	}
	pos := off*UnitBytes - q.files[0].start
	if pos < 0 {
		return dst, ErrOffsetGone
	}
	end := maxOff*UnitBytes - q.files[0].start
	for pos < end && len(dst) < cap(dst) {
		i := pos / q.fileSize
		if i >= int64(len(q.files)) {
			break
		}
		b := q.files[i].b
		for p := pos % q.fileSize; p < q.fileSize && pos < end && len(dst) < cap(dst); p += UnitBytes {
			dst = append(dst, readUnit(b[p:p+UnitBytes]))
			pos += UnitBytes
		}
	}
	return dst, nil
}

// pageBytes is the page size FlushPages counts in (Java's OS_PAGE_SIZE).
const pageBytes = 4096

// flush implements Flush and FlushPages. Any goroutine.
//
// A round by pages (leastPages > 0) only starts write-back
// (startWriteBackLocked) of whole pages: up to the last page boundary
// (counted from the start of the file) below the end, leaving the page the
// queue is still writing to a later round. Nothing rests on it being
// durable: rounds by pages advance no checkpoint (Registry.flushAll: only a
// thorough round moves FlushedTimestamp, as in Java), and Flush, a thorough
// round and Close msync everything from flushed on, which a round by pages
// does not move. Its job is to get the pages written early, so that the
// thorough round (10,000 queues one by one) and the kernel's own write-back
// find little left. Java's round by pages forces (msyncs) the whole written
// range; msync here cost ~210 CPU-µs per queue (the page write, a
// synchronous inode write, write-protection, a device cache flush), 100 to
// 700 a second with 10,000 queues, and on a SYNC_FLUSH broker each device
// cache flush delayed the commit log's acknowledging msync. Whole pages
// only, because writing the end page back (by msync or write-back) also
// write-protects it, so the queue's next Put faults (page_mkwrite), and
// the page is written twice. A unit across a page boundary can be half on
// disk after a crash however the pages got there (kernel write-back does
// the same at any time), so the store's re-dispatch after a crash repairs
// such units from the commit log (Repair); a thorough round still msyncs
// them whole before the checkpoint counts them
// (TestCrashAfterFlushPagesKeepsWholeUnits, TestRoundByPagesIsNotDurable).
func (q *queue) flush(leastPages int) error {
	if q.closed.Load() {
		return ErrClosed
	}
	q.flushMu.Lock()
	defer q.flushMu.Unlock()
	if err := q.stickyLocked(); err != nil {
		return err
	}
	end := q.maxOffset.Load() * UnitBytes
	if leastPages <= 0 {
		return q.flushLocked(end)
	}
	if !q.worthFlushingLocked(end, leastPages) {
		// A new file's directory entries need not wait for its pages: a
		// new queue would otherwise leave them to the next full flush
		// (CQFlushThoroughInterval, 60 s), which then fsyncs the
		// directories of every queue created since, seconds of fsyncs
		// with 10,000 new queues. Syncing entries reports nothing durable
		// (entries.go, rule 1), so it may run early. Msyncing the first
		// page too was rejected: a disk write per new queue and a write
		// fault at its next Put, where the entries cost one fsync.
		return q.failLocked(q.syncEntries())
	}
	return q.startWriteBackLocked(end - (end%q.fileSize)%pageBytes)
}

// worthFlushingLocked reports whether leastPages whole pages of units (page
// numbers counted from the start of the file) below end are not yet on
// their way to disk (at or past started), or end moved into a newer file.
// REQUIRES q.flushMu.
func (q *queue) worthFlushingLocked(end int64, leastPages int) bool {
	if end <= q.started {
		return false
	}
	fileStart := q.started / q.fileSize * q.fileSize
	if end-fileStart >= q.fileSize {
		return true
	}
	return (end-fileStart)/pageBytes-(q.started-fileStart)/pageBytes >= int64(leastPages)
}

// startWriteBackLocked makes the directory entries of new files durable,
// as a flush does (a new queue's entries must not wait for the thorough
// round: flush), then starts write-back of [started, end) of every file
// and moves started to end; flushed stays, so the next Flush msyncs the
// range. Files without vfs.WriteBackStarter (sim/faultfs) are msynced as
// before and the range counts flushed. A failure to start write-back is
// not sticky and leaves started where it was: sync_file_range without a
// wait makes nothing durable and reports submission errors only (a
// transient ENOMEM, say), and a write-back error it would have met is
// reported by the next msync of the same range, on the same descriptor,
// which fails for good (flushLocked). A failure of the directory fsync is
// sticky (failLocked). REQUIRES q.flushMu.
func (q *queue) startWriteBackLocked(end int64) error {
	if err := q.stickyLocked(); err != nil {
		return err
	}
	if end <= q.started {
		return nil
	}
	q.mu.RLock()
	startable := true
	for _, cf := range q.files {
		if _, ok := cf.f.(vfs.WriteBackStarter); !ok {
			startable = false
		}
	}
	q.mu.RUnlock()
	if !startable {
		return q.flushLocked(end)
	}
	if err := q.syncEntries(); err != nil {
		return q.failLocked(err)
	}
	q.mu.RLock()
	defer q.mu.RUnlock()
	if err := q.eachFileRange(q.started, end, func(cf *cqFile, off, n int64) error {
		if err := cf.f.(vfs.WriteBackStarter).StartWriteBack(off, n); err != nil {
			return fmt.Errorf("consumequeue: start write-back of %s/%s: %w", q.dir, fileName(cf.start), err)
		}
		return nil
	}); err != nil {
		return err
	}
	q.started = end
	return nil
}

// eachFileRange calls f with each file's part of the queue's byte range
// [from, end): the offset in the file and the length. It stops at f's
// first error. REQUIRES q.mu (read).
func (q *queue) eachFileRange(from, end int64, f func(cf *cqFile, off, n int64) error) error {
	for _, cf := range q.files {
		lo := max(from, cf.start)
		hi := min(end, cf.start+q.fileSize)
		if lo >= hi {
			continue
		}
		if err := f(cf, lo-cf.start, hi-lo); err != nil {
			return err
		}
	}
	return nil
}

// flushLocked makes the directory entries of new files durable, then
// msyncs [flushed, end) of every file; end is at most the max offset's
// byte offset, read before (entries.go: MaxOffset is read before
// syncEntries reads the creation count). A failure is sticky (failLocked).
// REQUIRES q.flushMu.
func (q *queue) flushLocked(end int64) error {
	if err := q.stickyLocked(); err != nil {
		return err
	}
	if end <= q.flushed {
		return nil
	}
	if err := q.syncEntries(); err != nil {
		return q.failLocked(err)
	}
	q.mu.RLock()
	defer q.mu.RUnlock()
	if err := q.eachFileRange(q.flushed, end, func(cf *cqFile, off, n int64) error {
		if err := cf.m.Sync(int(off), int(n)); err != nil {
			return fmt.Errorf("consumequeue: flush %s/%s: %w", q.dir, fileName(cf.start), err)
		}
		return nil
	}); err != nil {
		return q.failLocked(err)
	}
	q.flushed = end
	q.started = max(q.started, end)
	return nil
}

// failLocked makes err, a failed flush (nil: none), the queue's sticky
// error and returns it; every later flush returns the same error, which
// wraps ErrNotWritable, and flushed never moves again. Retrying is what
// lost units: Linux reports a page's write-back error once per
// descriptor (errseq) and leaves the page clean, so the second msync of
// the same range returned 0, flushed moved past units that never reached
// the disk and a thorough round let the checkpoint count them (a crash then
// lost them, and re-dispatch started after them). This is stricter than
// Java, whose MappedFile.flush logs a failed force and moves on; the
// registry turns the error into a refusal of sends (queue.Registry.
// WriteError) by analogy with RunningFlags.WRITE_LOGICS_QUEUE_ERROR_BIT,
// which Java sets when a consume-queue unit cannot be written (putFailed
// here). A restart clears it: Close fails too, so the store stays marked
// aborted and the next start re-dispatches from the checkpoint, rewriting
// the units from the recovery start (ResyncFrom: the failed pages may still
// be in the page cache, clean). REQUIRES q.flushMu.
func (q *queue) failLocked(err error) error {
	if err == nil {
		return nil
	}
	if q.flushErr == nil {
		q.flushErr = fmt.Errorf("%w: %w", ErrNotWritable, err)
		q.log.Error().Err(err).Msg("consume queue flush failed: the queue stays not writable until a restart")
	}
	return q.flushErr
}

// stickyLocked returns the queue's sticky failure, nil when there is none:
// its failed flush, or else a failed write on the owner's side (writeErr,
// putFailed), which becomes the flush failure. REQUIRES q.flushMu.
func (q *queue) stickyLocked() error {
	if q.flushErr == nil {
		if p := q.writeErr.Load(); p != nil {
			q.flushErr = *p // wraps ErrNotWritable; putFailed logged it
		}
	}
	return q.flushErr
}

// putFailed makes err, a failed Put, the queue's sticky write error when it
// is a failure to write the unit (not a lack of resources, Retryable,
// which the queue actor retries from its backlog, nor a unit or offset Put
// refuses), and
// returns the error for the caller. Java sets RunningFlags.
// WRITE_LOGICS_QUEUE_ERROR_BIT there and stops taking writes; so does the
// broker (the queue actor hands the error to the registry). Owner
// goroutine.
func (q *queue) putFailed(err error) error {
	switch {
	case errors.Is(err, ErrNotWritable), errors.Is(err, ErrBadUnit), errors.Is(err, ErrGapTooLarge),
		errors.Is(err, ErrClosed), Retryable(err):
		return err
	}
	werr := fmt.Errorf("%w: %w", ErrNotWritable, err)
	if q.writeErr.CompareAndSwap(nil, &werr) {
		q.log.Error().Err(err).Msg("consume queue write failed: the queue takes no more units until a restart")
	}
	return *q.writeErr.Load()
}

// unflushFrom makes the next flush (and round by pages) cover the units
// from byte offset pos on again: they were rewritten, dropped or may not
// be durable. REQUIRES q.flushMu.
func (q *queue) unflushFrom(pos int64) {
	q.unflushGen++ // voids a FlushMark taken before (syncfs.go)
	q.flushed = min(q.flushed, pos)
	q.started = min(q.started, pos)
}

// close implements Close. Owner goroutine.
func (q *queue) close() error {
	if !q.closed.CompareAndSwap(false, true) {
		return nil
	}
	q.flushMu.Lock()
	defer q.flushMu.Unlock()
	errs := []error{q.flushLocked(q.maxOffset.Load() * UnitBytes)}
	q.mu.Lock()
	for _, cf := range q.files {
		errs = append(errs, cf.release())
	}
	q.files = nil
	q.mu.Unlock()
	return errors.Join(errs...)
}

// destroy implements Destroy. Owner goroutine.
func (q *queue) destroy() error {
	err := q.close()
	if rerr := q.fs.RemoveAll(q.dir); rerr != nil {
		return errors.Join(err, fmt.Errorf("consumequeue: remove %s: %w", q.dir, rerr))
	}
	// The topic directory goes too once its last queue is gone; Remove
	// refuses a non-empty directory, which is the case to leave alone.
	// Directory syncs here are best effort: a removal that is lost in a
	// crash leaves an empty directory, which opens as an empty queue.
	topicDir := filepath.Dir(q.dir)
	if rerr := q.cfg.Dirs.remove(q.fs, topicDir); rerr == nil {
		_ = q.fs.SyncDir(q.cfg.RootDir)
	} else if !errors.Is(rerr, fs.ErrNotExist) {
		_ = q.fs.SyncDir(topicDir)
	}
	q.log.Info().Msg("consume queue destroyed")
	return err
}
