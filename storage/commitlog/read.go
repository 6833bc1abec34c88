package commitlog

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/actormq/actormq/wire/message"
)

// Slice is a zero-copy view into a mapped segment. B stays valid until
// Release, which must be called exactly once (a second call would let the
// segment be unmapped under another reader). Slices may be released on any
// goroutine, e.g. in a network write callback.
type Slice struct {
	B   []byte
	seg *segment
}

// Release lets the segment be unmapped again.
func (s Slice) Release() {
	if s.seg != nil {
		s.seg.release()
	}
}

// Read returns size bytes at offset without copying. The range must lie
// below WrotePosition, at or above MinOffset and inside one segment (a record
// always does); otherwise the error wraps ErrOffsetNotFound. Any goroutine.
func (l *CommitLog) Read(offset int64, size int) (Slice, error) {
	return l.impl.read(offset, size)
}

// Scan calls fn for each record from offset (a record boundary) up to the
// write position as of the call, skipping end-of-segment fillers; it stops
// when fn returns false and returns the offset after the last record visited
// (including the one fn refused). rec aliases the mapping and is valid only
// during the call. Any goroutine; used for re-dispatch at startup.
func (l *CommitLog) Scan(from int64, fn func(offset int64, rec []byte) bool) (int64, error) {
	return l.impl.scan(from, fn)
}

func (l *commitLog) read(offset int64, size int) (Slice, error) {
	if l.closed.Load() {
		return Slice{}, ErrClosed
	}
	end := offset + int64(size)
	if size <= 0 || offset < 0 || end > l.wrote.Load() {
		return Slice{}, fmt.Errorf("%w: [%d,+%d) write position %d", ErrOffsetNotFound, offset, size, l.wrote.Load())
	}
	s := l.segs.find(l.segs.load(), offset)
	if s == nil || end > s.end || !s.acquire() {
		return Slice{}, fmt.Errorf("%w: [%d,+%d) not in one live segment (min offset %d)", ErrOffsetNotFound, offset, size, l.minOffset())
	}
	return Slice{B: s.buf[offset-s.start : end-s.start : end-s.start], seg: s}, nil
}

func (l *commitLog) minOffset() int64 {
	if segs := l.segs.load(); len(segs) > 0 {
		return segs[0].start
	}
	return l.wrote.Load()
}

func (l *commitLog) scan(from int64, fn func(offset int64, rec []byte) bool) (int64, error) {
	if l.closed.Load() {
		return from, ErrClosed
	}
	to := l.wrote.Load()
	if from > to || from < 0 {
		return from, fmt.Errorf("%w: scan from %d, write position %d", ErrOffsetNotFound, from, to)
	}
	pos := from
	for pos < to {
		s := l.segs.find(l.segs.load(), pos)
		if s == nil || !s.acquire() {
			return pos, fmt.Errorf("%w: scan at %d (min offset %d)", ErrOffsetNotFound, pos, l.minOffset())
		}
		next, more, err := scanSegment(s, pos, to, fn)
		s.release()
		if err != nil || !more {
			return next, err
		}
		pos = next
	}
	return pos, nil
}

// scanSegment visits the records of s from pos up to min(to, s.end). It
// returns where to continue, and more=false when fn stopped the scan.
// REQUIRES: a reference on s.
func scanSegment(s *segment, pos, to int64, fn func(int64, []byte) bool) (next int64, more bool, err error) {
	limit := min(to, s.end)
	for pos < limit {
		p := pos - s.start
		if s.end-pos < fillerLen {
			return s.end, true, nil // tail too short for anything: segment done
		}
		total := int64(int32(binary.BigEndian.Uint32(s.buf[p:])))
		magic := int32(binary.BigEndian.Uint32(s.buf[p+4:]))
		if magic == message.MagicBlank {
			return s.end, true, nil
		}
		// Records below the write position were checked on the way in
		// (Append) or by Recover; broken framing here means the mapping
		// changed under us, and going on would misread everything after.
		if (magic != message.MagicV1 && magic != message.MagicV2) || total < recordLenMin || pos+total > limit {
			return pos, false, fmt.Errorf("%w: bad record framing at %d (size %d, magic %#x)", ErrCorrupt, pos, total, uint32(magic))
		}
		if !fn(pos, s.buf[p:p+total:p+total]) {
			return pos + total, false, nil
		}
		pos += total
	}
	return pos, true, nil
}

