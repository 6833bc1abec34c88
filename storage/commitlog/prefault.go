package commitlog

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/actormq/actormq/storage/vfs"
)

// prefaultState is what PrefaultWritten and CreateAhead keep between
// calls.
//
// Why: otherwise the roll creates the segment (fallocate, mmap, directory
// sync) on the writer, with every send waiting behind it; Java pre-creates the next file
// the same way (AllocateMappedFileService). For SYNC_FLUSH the blocks
// ahead are also written (PrefaultWritten). Java warms the whole file with
// zeros at creation (warmMapedFileEnable, off by default); writing a
// bounded distance ahead keeps the extra dirty zeros few.
type prefaultState struct {
	// mu makes prefault one call at a time and lets close wait for the
	// call under way before it drops next.
	mu sync.Mutex
	to int64 // mu: global offset the last call reached

	// nextMu serializes creating the next segment (prefault) with taking
	// it (roll, on the writer), so the file is never created twice.
	nextMu sync.Mutex
	// next is the segment starting where the newest one ends, created
	// ahead of the roll; nil until then. nextMu.
	next *segment
	// failedLogged: the first PrefaultWritten failure is logged at Warn, later
	// ones at Debug.
	failedLogged atomic.Bool

	// zeroMu and zeroFloor keep PrefaultWritten's zeros off records
	// (zeroing protocol, writeZeros): zeroFloor is the global offset below
	// which it never writes again (it only rises, under zeroMu); Commit
	// writes under zeroMu when its bytes end past it.
	zeroMu    sync.Mutex
	zeroFloor atomic.Int64
}

// CreateAhead creates the next segment (allocated, mapped, directory
// synced) before the roll needs it, once WrotePosition()+ahead passes the
// newest segment's end, for the roll to take; it returns the offset it
// reached. An ASYNC_FLUSH broker uses it. A failure to create the segment
// is not an error of the log: the roll creates it itself and meets the
// error there (ENOSPC handling stays with the roll and Probe). It does
// nothing while the log is read-only (disk full or failed).
//
// One goroutine at a time (calls serialize with PrefaultWritten's),
// concurrent with the writer; call after Recover.
//
// Why not fault the pages in ahead as well (MADV_POPULATE_WRITE, the way
// before): Commit writes with pwrite, which fills page-cache pages without
// mapping them, so the writer takes no page fault there to save; faulting
// pages in ahead would only map them writable and zero-fill them, and the
// write-back would then write-protect every one again (page_mkclean,
// TLB-shootdown IPIs).
// Measured in the broker (GOMAXPROCS=2, 15 s runs, CPU-µs per message,
// old tree = stores into prefaulted pages against pwrite with CreateAhead):
// batch 64x128 B 1.47/1.72 against 1.32/1.17, 32x1 KiB 6.23/5.86 against
// 5.80/5.24; with the populate instead of CreateAhead the pwrite broker was
// at 1.57/1.78 and 5.07/5.80.
func (l *CommitLog) CreateAhead(ahead int64) (int64, error) {
	return l.impl.prefault(ahead, createOnly)
}

// PrefaultWritten is CreateAhead that also writes zeros with pwrite over
// the pages from the write position up to WrotePosition()+ahead that an
// earlier call has not (no byte changes: the file reads zeros there) and
// writes them back to disk durably, chunk by chunk, so that the file's
// blocks there are written rather than allocated-but-unwritten when the
// records land. It never writes over a committed record (zeroing protocol,
// writeZeros). A file without vfs.WriteBacker (sim/faultfs) only gets the
// next segment created ahead: there is no block conversion to save there.
//
// Why: a segment is fallocated, which leaves its blocks unwritten on ext4;
// the first write-back into an unwritten block converts it, a metadata
// change, so every msync of new records also writes the extent tree and
// the inode (no journal) or commits the journal. Measured here (ext4 without
// journal, 40 KiB groups, msync p50): 560–690 µs into fallocated blocks,
// 330–450 µs into blocks written before; pwrite+fdatasync 420–580 µs versus
// 200–290 µs. It costs a second write of the log's bytes (the zeros) and one
// fdatasync per writeBackChunk, off the writer and the syncer, so only a
// SYNC_FLUSH broker, which pays the conversion on every acknowledged flush,
// uses it; an ASYNC_FLUSH broker flushes megabytes at a time and pays it
// once per flush. Java's warmMappedFile writes zeros over a whole new file
// the same way (for SYNC_FLUSH, forcing every few pages); here only the
// prefaulted distance ahead is written, so the extra dirty data stays
// bounded and the blocks stay allocated (ENOSPC still shows at creation).
//
// The write-back goes through a descriptor opened for it (vfs.WriteBacker),
// whose error does not consume the log's own: Linux reports a file's
// write-back error to each open file at its next sync, so it is only logged
// here, and the log's next Flush meets it and fails the log (sticky) there.
func (l *CommitLog) PrefaultWritten(ahead int64) (int64, error) {
	return l.impl.prefault(ahead, writeBack)
}

