package consumequeue

import (
	"errors"
	"fmt"
)

// truncateDirty implements TruncateDirty. Owner goroutine only.
//
// Units are in commit-log order, so the dirty ones are a suffix: walk back
// from the end while units point at or beyond phyOffset, or below the end
// of the unit before them. Such a unit is torn (a power cut kept the
// second page of a unit across a page boundary, not the first: its offset
// reads 0), and its record may be in the lost tail of the log, where
// Repair cannot find it; dropped, it comes back by re-dispatch when its
// record survived (a torn unit is newer than the checkpoint). Fillers
// point at 0 and stop the walk; they are never dirty.
func (q *queue) truncateDirty(phyOffset int64) error {
	if q.closed.Load() {
		return ErrClosed
	}
	q.flushMu.Lock()
	defer q.flushMu.Unlock()
	if len(q.files) == 0 {
		return nil
	}
	maxOff := q.maxOffset.Load()
	n := maxOff
	for first := q.files[0].start / UnitBytes; n > first; n-- {
		u := readUnit(q.slot(n - 1))
		if u.IsFiller() {
			break
		}
		if u.CommitLogOffset < phyOffset {
			if n-1 == first {
				break
			}
			if prev := readUnit(q.slot(n - 2)); prev.IsFiller() || u.CommitLogOffset >= prev.CommitLogOffset+int64(prev.Size) {
				break
			}
		}
	}
	if n == maxOff {
		return nil
	}
	q.mu.Lock()
	err := q.cutLocked(n * UnitBytes)
	q.maxOffset.Store(n)
	if q.minOffset.Load() > n {
		q.minOffset.Store(n)
	}
	q.maxPhysical.Store(q.lastPhysical(n))
	q.mu.Unlock()
	q.unflushFrom(n * UnitBytes)
	q.log.Info().Int64("phyOffset", phyOffset).Int64("from", maxOff).Int64("to", n).Msg("consume queue dirty units truncated")
	if err != nil {
		return fmt.Errorf("consumequeue: truncate %s/%d at %d: %w", q.cfg.Topic, q.cfg.QueueID, n, err)
	}
	return nil
}

// resyncFrom implements ResyncFrom. Owner goroutine only.
//
// Units are in commit-log order, so the ones to sync again are a suffix, as
// for truncateDirty; fillers in it are synced with it.
//
// The suffix is written again through each file's descriptor (pwrite of
// the bytes the mapping holds), which dirties its pages whatever the page
// cache thought of them. The rejected alternatives: storing each unit
// again through the mapping also dirties the page on Linux, but sim/faultfs
// cannot see a store of equal bytes, so no test could tell it from no
// store; dropping the range's clean pages (posix_fadvise DONTNEED) before
// Open reads the queue shows what the disk holds, but the kernel may keep
// pages it finds busy, and a queue would then read its whole tail from
// disk at each abnormal start. The cost is one copy of the suffix (its size
// is the units since the recovery start, 20 bytes a message) and its write
// at the next flush.
func (q *queue) resyncFrom(phyOffset int64) (bool, error) {
	q.flushMu.Lock()
	defer q.flushMu.Unlock()
	if len(q.files) == 0 {
		return false, nil
	}
	maxOff := q.maxOffset.Load()
	n := maxOff
	for first := q.files[0].start / UnitBytes; n > first; n-- {
		if u := readUnit(q.slot(n - 1)); !u.IsFiller() && u.CommitLogOffset < phyOffset {
			break
		}
	}
	if n == maxOff {
		return false, nil
	}
	q.unflushFrom(n * UnitBytes)
	q.createdGen.Add(1) // syncEntries fsyncs the directory: its entries may be as fresh
	q.mu.RLock()
	defer q.mu.RUnlock()
	buf := make([]byte, min((maxOff-n)*UnitBytes, rewriteChunk))
	err := q.eachFileRange(n*UnitBytes, maxOff*UnitBytes, func(cf *cqFile, off, size int64) error {
		for done := int64(0); done < size; {
			c := copy(buf, cf.b[off+done:off+size])
			if _, err := cf.f.WriteAt(buf[:c], off+done); err != nil {
				return fmt.Errorf("consumequeue: rewrite %s/%s from %d: %w", q.dir, fileName(cf.start), off+done, err)
			}
			done += int64(c)
		}
		return nil
	})
	return true, err
}

// rewriteChunk bounds resyncFrom's buffer: with 10,000 queues each
// rewrites a few pages, with one a few megabytes.
const rewriteChunk = 64 << 10

// deleteBelow implements DeleteBelow. Owner goroutine only.
func (q *queue) deleteBelow(commitLogMin int64) error {
	if q.closed.Load() {
		return ErrClosed
	}
	var victims []*cqFile
	q.mu.Lock()
	for len(q.files) > 1 {
		u, ok := q.lastMessageIn(q.files[0])
		if ok && u.CommitLogOffset >= commitLogMin {
			break
		}
		victims = append(victims, q.files[0])
		q.files = q.files[1:]
	}
	q.mu.Unlock()
	var errs []error
	for _, cf := range victims {
		errs = append(errs, q.removeFile(cf))
	}
	if len(victims) > 0 {
		if err := q.fs.SyncDir(q.dir); err != nil {
			errs = append(errs, fmt.Errorf("consumequeue: sync %s: %w", q.dir, err))
		}
		q.log.Debug().Int("files", len(victims)).Int64("commitLogMin", commitLogMin).Msg("expired consume queue files deleted")
	}
	if len(q.files) > 0 {
		oldMin := q.minOffset.Load()
		from := max(oldMin, q.files[0].start/UnitBytes)
		if newMin := q.firstMessage(from, q.maxOffset.Load(), commitLogMin); newMin > oldMin {
			q.minOffset.Store(newMin)
		}
	}
	return errors.Join(errs...)
}

// lastMessageIn returns the newest non-filler unit of a full file; false
// when the file holds only fillers. REQUIRES the owner goroutine.
func (q *queue) lastMessageIn(cf *cqFile) (Unit, bool) {
	for p := q.fileSize - UnitBytes; p >= 0; p -= UnitBytes {
		if u := readUnit(cf.b[p:]); !u.IsFiller() {
			return u, true
		}
	}
	return Unit{}, false
}