// CheckFrame reports whether rec, read at offset for a consume-queue unit of
// len(rec) bytes, is framed as that record: TOTALSIZE equal to len(rec), a
// V1/V2 magic and PHYSICALOFFSET equal to offset. It reads 36 bytes, not the
// body: the pull path, which is zero-copy and never touches bodies, calls it
// (through CheckUnit) per message to refuse a unit that points at the wrong bytes (a queue file
// the crash left ahead of the log, or a corrupt header) instead of sending
// garbage as a message. BODYCRC is not checked there: on a 1 KiB body the
// CRC costs about ten times the rest of the per-message store read
// (BenchmarkPullCheck); recovery checks it for every record a crash may
// have torn (checkCRCOnRecover), as RocketMQ does. Any goroutine.
func CheckFrame(rec []byte, offset int64) error {
	if len(rec) < recordLenMin {
		return fmt.Errorf("%w: %d bytes at %d, below a record's minimum", ErrCorrupt, len(rec), offset)
	}
	be := binary.BigEndian
	size := int64(int32(be.Uint32(rec)))
	magic := int32(be.Uint32(rec[4:]))
	phys := int64(be.Uint64(rec[offPhysicalOffset:]))
	if size != int64(len(rec)) || (magic != message.MagicV1 && magic != message.MagicV2) || phys != offset {
		return fmt.Errorf("%w: at %d: size %d (unit says %d), magic %#x, physical offset %d",
			ErrCorrupt, offset, size, len(rec), uint32(magic), phys)
	}
	return nil
}

// offPhysicalOffset is where a record stores its own global offset.
const offPhysicalOffset = 28

// CheckUnit is CheckFrame plus the record's identity: its TOPIC, QUEUEID
// and QUEUEOFFSET must be those of the consume-queue unit (topic, queueID,
// queueOffset) the pull found it through. BODYCRC covers only the body, so
// without this a flipped bit in the topic field would be served as a
// message of another topic. It reads header fields only (the topic is
// located from BODYLEN, not by decoding), compares without allocating,
// and allocates only the error. Any goroutine.
func CheckUnit(rec []byte, offset int64, topic string, queueID int32, queueOffset int64) error {
	if err := CheckFrame(rec, offset); err != nil {
		return err
	}
	qid, qoff, _, ok := message.RecordQueue(rec)
	t := message.RecordTopic(rec)
	if !ok || qid != queueID || qoff != queueOffset || string(t) != topic {
		return fmt.Errorf("%w: at %d: record of %q queue %d offset %d, unit of %q queue %d offset %d",
			ErrCorrupt, offset, t, qid, qoff, topic, queueID, queueOffset)
	}
	return nil
}

// ReadMessage decodes the record that starts at offset (checking its body
// CRC) into a Message whose Body is a copy, so nothing of the mapping is
// retained. An offset that is not the start of a record gives an error
// wrapping ErrOffsetNotFound or message.ErrCorrupt; callers that take
// offsets from clients (send-back, END_TRANSACTION) rely on that to refuse
// them. Any goroutine.
func (l *CommitLog) ReadMessage(offset int64) (message.Message, error) {
	s, m, err := l.ReadRecord(offset, true)
	if err != nil {
		return message.Message{}, err
	}
	m.Body = bytes.Clone(m.Body)
	s.Release()
	return m, nil
}

// ReadRecord is ReadMessage without the copy, for readers that send records
// on as they are (QUERY_MESSAGE, VIEW_MESSAGE_BY_ID): it returns the record
// as a zero-copy Slice, which the caller releases, and decoded, with Body
// aliasing the Slice. checkCRC also verifies BODYCRC. The offset is checked
// as ReadMessage checks it: the size field must give a record that decodes
// whole and names offset as its own PHYSICALOFFSET. Any goroutine.
func (l *CommitLog) ReadRecord(offset int64, checkCRC bool) (Slice, message.Message, error) {
	head, err := l.impl.read(offset, 4)
	if err != nil {
		return Slice{}, message.Message{}, err
	}
	size := int(binary.BigEndian.Uint32(head.B))
	head.Release()
	if size < message.RecordBytesMin || size > int(l.impl.cfg.FileSize) {
		return Slice{}, message.Message{}, fmt.Errorf("%w: no record at %d (size field %d)", ErrOffsetNotFound, offset, size)
	}
	s, err := l.impl.read(offset, size)
	if err != nil {
		return Slice{}, message.Message{}, err
	}
	m, n, err := message.DecodeRecord(s.B, checkCRC)
	switch {
	case err != nil:
		err = fmt.Errorf("commitlog: record at %d: %w", offset, err)
	case n != size || m.PhysicalOffset != offset:
		err = fmt.Errorf("%w: no record at %d (decoded %d of %d bytes, physical offset %d)",
			ErrOffsetNotFound, offset, n, size, m.PhysicalOffset)
	}
	if err != nil {
		s.Release()
		return Slice{}, message.Message{}, err
	}
	return s, m, nil
}