// prefaultMode is what prefault does to the pages ahead.
type prefaultMode int

const (
	createOnly prefaultMode = iota // nothing (CreateAhead)
	writeBack                      // write zeros and write back (PrefaultWritten)
)

func (l *commitLog) prefault(ahead int64, mode prefaultMode) (int64, error) {
	pf := &l.pre
	pf.mu.Lock()
	defer pf.mu.Unlock()
	if l.closed.Load() {
		return pf.to, ErrClosed
	}
	if l.stickyErr() != nil || l.full.Load() != nil {
		return pf.to, nil
	}
	for retried := false; ; retried = true {
		pos := l.wrote.Load()
		to := pos + ahead
		from := max(pos, pf.to)
		if from >= to {
			return pf.to, nil
		}
		last := l.segs.last()
		if last != nil && from < last.end {
			if err := l.prefaultRange(last, from, min(to, last.end), mode); err != nil {
				return pf.to, err
			}
			from = last.end
		}
		if from < to {
			start := pos // an empty log starts at the write position
			if last != nil {
				start = last.end
			}
			next := l.createNext(start)
			if next == nil {
				pf.to = from
				// The writer rolled (or created the first segment)
				// meanwhile: once more from its new segment, rather
				// than leaving it to the next request, 16 MiB later.
				if !retried && l.segs.last() != last {
					continue
				}
				return pf.to, nil
			}
			if err := l.prefaultRange(next, start, min(to, next.end), mode); err != nil {
				return pf.to, err
			}
		}
		pf.to = to
		return pf.to, nil
	}
}

// writeBackChunk is how much PrefaultWritten writes back per fdatasync:
// small enough that a SYNC_FLUSH msync queued behind it on the device waits
// a few milliseconds at most, large enough that the extra fdatasyncs stay
// few (16 per 16 MiB of log).
const writeBackChunk = 1 << 20

// prefaultRange writes zeros over the pages of s that hold global offsets
// [from, to) and writes them back chunk by chunk (PrefaultWritten),
// starting at the first page boundary at or after from (the page holding
// from, if from is inside it, was already written by the writer). With
// createOnly, or a file without vfs.WriteBacker, it does nothing. Rejected
// for files without it: zeros and a Sync, which would only add writes (and
// injected faults) in sim, where nothing converts blocks.
func (l *commitLog) prefaultRange(s *segment, from, to int64, mode prefaultMode) error {
	if _, ok := s.file.(vfs.WriteBacker); !ok || mode == createOnly {
		return nil
	}
	page := int64(os.Getpagesize())
	lo := (from - s.start + page - 1) / page * page
	hi := to - s.start
	if lo >= hi {
		return nil
	}
	if !s.acquire() {
		return nil // deleted meanwhile: nothing to write
	}
	defer s.release()
	// A descriptor of its own for the write-back (see PrefaultWritten).
	f, err := l.cfg.FS.OpenFile(s.path, os.O_RDWR, 0)
	if err != nil {
		return l.prefaultFailed(fmt.Errorf("commitlog: open %s to write back: %w", s.path, err))
	}
	defer f.Close()
	wb, ok := f.(vfs.WriteBacker)
	if !ok {
		return nil
	}
	// Chunk by chunk: zeroing all first would leave the whole range dirty
	// for the first chunk's fdatasync to write at once.
	for off := lo; off < hi; off += writeBackChunk {
		n := min(writeBackChunk, hi-off)
		// With pwrite, not through the mapping: Commit writes with pwrite
		// too, so nothing maps these pages, and the write-back has none
		// to write-protect. Rejected: MADV_POPULATE_WRITE then write-back
		// (the way before): the populate maps every page writable and the
		// write-back's page_mkclean unmaps it again, TLB-shootdown IPIs
		// included; measured in SYNC_FLUSH perf profiles after Commit
		// moved to pwrite, ~10% of broker CPU for pages the writer never
		// touches through the mapping.
		if err := l.writeZeros(s, f, off, n); err != nil {
			return l.prefaultFailed(fmt.Errorf("commitlog: write zeros %s [%d, %d): %w", s.path, off, off+n, err))
		}
		if err := wb.WriteBack(off, n); err != nil {
			return l.prefaultFailed(fmt.Errorf("commitlog: write back %s [%d, %d): %w", s.path, off, off+n, err))
		}
	}
	return nil
}

