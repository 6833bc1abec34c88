package commitlog

import (
	"encoding/binary"
	"fmt"

	"github.com/actormq/actormq/internal/crashpoint"
	"github.com/actormq/actormq/wire/message"
)

const (
	// fillerLen is the blank filler that closes a segment; every segment
	// keeps room for it after its last record.
	fillerLen = 8
	// recordLenMin is the smallest record (V1, IPv4 hosts, empty body, topic
	// and properties); it also covers every field PatchStored writes.
	recordLenMin = message.RecordBytesMin
	// blankMagicBits is message.MagicBlank as the unsigned word on disk.
	blankMagicBits uint32 = 0xCBD43194
)

func (l *commitLog) append(rec []byte, queueOffset, storeTimestamp int64) (int64, error) {
	if err := l.stickyErr(); err != nil {
		return 0, err
	}
	if l.closed.Load() {
		return 0, ErrClosed
	}
	if p := l.full.Load(); p != nil {
		return 0, *p // no retry per record: Probe, on a timer, retries
	}
	if !l.recovered {
		return 0, fmt.Errorf("%w: Recover has not run", ErrNotWritable)
	}
	// Check the record before it reaches the disk: a wrong TOTALSIZE would
	// desynchronize every reader after it.
	n := int64(len(rec))
	if n < recordLenMin || int64(binary.BigEndian.Uint32(rec)) != n {
		return 0, fmt.Errorf("%w: %d bytes, TOTALSIZE field disagrees or too short", ErrInvalidRecord, n)
	}
	if magic := int32(binary.BigEndian.Uint32(rec[4:])); magic != message.MagicV1 && magic != message.MagicV2 {
		return 0, fmt.Errorf("%w: magic %#x", ErrInvalidRecord, uint32(magic))
	}
	if n+fillerLen > l.cfg.FileSize {
		return 0, fmt.Errorf("%w: %d bytes, FileSize %d", ErrRecordTooLarge, n, l.cfg.FileSize)
	}

	pos := l.wrote.Load()
	seg := l.segs.last()
	if seg == nil || pos >= seg.end {
		var err error
		if seg, err = l.roll(pos); err != nil {
			return 0, err
		}
	}
	if left := seg.end - pos; n+fillerLen > left {
		if left >= fillerLen {
			if err := l.writeFiller(seg, pos, left); err != nil {
				return 0, err
			}
		}
		// else: only a foreign writer leaves < 8 bytes; readers treat such a
		// tail as the end of the segment, as they treat the filler.
		//
		// The segment is closed whether or not the next one can be created:
		// publishing its end now leaves one state to resume from after a
		// roll that failed for lack of space (Probe rolls at the write
		// position).
		pos = seg.end
		l.wrote.Store(pos)
		var err error
		if seg, err = l.roll(pos); err != nil {
			return 0, err
		}
	}

	p := pos - seg.start
	dst := seg.buf[p : p+n]
	if err := guardFault(func() {
		copy(dst, rec)
		message.PatchStored(dst, queueOffset, pos, storeTimestamp)
	}); err != nil {
		return 0, l.fail(fmt.Errorf("commitlog: write at %d: %w", pos, err))
	}
	// Publishing after the bytes is what lets readers on other goroutines
	// trust everything below WrotePosition.
	l.wrote.Store(pos + n)
	return pos, nil
}

// writeFiller closes seg at pos with the blank filler. Writer only.
func (l *commitLog) writeFiller(seg *segment, pos, left int64) error {
	b := seg.buf[pos-seg.start:]
	if err := guardFault(func() {
		binary.BigEndian.PutUint32(b, uint32(left))
		binary.BigEndian.PutUint32(b[4:], blankMagicBits)
	}); err != nil {
		return l.fail(fmt.Errorf("commitlog: write filler at %d: %w", pos, err))
	}
	return nil
}

// roll creates the segment starting at start and makes it the newest.
// Writer only. Lack of space makes the log read-only until Probe succeeds
// (growFailed); any other failure is sticky.
func (l *commitLog) roll(start int64) (*segment, error) {
	if start%l.cfg.FileSize != 0 {
		return nil, l.fail(fmt.Errorf("%w: roll at %d, not a segment start", ErrCorrupt, start))
	}
	// Prefault usually created the segment already (off the writer); the
	// lock keeps it from creating the same file while the roll does.
	l.pre.nextMu.Lock()
	defer l.pre.nextMu.Unlock()
	s, err := l.takeNextLocked(start)
	if err != nil {
		return nil, l.fail(err)
	}
	if s == nil {
		if s, err = createSegment(l.cfg.FS, l.cfg.Dir, start, l.cfg.FileSize, &l.log); err != nil {
			return nil, l.growFailed(err)
		}
	}
	if err := l.segs.push(s); err != nil {
		s.release()
		return nil, l.fail(err)
	}
	crashpoint.Hit(crashpoint.CommitLogMidRoll)
	l.log.Info().Str("segment", s.path).Msg("new commitlog segment")
	return s, nil
}

func (l *commitLog) flush() (int64, error) {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	from := l.flushed.Load()
	if err := l.stickyErr(); err != nil {
		return from, err
	}
	to := l.wrote.Load()
	if to <= from {
		return from, nil
	}
	for _, s := range l.segs.load() {
		if s.end <= from {
			continue
		}
		if s.start >= to {
			break
		}
		if !s.acquire() {
			continue // deleted by the cleaner: nothing left to make durable
		}
		lo := max(from, s.start) - s.start
		hi := min(to, s.end) - s.start
		err := s.mapping.Sync(int(lo), int(hi-lo))
		s.release()
		if err != nil {
			return from, l.fail(fmt.Errorf("commitlog: msync %s [%d,%d): %w", s.path, lo, hi, err))
		}
	}
	l.flushed.Store(to)
	return to, nil
}
