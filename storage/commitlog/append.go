package commitlog

import (
	"encoding/binary"
	"fmt"

	"github.com/actormq/actormq/internal/crashpoint"
	"github.com/actormq/actormq/storage/vfs"
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

// checkFraming checks a record before it reaches the disk: a wrong
// TOTALSIZE would desynchronize every reader after it.
func checkFraming(rec []byte) error {
	n := len(rec)
	if n < recordLenMin || int(binary.BigEndian.Uint32(rec)) != n {
		return fmt.Errorf("%w: %d bytes, TOTALSIZE field disagrees or too short", ErrInvalidRecord, n)
	}
	if magic := int32(binary.BigEndian.Uint32(rec[4:])); magic != message.MagicV1 && magic != message.MagicV2 {
		return fmt.Errorf("%w: magic %#x", ErrInvalidRecord, uint32(magic))
	}
	return nil
}

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
	if err := checkFraming(rec); err != nil {
		return 0, err
	}
	n := int64(len(rec))
	if n+fillerLen > l.cfg.FileSize {
		return 0, fmt.Errorf("%w: %d bytes, FileSize %d", ErrRecordTooLarge, n, l.cfg.FileSize)
	}

	pos := l.wrote.Load() + l.stage.n
	seg := l.segs.last()
	if seg == nil || pos >= seg.end {
		if err := l.commit(pos); err != nil {
			return 0, err
		}
		var err error
		if seg, err = l.roll(pos); err != nil {
			return 0, err
		}
	}
	if left := seg.end - pos; n+fillerLen > left {
		if left >= fillerLen {
			// The commit right below writes it before the array is reused.
			f := &l.stage.filler
			binary.BigEndian.PutUint32(f[:], uint32(left))
			binary.BigEndian.PutUint32(f[4:], blankMagicBits)
			l.stageRecord(seg, pos, f[:])
		}
		// else: only a foreign writer leaves < 8 bytes; readers treat such a
		// tail as the end of the segment, as they treat the filler.
		//
		// The segment is closed whether or not the next one can be created:
		// publishing its end now leaves one state to resume from after a
		// roll that failed for lack of space (Probe rolls at the write
		// position).
		pos = seg.end
		if err := l.commit(pos); err != nil {
			return 0, err
		}
		var err error
		if seg, err = l.roll(pos); err != nil {
			return 0, err
		}
	}

	message.PatchStored(rec, queueOffset, pos, storeTimestamp)
	l.stageRecord(seg, pos, rec)
	if l.stage.n >= stageMax {
		if err := l.commit(pos + n); err != nil {
			return 0, err
		}
	}
	return pos, nil
}

// appendRun stages the whole records at the start of recs, back to back,
// with consecutive queue offsets from queueOffset (CommitLog.StageRun). The
// first goes through append (state checks, roll, filler); the ones after it
// are only checked, patched and staged together while they pass append's
// record checks and fit the first one's segment, so that a batch message
// pays the per-call work once, not once per record. It returns the first
// record's position and the bytes staged: at least the first record's, or
// an error.
func (l *commitLog) appendRun(recs []byte, queueOffset, storeTimestamp int64) (int64, int, error) {
	if len(recs) < 4 {
		return 0, 0, fmt.Errorf("%w: %d bytes, shorter than a TOTALSIZE", ErrInvalidRecord, len(recs))
	}
	first := min(int(binary.BigEndian.Uint32(recs)), len(recs))
	pos, err := l.append(recs[:first], queueOffset, storeTimestamp)
	if err != nil {
		return pos, 0, err
	}
	seg := l.segs.last() // append left pos in the newest segment
	end, rest := pos+int64(first), recs[first:]
	for len(rest) >= recordLenMin {
		n := int64(binary.BigEndian.Uint32(rest))
		if n > int64(len(rest)) || checkFraming(rest[:n]) != nil || end+n+fillerLen > seg.end {
			break // the next call stages it through append, or refuses it
		}
		queueOffset++
		message.PatchStored(rest[:n], queueOffset, end, storeTimestamp)
		end += n
		rest = rest[n:]
	}
	staged := len(recs) - len(rest)
	if staged > first {
		// No commit here past stageMax, as append makes: the first record
		// may already be written by append's, and a failed commit now
		// would lose the run while the caller counts none of it stored.
		// The next StageRun or Commit writes it: stageMax is exceeded by at
		// most one batch message.
		l.stageRecord(seg, pos+int64(first), recs[first:staged])
	}
	return pos, staged, nil
}

