package commitlog

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/actormq/actormq/storage/vfs"
)

// segmentQueue is the ordered, contiguous list of segments.
//
// Readers (Read, Scan, Flush, MinOffset) load an immutable snapshot without
// locking; the writer (rolling to a new segment) and the cleaner (deleting
// the oldest) serialize on mu and publish a fresh copy. A copy per change is
// cheap because changes happen once per segment, while reads happen per
// pulled message; an RWMutex would make every read pay for the lock word.
type segmentQueue struct {
	fileSize int64
	mu       sync.Mutex // serializes changes; readers never take it
	snap     atomic.Pointer[[]*segment]
}

// load returns the current snapshot (never modified in place).
func (q *segmentQueue) load() []*segment {
	if p := q.snap.Load(); p != nil {
		return *p
	}
	return nil
}

// last returns the newest segment or nil.
func (q *segmentQueue) last() *segment {
	segs := q.load()
	if len(segs) == 0 {
		return nil
	}
	return segs[len(segs)-1]
}

// find returns the segment of segs holding offset, or nil. Segments are
// contiguous, so this is arithmetic rather than a search.
func (q *segmentQueue) find(segs []*segment, offset int64) *segment {
	if len(segs) == 0 || offset < segs[0].start {
		return nil
	}
	i := (offset - segs[0].start) / q.fileSize
	if i >= int64(len(segs)) {
		return nil
	}
	return segs[i]
}

// publishLocked stores segs as the new snapshot. REQUIRES: q.mu.
func (q *segmentQueue) publishLocked(segs []*segment) {
	q.snap.Store(&segs)
}

// push appends s, which must start where the newest segment ends.
func (q *segmentQueue) push(s *segment) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	old := q.load()
	if n := len(old); n > 0 && old[n-1].end != s.start {
		return fmt.Errorf("%w: new segment at %d does not follow %d", ErrCorrupt, s.start, old[n-1].end)
	}
	segs := make([]*segment, len(old)+1)
	copy(segs, old)
	segs[len(old)] = s
	q.publishLocked(segs)
	return nil
}

// removeAll empties the queue and returns what it held; the caller drops the
// queue's references.
func (q *segmentQueue) removeAll() []*segment {
	q.mu.Lock()
	defer q.mu.Unlock()
	old := q.load()
	q.publishLocked(nil)
	return old
}

// loadSegments maps every segment file in the directory, oldest first.
func (l *commitLog) loadSegments() error {
	fs, dir := l.cfg.FS, l.cfg.Dir
	if err := vfs.MkdirAllSynced(fs, dir, 0o755); err != nil {
		return fmt.Errorf("commitlog: create dir: %w", err)
	}
	entries, err := fs.ReadDir(dir) // sorted by name = by start offset
	if err != nil {
		return fmt.Errorf("commitlog: read dir: %w", err)
	}
	type found struct {
		start int64
		path  string
	}
	var files []found
	for _, e := range entries {
		start, ok := parseSegmentName(e.Name())
		if e.IsDir() || !ok {
			l.log.Debug().Str("file", e.Name()).Msg("ignoring non-segment file")
			continue
		}
		if start%l.cfg.FileSize != 0 {
			return fmt.Errorf("%w: segment %s is not at a multiple of FileSize %d", ErrCorrupt, e.Name(), l.cfg.FileSize)
		}
		if n := len(files); n > 0 && files[n-1].start+l.cfg.FileSize != start {
			return fmt.Errorf("%w: gap between segments %s and %s", ErrCorrupt, segmentName(files[n-1].start), e.Name())
		}
		files = append(files, found{start, filepath.Join(dir, e.Name())})
	}
	if n := len(files); n > 0 {
		dropped, err := l.dropUnsized(files[n-1].path)
		if err != nil {
			return err
		}
		if dropped {
			files = files[:n-1]
		}
	}
	segs := make([]*segment, 0, len(files))
	for _, f := range files {
		s, err := openSegment(fs, f.path, f.start, l.cfg.FileSize, &l.log)
		if err != nil {
			for _, o := range segs {
				o.release()
			}
			return err
		}
		segs = append(segs, s)
	}
	l.segs.mu.Lock()
	l.segs.publishLocked(segs)
	l.segs.mu.Unlock()
	l.log.Debug().Int("segments", len(segs)).Msg("commitlog opened")
	return nil
}

// dropUnsized removes the newest segment file if it is shorter than
// FileSize and holds only zeros: what a crash during its creation leaves (a
// 0-byte file, or one a failed fallocate grew part of the way). Records are
// only written into a segment once it is allocated whole, so such a file
// holds no data; one that is short but not zero (FileSize changed between
// runs) is left for openSegment to reject.
func (l *commitLog) dropUnsized(path string) (bool, error) {
	fi, err := l.cfg.FS.Stat(path)
	if err != nil {
		return false, fmt.Errorf("commitlog: stat segment: %w", err)
	}
	if fi.Size() >= l.cfg.FileSize {
		return false, nil
	}
	if zero, err := l.allZero(path, fi.Size()); err != nil || !zero {
		return false, err
	}
	l.log.Warn().Str("segment", path).Int64("bytes", fi.Size()).Msg("removing a segment a crash left half created")
	if err := l.cfg.FS.Remove(path); err != nil {
		return false, fmt.Errorf("commitlog: remove half created segment: %w", err)
	}
	if err := l.cfg.FS.SyncDir(l.cfg.Dir); err != nil {
		return false, fmt.Errorf("commitlog: sync dir: %w", err)
	}
	return true, nil
}

// allZero reports whether the first size bytes of the file are zero.
func (l *commitLog) allZero(path string, size int64) (bool, error) {
	if size == 0 {
		return true, nil
	}
	f, err := l.cfg.FS.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return false, fmt.Errorf("commitlog: open segment: %w", err)
	}
	defer f.Close()
	buf := make([]byte, min(size, 1<<20))
	for off := int64(0); off < size; off += int64(len(buf)) {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
		if err != nil && !errors.Is(err, io.EOF) {
			return false, fmt.Errorf("commitlog: read segment: %w", err)
		}
		for _, b := range buf[:n] {
			if b != 0 {
				return false, nil
			}
		}
	}
	return true, nil
}