// zeroStep is how much writeZeros writes per hold of zeroMu: a Commit
// that meets the prefaulter at its position waits for at most one such
// pwrite (tens of µs), never for a write-back.
const zeroStep = 64 << 10

// zeros is what writeZeros writes from; never written to.
var zeros [zeroStep]byte

// writeZeros writes zeros with f over the bytes of s at segment offsets
// [off, off+n) that no record holds or will hold: the file reads zeros
// there already (fallocated blocks), so the write changes no byte, only
// makes the page-cache pages dirty for the write-back to convert the
// blocks.
//
// Zeroing protocol (with Commit, append.go): holding zeroMu, it writes
// from max(zeroFloor, WrotePosition) on, zeroStep at a time, and raises
// zeroFloor past what it wrote before releasing zeroMu. Commit writes and
// publishes WrotePosition under zeroMu when its bytes end past the floor it
// reads; below the floor it needs no lock, as writeZeros never goes there
// again. So a zero never lands on a committed byte, and a Commit never
// lands under a pwrite of zeros that started before it. Rejected: checking
// WrotePosition alone without the lock (a Commit can start right after
// the check and be overwritten by the zeros written next).
func (l *commitLog) writeZeros(s *segment, f vfs.File, off, n int64) error {
	pf := &l.pre
	for lo, hi := s.start+off, s.start+off+n; lo < hi; lo += zeroStep {
		end := min(lo+zeroStep, hi)
		pf.zeroMu.Lock()
		if err := l.stickyErr(); err != nil {
			pf.zeroMu.Unlock()
			return err
		}
		from := max(lo, pf.zeroFloor.Load(), l.wrote.Load())
		var err error
		if from < end {
			_, err = f.WriteAt(zeros[:end-from], from-s.start)
		}
		if end > pf.zeroFloor.Load() {
			pf.zeroFloor.Store(end)
		}
		pf.zeroMu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// prefaultFailed logs a failed PrefaultWritten (the first at Warn) and
// returns err.
func (l *commitLog) prefaultFailed(err error) error {
	ev := l.log.Debug()
	if !l.pre.failedLogged.Swap(true) {
		ev = l.log.Warn()
	}
	ev.Err(err).Msg("prefault failed; flushes convert unwritten blocks themselves")
	return err
}

// createNext returns the segment starting at start, created ahead of the
// roll (see CreateAhead), or nil if it could not be created or the newest
// segment no longer ends there.
func (l *commitLog) createNext(start int64) *segment {
	pf := &l.pre
	pf.nextMu.Lock()
	defer pf.nextMu.Unlock()
	if pf.next != nil {
		return pf.next
	}
	if last := l.segs.last(); (last != nil && last.end != start) || start%l.cfg.FileSize != 0 || l.closed.Load() {
		return nil // the writer rolled meanwhile: the next call sees it
	}
	s, err := createSegment(l.cfg.FS, l.cfg.Dir, start, l.cfg.FileSize, &l.log)
	if err != nil {
		l.log.Debug().Err(err).Int64("start", start).Msg("next segment not created ahead; the roll will try")
		return nil
	}
	pf.next = s
	l.log.Info().Str("segment", s.path).Msg("next commitlog segment created ahead of the roll")
	return s
}

// takeNextLocked returns the segment created ahead for start and forgets
// it, or nil. Writer only (roll); REQUIRES: l.pre.nextMu.
func (l *commitLog) takeNextLocked(start int64) (*segment, error) {
	s := l.pre.next
	if s == nil {
		return nil, nil
	}
	l.pre.next = nil
	if s.start != start {
		// createNext only makes the segment at the newest one's end, and
		// the writer rolls only there: a mismatch is a broken invariant.
		s.release()
		return nil, fmt.Errorf("%w: segment created ahead starts at %d, roll at %d", ErrCorrupt, s.start, start)
	}
	return s, nil
}

// dropNext unmaps the segment created ahead, if any, and removes its file
// (all zeros; a crash before this leaves it for recovery, which deletes
// segments past the end of the log). Close only, after setting closed.
func (l *commitLog) dropNext() error {
	l.pre.mu.Lock() // wait for a CreateAhead/PrefaultWritten under way
	defer l.pre.mu.Unlock()
	l.pre.nextMu.Lock()
	defer l.pre.nextMu.Unlock()
	s := l.pre.next
	if s == nil {
		return nil
	}
	l.pre.next = nil
	err := s.release()
	if rmErr := l.cfg.FS.Remove(s.path); rmErr != nil {
		err = errors.Join(err, fmt.Errorf("commitlog: remove unused segment %s: %w", s.path, rmErr))
	}
	return err
}
