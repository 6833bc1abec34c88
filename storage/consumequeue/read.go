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
// A round by pages msyncs the whole written range, the page the queue is
// still writing included, as Java does. Leaving that page to the next
// flush (msyncing whole pages only) was rejected: 4096 is no multiple of
// UnitBytes, so the unit across the last page boundary was then half
// durable until the next flush: after a power cut, recovery keeps it as
// valid when its offset and size reached the disk but its tag code did
// not, and re-dispatch does not rewrite it, being below MaxOffset
// (TestCrashAfterFlushPagesKeepsWholeUnits). It saved only ~0.002 page
// faults a unit (BenchmarkPutFlushPages).
func (q *queue) flush(leastPages int) error {
	if q.closed.Load() {
		return ErrClosed
	}
	q.flushMu.Lock()
	defer q.flushMu.Unlock()
	if leastPages > 0 && !q.worthFlushingLocked(leastPages) {
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
	return q.flushLocked()
}

// worthFlushingLocked reports whether leastPages whole pages of units (page
// numbers counted from the start of the file) are unflushed, or the end
// moved into a newer file. REQUIRES q.flushMu.
func (q *queue) worthFlushingLocked(leastPages int) bool {
	end := q.maxOffset.Load() * UnitBytes
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
// msyncs [flushed, max) of every file (entries.go: MaxOffset is read before
// syncEntries reads the creation count). REQUIRES q.flushMu.
func (q *queue) flushLocked() error {
	end := q.maxOffset.Load() * UnitBytes
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
	errs := []error{q.flushLocked()}
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
