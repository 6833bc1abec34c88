package consumequeue

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
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
// A round by pages (leastPages > 0) msyncs only whole pages: up to the last
// page boundary (counted from the start of the file) below the end, and
// leaves the page the queue is still writing to the next flush. Java's
// flush msyncs the whole written range; with 10,000 queues each getting a
// few units a second that wrote the end page twice (now and, full, at the
// next flush) and write-protected it, so the queue's next Put faulted
// (page_mkwrite) right after every msync. The unit across that boundary is
// then half durable until the next flush (4096 is no multiple of
// UnitBytes), which a power cut can leave as a unit recovery keeps with a
// zero tag code (TestCrashAfterFlushPagesKeepsWholeUnits); write-back of a
// page the queue still writes can leave the same at any time, so the
// store's re-dispatch after a crash repairs such units from the commit log
// (Repair) whichever way they came about. Rounds by pages advance no
// checkpoint (Registry.flushAll: only a thorough round moves
// FlushedTimestamp, as in Java), and Flush and a thorough round still msync
// everything, so every unit the checkpoint counts is whole on disk.
func (q *queue) flush(leastPages int) error {
	if q.closed.Load() {
		return ErrClosed
	}
	q.flushMu.Lock()
	defer q.flushMu.Unlock()
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
		return q.syncEntries()
	}
	return q.flushLocked(end - (end%q.fileSize)%pageBytes)
}

// worthFlushingLocked reports whether leastPages whole pages of units (page
// numbers counted from the start of the file) below end are unflushed, or
// end moved into a newer file. REQUIRES q.flushMu.
func (q *queue) worthFlushingLocked(end int64, leastPages int) bool {
	if end <= q.flushed {
		return false
	}
	fileStart := q.flushed / q.fileSize * q.fileSize
	if end-fileStart >= q.fileSize {
		return true
	}
	return (end-fileStart)/pageBytes-(q.flushed-fileStart)/pageBytes >= int64(leastPages)
}

// flushLocked makes the directory entries of new files durable, then
// msyncs [flushed, end) of every file; end is at most the max offset's
// byte offset, read before (entries.go: MaxOffset is read before
// syncEntries reads the creation count). REQUIRES q.flushMu.
func (q *queue) flushLocked(end int64) error {
	if end <= q.flushed {
		return nil
	}
	if err := q.syncEntries(); err != nil {
		return err
	}
	q.mu.RLock()
	defer q.mu.RUnlock()
	for _, cf := range q.files {
		lo := max(q.flushed, cf.start)
		hi := min(end, cf.start+q.fileSize)
		if lo >= hi {
			continue
		}
		if err := cf.m.Sync(int(lo-cf.start), int(hi-lo)); err != nil {
			return fmt.Errorf("consumequeue: flush %s/%s: %w", q.dir, fileName(cf.start), err)
		}
	}
	q.flushed = end
	return nil
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
