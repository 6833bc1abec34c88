package consumequeue

import (
	"errors"
	"fmt"
)

var fillerUnit = Unit{CommitLogOffset: 0, Size: FillerSize, TagsCode: 0}

// put implements Put. Owner goroutine only.
func (q *queue) put(off int64, u Unit) error {
	if q.closed.Load() {
		return ErrClosed
	}
	if off < 0 || !validUnit(u) || u.IsFiller() {
		return fmt.Errorf("%w: queue offset %d, unit %+v", ErrBadUnit, off, u)
	}
	maxOff := q.maxOffset.Load()
	if off < maxOff {
		return nil // already written: re-dispatch after recovery
	}
	if u.CommitLogOffset+int64(u.Size) <= q.maxPhysical.Load() {
		return nil // the record is already in this queue at a lower offset
	}
	noMessages := q.minOffset.Load() >= maxOff
	if off == maxOff && len(q.tail) >= UnitBytes {
		// The next unit in sequence, in the allocated rest of the newest
		// file: no walk through files and cqFile (queue's layout comment).
		writeUnit(q.tail, u)
		q.tail = q.tail[UnitBytes:]
		q.publish(off, u, noMessages)
		return nil
	}
	q.tail = nil // until this unit is written: a failure below leaves none
	if p := q.writeErr.Load(); p != nil {
		// After a failed write (putFailed), off leaves a gap: refused
		// rather than filled (queue.writeErr). No tail after a failure,
		// so the check costs nothing on the way above.
		return *p
	}
	switch gap := off - maxOff; {
	case len(q.files) == 0 || (noMessages && gap > q.unitsPerFile):
		// Fresh (or wholly expired) queue: start at the file holding off
		// instead of writing whole files of fillers.
		if err := q.restartAt(off); err != nil {
			return err
		}
		maxOff = q.maxOffset.Load()
	case gap > q.unitsPerFile:
		return fmt.Errorf("%w: queue %s/%d ends at %d, unit for %d", ErrGapTooLarge, q.cfg.Topic, q.cfg.QueueID, maxOff, off)
	case gap > 0 && !noMessages:
		q.log.Warn().Int64("max", maxOff).Int64("offset", off).Msg("consume queue gap filled with filler units")
	}
	for o := maxOff; o < off; o++ {
		b, err := q.slotForWrite(o)
		if err != nil {
			return err
		}
		writeUnit(b, fillerUnit)
	}
	b, err := q.slotForWrite(off)
	if err != nil {
		return err
	}
	writeUnit(b, u)
	q.tail = q.tailAfter(off)
	q.publish(off, u, noMessages)
	return nil
}

// publish makes the unit just written at off, the new end, visible to
// readers. Owner goroutine only.
func (q *queue) publish(off int64, u Unit, noMessages bool) {
	q.maxPhysical.Store(u.CommitLogOffset + int64(u.Size))
	// Publish max before min so a reader never sees min > max.
	q.maxOffset.Store(off + 1)
	if noMessages {
		q.minOffset.Store(off)
	}
}

// tailAfter returns the allocated bytes of the newest file after the unit
// at off, which was just written there (put's tail); nil when off is not
// in the newest file or nothing allocated follows it. Only the range
// writeSlot allocated last counts (the chunk or two holding off), so the
// tail never reaches a page that is not allocated (a store there on a full
// disk is a SIGBUS, not an error). Owner goroutine only.
func (q *queue) tailAfter(off int64) []byte {
	if len(q.files) == 0 {
		return nil
	}
	cf := q.files[len(q.files)-1]
	pos := off*UnitBytes - cf.start
	if pos < cf.allocLo || pos+UnitBytes > cf.allocHi {
		return nil
	}
	return cf.b[pos+UnitBytes : cf.allocHi]
}

