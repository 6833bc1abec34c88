package consumequeue

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
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
	q.maxPhysical.Store(u.CommitLogOffset + int64(u.Size))
	// Publish max before min so a reader never sees min > max.
	q.maxOffset.Store(off + 1)
	if noMessages {
		q.minOffset.Store(off)
	}
	return nil
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
	if err := q.fs.SyncDir(q.dir); err != nil {
		return fmt.Errorf("consumequeue: sync %s: %w", q.dir, err)
	}
	q.flushed = start
	q.maxOffset.Store(start / UnitBytes)
	q.minOffset.Store(start / UnitBytes)
	return nil
}

// ensureDir creates the queue directory and makes its entry (and the
// topic directory's) durable, once per queue.
func (q *queue) ensureDir() error {
	if q.dirExists {
		return nil
	}
	if err := q.fs.MkdirAll(q.dir, 0o755); err != nil {
		return fmt.Errorf("consumequeue: create %s: %w", q.dir, err)
	}
	for _, d := range []string{filepath.Dir(q.dir), q.cfg.RootDir} {
		if err := q.fs.SyncDir(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("consumequeue: sync %s: %w", d, err)
		}
	}
	q.dirExists = true
	return nil
}

// slotForWrite returns the 20 bytes of queue offset off, appending the next
// file when off is the first unit after the last one. Owner goroutine only.
func (q *queue) slotForWrite(off int64) ([]byte, error) {
	if b := q.slot(off); b != nil {
		return b, nil
	}
	if len(q.files) == 0 {
		return nil, fmt.Errorf("%w: no file for queue offset %d", ErrCorrupt, off)
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
	// The new file's directory entry must be durable before units in it
	// are reported flushed; once per FileSize bytes, so done inline.
	if err := q.fs.SyncDir(q.dir); err != nil {
		return nil, fmt.Errorf("consumequeue: sync %s: %w", q.dir, err)
	}
	q.log.Debug().Str("file", fileName(start)).Msg("consume queue file created")
	return q.slot(off), nil
}
