package commitlog

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/actormq/actormq/storage/vfs"
)

// prefaultState is what Prefault keeps between calls.
//
// Why: a store into a page of a fresh segment that was never touched takes
// a page fault that zero-fills the page (fallocated blocks are unwritten,
// so reading them is a memset) and runs ext4's page_mkwrite, on the writer
// actor, for every 4 KiB it writes: measured at 41% of broker CPU under
// batched sends. Prefault does that work on another goroutine before the
// writer gets there. Java warms the whole file with zeros at creation
// (warmMapedFileEnable, off by default) and pre-creates the next file
// (AllocateMappedFileService); pre-faulting a bounded distance ahead keeps
// the dirty zero pages few.
type prefaultState struct {
	// mu makes Prefault one call at a time and lets close wait for the
	// call under way before it drops next.
	mu sync.Mutex
	to int64 // mu: pages below this global offset were prefaulted

	// nextMu serializes creating the next segment (Prefault) with taking
	// it (roll, on the writer), so the file is never created twice.
	nextMu sync.Mutex
	// next is the segment starting where the newest one ends, created
	// ahead of the roll; nil until then. nextMu.
	next *segment
	// failedLogged: the first Prefault failure is logged at Warn, later
	// ones at Debug.
	failedLogged atomic.Bool
}

// Prefault faults in, for writing, the pages from the write position up to
// WrotePosition()+ahead that an earlier call has not, so that Append's
// stores there take no page fault; when that range passes the end of the
// newest segment it also creates the next segment (allocated, mapped,
// directory synced) for the roll to take, and prefaults its start. It
// returns the offset it prefaulted up to.
//
// It never writes a byte: it touches only pages at or past the write
// position (never one below, so nothing a reader trusts), asks the mapping
// to fault them in (vfs.Prefaulter; a no-op for mappings without it), and
// holds a reference on each segment it touches, so retention and Close
// never unmap under it. It does nothing while the log is read-only (disk
// full or failed): those pages may lack blocks. A failure to create the
// next segment is not an error of the log: the roll creates it itself and
// meets the error there (ENOSPC handling stays with the roll and Probe).
//
// One goroutine at a time (calls serialize), concurrent with Append; call
// after Recover.
func (l *CommitLog) Prefault(ahead int64) (int64, error) { return l.impl.prefault(ahead) }

func (l *commitLog) prefault(ahead int64) (int64, error) {
	pf := &l.pre
	pf.mu.Lock()
	defer pf.mu.Unlock()
	if l.closed.Load() {
		return pf.to, ErrClosed
	}
	if l.stickyErr() != nil || l.full.Load() != nil {
		return pf.to, nil
	}
	pos := l.wrote.Load()
	to := pos + ahead
	from := max(pos, pf.to)
	if from >= to {
		return pf.to, nil
	}
	last := l.segs.last()
	if last != nil && from < last.end {
		if err := l.prefaultRange(last, from, min(to, last.end)); err != nil {
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
			return pf.to, nil
		}
		if err := l.prefaultRange(next, start, min(to, next.end)); err != nil {
			return pf.to, err
		}
	}
	pf.to = to
	return pf.to, nil
}

// prefaultRange prefaults the pages of s that hold global offsets [from, to),
// starting at the first page boundary at or after from (the page holding
// from, if from is inside it, was already stored into by the writer).
func (l *commitLog) prefaultRange(s *segment, from, to int64) error {
	pf, ok := s.mapping.(vfs.Prefaulter)
	if !ok {
		return nil
	}
	page := int64(os.Getpagesize())
	lo := (from - s.start + page - 1) / page * page
	hi := to - s.start
	if lo >= hi {
		return nil
	}
	if !s.acquire() {
		return nil // deleted meanwhile: nothing to prefault
	}
	err := pf.Prefault(int(lo), int(hi-lo))
	s.release()
	if err != nil {
		err = fmt.Errorf("commitlog: prefault %s [%d, %d): %w", s.path, lo, hi, err)
		ev := l.log.Debug()
		if !l.pre.failedLogged.Swap(true) {
			ev = l.log.Warn()
		}
		ev.Err(err).Msg("prefault failed; appends fault pages in themselves")
	}
	return err
}

// createNext returns the segment starting at start, created ahead of the
// roll (see Prefault), or nil if it could not be created or the newest
// segment no longer ends there.
func (l *commitLog) createNext(start int64) *segment {
	pf := &l.pre
	pf.nextMu.Lock()
	defer pf.nextMu.Unlock()
	if pf.next != nil {
		return pf.next
	}
	if last := l.segs.last(); (last != nil && last.end != start) || start%l.cfg.FileSize != 0 || l.closed.Load() {
		return nil // the writer rolled meanwhile: the next Prefault sees it
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
	l.pre.mu.Lock() // wait for a Prefault under way
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