// repair implements Repair. Owner goroutine only.
func (q *queue) repair(off int64, u Unit) (bool, error) {
	if q.closed.Load() {
		return false, ErrClosed
	}
	if off < 0 || !validUnit(u) || u.IsFiller() {
		return false, fmt.Errorf("%w: queue offset %d, unit %+v", ErrBadUnit, off, u)
	}
	maxOff := q.maxOffset.Load()
	if off >= maxOff {
		return false, fmt.Errorf("%w: repair at %d, queue ends at %d", ErrBadUnit, off, maxOff)
	}
	old := q.slot(off)
	if old == nil {
		return false, nil // below the oldest file
	}
	// A filler is never torn (no message has size FillerSize): Put wrote
	// it on purpose, below a restarted queue's first message or in a gap.
	if had := readUnit(old); had == u || had.IsFiller() || had.CommitLogOffset > u.CommitLogOffset {
		return false, nil
	}
	// Allocated first, as for any store: the half of the unit that did
	// not reach the disk may lie in a page that is a hole.
	b, err := q.slotForWrite(off)
	if err != nil {
		return false, err
	}
	q.flushMu.Lock()
	defer q.flushMu.Unlock()
	q.mu.Lock()
	writeUnit(b, u) // under mu: Get copies units under it, and this one is published
	q.mu.Unlock()
	q.unflushFrom(off * UnitBytes)
	// A torn unit reads as an older record, never a newer one: the
	// queue's newest physical end can only move out. MinOffset stays: the
	// units below it are fillers (Open), which Repair keeps.
	q.maxPhysical.Store(max(q.maxPhysical.Load(), u.CommitLogOffset+int64(u.Size)))
	return true, nil
}

// restartAt drops every file and starts the queue with a fresh file holding
// queue offset off; min and max become that file's first offset.
func (q *queue) restartAt(off int64) error {
	q.flushMu.Lock()
	defer q.flushMu.Unlock()
	q.mu.Lock()
	old := q.files
	q.files = nil
	q.mu.Unlock()
	var errs []error
	for _, cf := range old {
		errs = append(errs, q.removeFile(cf))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// The removals must be durable before the new file's entry can be: a
	// crash that kept the new file and the old ones would leave a queue
	// with a hole, which does not load. Only a queue restarted past its
	// expired files (rare) pays this fsync on the owner.
	if len(old) > 0 {
		if err := q.fs.SyncDir(q.dir); err != nil {
			return fmt.Errorf("consumequeue: %w: %s: %w", errDirSync, q.dir, err)
		}
	}
	start := off * UnitBytes / q.fileSize * q.fileSize
	if err := q.ensureDir(); err != nil {
		return err
	}
	cf, err := q.mapFile(start, true)
	if err != nil {
		return err
	}
	q.mu.Lock()
	q.files = []*cqFile{cf}
	q.mu.Unlock()
	if err := q.fileCreated(); err != nil {
		return err
	}
	q.flushed, q.started = start, start
	q.unflushGen++ // a FlushMark of the dropped files must not count units of the new one
	q.maxOffset.Store(start / UnitBytes)
	q.minOffset.Store(start / UnitBytes)
	return nil
}

// ensureDir creates the queue directory and its missing parents once per
// queue. The entries it depends on (Dirs.create) become durable with the
// first file's, in syncEntries.
func (q *queue) ensureDir() error {
	if q.dirExists {
		return nil
	}
	waits, err := q.cfg.Dirs.create(q.fs, q.dir)
	if err != nil {
		return err
	}
	if len(waits) > 0 {
		q.dirEntries.Store(&waits)
	}
	q.dirExists = true
	return nil
}

// slotForWrite returns the 20 bytes of queue offset off, allocated on disk
// (cqFile.writeSlot), appending the next file when off is the first unit
// after the last one. Owner goroutine only.
func (q *queue) slotForWrite(off int64) ([]byte, error) {
	if len(q.files) == 0 {
		return nil, fmt.Errorf("%w: no file for queue offset %d", ErrCorrupt, off)
	}
	if pos := off*UnitBytes - q.files[0].start; pos >= 0 && pos/q.fileSize < int64(len(q.files)) {
		return q.files[pos/q.fileSize].writeSlot(pos % q.fileSize)
	}
	start := q.files[len(q.files)-1].start + q.fileSize
	if pos := off * UnitBytes; pos < start || pos >= start+q.fileSize {
		return nil, fmt.Errorf("%w: queue offset %d is not in the next file %s", ErrCorrupt, off, fileName(start))
	}
	cf, err := q.mapFile(start, true)
	if err != nil {
		return nil, err
	}
	q.mu.Lock()
	q.files = append(q.files, cf)
	q.mu.Unlock()
	if err := q.fileCreated(); err != nil {
		return nil, err
	}
	q.log.Debug().Str("file", fileName(start)).Msg("consume queue file created")
	return cf.writeSlot(off*UnitBytes - start)
}