// stageMax bounds the staged bytes: StageRun commits once this much is staged.
const stageMax = 1 << 20

// stageState holds the records appended but not yet written to their
// segment file. Writer only. The records stay in the caller's buffers,
// patched there (StageRun), and Commit writes them with pwritev: the writer's
// Batch buffers hold a group's records back to back, so a group is one
// pwritev of a few buffers. Rejected: copying each record into a buffer
// of the log's own and writing that with pwrite (the way before): the
// copy was 4% of broker CPU in 32x1 KiB batched sends (perf), all of it on
// the writer, whose group loop is the one serial step of the send path.
type stageState struct {
	recs   [][]byte // staged records in order; adjacent ones merged into one slice
	n      int64    // bytes staged
	seg    *segment // the segment recs go to
	at     int64    // global offset of the first staged byte
	filler [fillerLen]byte
	joined []byte // the records joined, for Files without vfs.VectorWriter
}

// stageRecord stages rec, to be written at pos in seg (pos is where the
// staged bytes end, or the start of a new stage).
func (l *commitLog) stageRecord(seg *segment, pos int64, rec []byte) {
	st := &l.stage
	if st.n == 0 {
		st.seg, st.at = seg, pos
	}
	st.n += int64(len(rec))
	if k := len(st.recs) - 1; k >= 0 {
		last := st.recs[k]
		// rec starts right where last ends, inside last's capacity: the
		// same buffer, one slice.
		if cap(last)-len(last) >= len(rec) && &last[:len(last)+1][len(last)] == &rec[0] {
			st.recs[k] = last[:len(last)+len(rec)]
			return
		}
	}
	st.recs = append(st.recs, rec)
}

// writeStaged writes the staged records to their segment file at once.
func (l *commitLog) writeStaged() error {
	st := &l.stage
	s, off := st.seg, st.at-st.seg.start
	if vw, ok := s.file.(vfs.VectorWriter); ok {
		_, err := vw.WriteVAt(st.recs, off)
		return err
	}
	st.joined = st.joined[:0]
	for _, r := range st.recs {
		st.joined = append(st.joined, r...)
	}
	_, err := s.file.WriteAt(st.joined, off)
	return err
}

// commit writes the staged bytes to their segment file and then publishes
// the write position end (at least the end of the staged bytes). Writer
// only.
func (l *commitLog) commit(end int64) error {
	st := &l.stage
	if st.n > 0 && l.pre.zeroFloor.Load() < st.at+st.n {
		// PrefaultWritten may still write zeros there: write and publish
		// under its lock (zeroing protocol, prefault.go writeZeros).
		l.pre.zeroMu.Lock()
		defer l.pre.zeroMu.Unlock()
	}
	if st.n > 0 {
		err := l.writeStaged()
		at, n := st.at, st.n
		clear(st.recs) // the callers' buffers are theirs again
		st.recs, st.n, st.seg = st.recs[:0], 0, nil
		if err != nil {
			return l.fail(fmt.Errorf("commitlog: write %d bytes at %d: %w", n, at, err))
		}
		end = max(end, at+n)
	}
	// Publishing after the bytes is what lets readers on other goroutines
	// trust everything below WrotePosition.
	if end > l.wrote.Load() {
		l.wrote.Store(end)
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
	// CreateAhead or PrefaultWritten usually created the segment already (off the writer); the
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
