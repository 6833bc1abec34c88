package commitlog

import (
	"encoding/binary"
	"fmt"

	"github.com/actormq/actormq/wire/message"
)

// normalRecoverySegments is how many newest segments a normal recovery
// re-validates: a clean stop flushed everything, so only the tail can be
// torn, and three segments cover a tail that rolled over during shutdown.
const normalRecoverySegments = 3

// recover implements Recover (storage-format.md §7.3):
//  1. pick the segment to start from (normal: third-last; abnormal: newest
//     whose first record is older than minTimestamp, else the first);
//  2. walk records forward until the first invalid one or TOTALSIZE 0;
//     processOffset is the end of the last valid record;
//  3. delete segments that start after processOffset (newest first, so a
//     crash midway still leaves a contiguous run);
//  4. zero the newest segment after processOffset and msync that, so stale
//     bytes behind the new tail can never be read back as records after the
//     next crash (they would even carry a matching PHYSICALOFFSET);
//  5. set the write and flushed positions to processOffset.
func (l *commitLog) recover(abnormal bool, minTimestamp int64) (int64, error) {
	if l.closed.Load() {
		return 0, ErrClosed
	}
	if err := l.stickyErr(); err != nil {
		return 0, err
	}
	segs := l.segs.load()
	if len(segs) == 0 {
		l.setPositions(0)
		return 0, nil
	}
	first := max(len(segs)-normalRecoverySegments, 0)
	if abnormal {
		first = abnormalStart(segs, minTimestamp)
	}
	processOffset := l.lastValidOffset(segs, first)
	if err := l.truncateAfter(processOffset); err != nil {
		return 0, err
	}
	l.setPositions(processOffset)
	l.recoveredFrom = segs[first].start
	l.log.Info().Bool("abnormal", abnormal).Int64("fromSegment", segs[first].start).
		Int64("processOffset", processOffset).Msg("commitlog recovered")
	return processOffset, nil
}

func (l *commitLog) setPositions(offset int64) {
	l.wrote.Store(offset)
	l.flushed.Store(offset)
	l.recovered = true
}

// abnormalStart returns the index of the newest segment whose first record
// is a V1/V2 record stored at or before minTimestamp (so everything after
// the checkpoint gets re-validated and re-dispatched), or 0.
func abnormalStart(segs []*segment, minTimestamp int64) int {
	for i := len(segs) - 1; i >= 0; i-- {
		m, _, err := message.DecodeRecord(segs[i].buf, false)
		if err != nil {
			continue
		}
		if m.StoreTimestamp != 0 && m.StoreTimestamp <= minTimestamp {
			return i
		}
	}
	return 0
}

// lastValidOffset walks records from segs[first] and returns the end of the
// last valid one. A blank filler moves to the next segment; TOTALSIZE 0, a
// record that fails DecodeRecord (size, magic, field lengths, CRC when
// configured) or whose PHYSICALOFFSET is not its own offset ends the walk.
func (l *commitLog) lastValidOffset(segs []*segment, first int) int64 {
	for i := first; i < len(segs); i++ {
		s := segs[i]
		size := s.end - s.start
		p := int64(0)
		for {
			if size-p < fillerLen {
				break // foreign writer filled the segment exactly: next one
			}
			total := int64(int32(binary.BigEndian.Uint32(s.buf[p:])))
			magic := int32(binary.BigEndian.Uint32(s.buf[p+4:]))
			if total == 0 {
				return s.start + p
			}
			if magic == message.MagicBlank {
				if total != size-p {
					l.log.Warn().Int64("offset", s.start+p).Int64("bytesLeft", total).
						Msg("recovery: filler length does not reach the segment end")
					return s.start + p
				}
				break
			}
			m, n, err := message.DecodeRecord(s.buf[p:], l.cfg.CheckCRCOnRecover)
			if err == nil && m.PhysicalOffset != s.start+p {
				err = fmt.Errorf("PHYSICALOFFSET %d", m.PhysicalOffset)
			}
			if err != nil {
				l.log.Warn().Err(err).Int64("offset", s.start+p).Msg("recovery: invalid record ends the log")
				return s.start + p
			}
			p += int64(n)
		}
		if i == len(segs)-1 {
			return s.start + p // filler in the newest segment: append rewrites it
		}
	}
	return segs[len(segs)-1].end // unreachable: the loop returns on the last segment
}

// truncateAfter deletes the segments starting after offset and zeroes the
// newest remaining one from offset on. Writer only (before Append runs).
func (l *commitLog) truncateAfter(offset int64) error {
	l.segs.mu.Lock()
	defer l.segs.mu.Unlock()
	segs := l.segs.load()
	keep := len(segs)
	for keep > 1 && segs[keep-1].start > offset {
		keep--
	}
	for i := len(segs) - 1; i >= keep; i-- {
		s := segs[i]
		if err := l.cfg.FS.Remove(s.path); err != nil {
			return l.fail(fmt.Errorf("commitlog: remove segment after the recovered end: %w", err))
		}
		// One directory sync per removal keeps the deletions ordered.
		if err := l.cfg.FS.SyncDir(l.cfg.Dir); err != nil {
			return l.fail(fmt.Errorf("commitlog: sync dir: %w", err))
		}
		l.segs.publishLocked(segs[:i])
		l.log.Info().Str("segment", s.path).Msg("recovery: deleted segment after the log end")
		s.release()
	}
	last := segs[keep-1]
	var lo, hi int
	if err := guardFault(func() { lo, hi = last.zeroFrom(int(offset - last.start)) }); err != nil {
		return l.fail(fmt.Errorf("commitlog: zero tail of %s: %w", last.path, err))
	}
	if lo < hi {
		l.log.Info().Str("segment", last.path).Int("bytes", hi-lo).Msg("recovery: zeroed stale tail")
		if err := last.mapping.Sync(lo, hi-lo); err != nil {
			return l.fail(fmt.Errorf("commitlog: msync zeroed tail of %s: %w", last.path, err))
		}
	}
	return nil
}
