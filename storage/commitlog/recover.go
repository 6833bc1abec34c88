package commitlog

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/actormq/actormq/storage/vfs"
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
//  5. abnormal: msync what was walked, [start of the first segment,
//     processOffset), and sync the directory (syncRecovered);
//  6. set the write and flushed positions to processOffset.
//
// A failing delete, directory sync or msync fails Recover (and makes the
// log not writable): appends must never go on top of a tail that is not
// durable.
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
	if abnormal {
		if err := l.syncRecovered(segs[first].start, processOffset); err != nil {
			return 0, err
		}
	}
	l.setPositions(processOffset)
	// A segment written by an older version, or left sparse by a crash,
	// gets its blocks before appends store into it. Without space the log
	// starts read-only (Probe retries); it still serves reads.
	if last := l.segs.last(); last != nil && processOffset < last.end {
		if err := l.allocate(last); err != nil && !errors.Is(err, ErrDiskFull) {
			return 0, err
		}
	}
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
// is valid and stored at or before minTimestamp (so everything after the
// checkpoint gets re-validated and re-dispatched), or 0.
func abnormalStart(segs []*segment, minTimestamp int64) int {
	for i := len(segs) - 1; i >= 0; i-- {
		if _, err := checkRecord(segs[i].buf, segs[i].start, false); err != nil {
			continue
		}
		if ts := message.RecordStoreTimestamp(segs[i].buf); ts != 0 && ts <= minTimestamp {
			return i
		}
	}
	return 0
}

// lastValidOffset walks records from segs[first] and returns the end of the
// last valid one. A blank filler moves to the next segment; TOTALSIZE 0 or
// a record checkRecord refuses (framing, lengths, PHYSICALOFFSET, a torn
// topic or properties, BODYCRC when configured) ends the walk.
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
			n, err := checkRecord(s.buf[p:], s.start+p, l.cfg.CheckCRCOnRecover)
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
	if err := guardFault(func() { lo, hi = vfs.ZeroTail(last.file, last.buf, int(offset-last.start)) }); err != nil {
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

// syncRecovered msyncs [from, to) of the log, the records an abnormal
// recovery walked and keeps. A crash of the process (kill -9, or a failed
// msync that stopped the broker) leaves the records it had not synced in
// the page cache, where recovery reads them back as valid; without this,
// appends after them were synced and acknowledged while they were not, a
// power cut turned them into a hole, and the next recovery ended the log at
// the hole and deleted every later segment, acknowledged records included.
// from is where the checkpoint says everything before is durable. The
// directory is synced too: the entry of a segment created just before the
// crash may not be durable (its creation's directory sync failed), and
// appends may go on in it.
//
// It msyncs rather than rewrites: pages the kernel still holds dirty are
// written, clean ones cost nothing, so a range of gigabytes (a checkpoint
// that never advanced) costs what is actually unwritten. The rejected
// alternative, rewriting every byte of the range first, would also cover a
// page whose writeback failed with EIO before (Linux keeps such a page
// clean and never writes it again), but costs a full write of everything
// since the checkpoint at each restart.
func (l *commitLog) syncRecovered(from, to int64) error {
	synced := int64(0)
	for _, s := range l.segs.load() {
		lo, hi := max(from, s.start), min(to, s.end)
		if lo >= hi {
			continue
		}
		if err := s.mapping.Sync(int(lo-s.start), int(hi-lo)); err != nil {
			return l.fail(fmt.Errorf("commitlog: msync recovered records [%d, %d) of %s: %w", lo, hi, s.path, err))
		}
		synced += hi - lo
	}
	if err := l.cfg.FS.SyncDir(l.cfg.Dir); err != nil {
		return l.fail(fmt.Errorf("commitlog: sync dir: %w", err))
	}
	l.log.Info().Int64("from", from).Int64("to", to).Int64("bytes", synced).Msg("recovery: recovered records synced")
	return nil
}
