package commitlog

import (
	"fmt"
	"time"
)

// DeleteExpiredFiles deletes up to maxFiles oldest segments last modified
// before expiredBefore (regardless of age when force), returning how many.
// It stops at the first segment that does not qualify, never deletes the
// newest segment, and returns 0 when maxFiles <= 0. MinOffset moves up to the
// start of the oldest remaining segment. A segment still held by a reader
// (Slice, Scan, Flush) is unmapped on that reader's Release, never under it.
// Any goroutine (the cleaner); it serializes with the writer's segment roll.
func (l *CommitLog) DeleteExpiredFiles(expiredBefore time.Time, force bool, maxFiles int) (int, error) {
	return l.impl.deleteExpired(expiredBefore, force, maxFiles)
}

func (l *commitLog) deleteExpired(expiredBefore time.Time, force bool, maxFiles int) (int, error) {
	if l.closed.Load() {
		return 0, ErrClosed
	}
	l.segs.mu.Lock()
	defer l.segs.mu.Unlock()
	deleted := 0
	var err error
	for deleted < maxFiles {
		segs := l.segs.load()
		if len(segs) <= 1 {
			break // the newest segment is the one being written
		}
		s := segs[0]
		if !force {
			mod, statErr := s.modTime()
			if statErr != nil {
				err = statErr
				break
			}
			if !mod.Before(expiredBefore) {
				break
			}
		}
		// Remove the file before unpublishing the segment: if the remove
		// fails, the log stays as it was. Each removal is made durable
		// before the next one, or a crash could persist a later unlink but
		// not an earlier one and leave a gap that Open rejects.
		if rmErr := l.cfg.FS.Remove(s.path); rmErr != nil {
			err = fmt.Errorf("commitlog: delete segment: %w", rmErr)
			break
		}
		l.segs.publishLocked(segs[1:])
		s.release() // a failure is logged there; the file is gone either way
		deleted++
		if syncErr := l.cfg.FS.SyncDir(l.cfg.Dir); syncErr != nil {
			err = fmt.Errorf("commitlog: sync dir after delete: %w", syncErr)
			break
		}
	}
	if deleted > 0 {
		l.log.Info().Int("deleted", deleted).Int64("minOffset", l.minOffset()).Bool("force", force).
			Msg("deleted expired commitlog segments")
	}
	return deleted, err
}
