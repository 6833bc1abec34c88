package message

import (
	"encoding/binary"
	"hash/crc32"
	"slices"
)

// recordHeadBytesMax is the longest record head: the fields before BODY
// with both hosts IPv6.
const recordHeadBytesMax = fixedBytes + 2*hostBytesV6

// RecordTemplate encodes records that share every field but FLAG, BODY and
// PROPERTIES: the items of one batch message. Reset writes the shared head
// (magic, queue id, offsets, sysFlag, born timestamp and hosts, store
// timestamp, reconsume times, prepared offset) once; Append then copies it
// and fills in only what differs per item, where AppendRecordTail would
// redo the layout, both hosts' families and every field for each item. The
// records it writes are byte for byte those of AppendRecordTail
// (TestRecordTemplateMatchesAppendRecord).
//
// A RecordTemplate is a value its owner reuses; it keeps m.Topic, not m.
// It is not safe for concurrent use.
type RecordTemplate struct {
	head      [recordHeadBytesMax]byte
	headBytes int // head length, BODYLEN included
	topic     string
	// suffix is what follows BODY in a record without properties of its
	// own: TOPICLEN, TOPIC, PROPERTIESLEN and suffixTail, the propsTail it
	// was built for. Batch items without properties (the Go client's,
	// mqbench's) all end with it, so Append copies it in one piece instead
	// of writing four fields per item.
	suffix     []byte
	suffixTail string
}

// Reset prepares t for the records of m's topic, queue, hosts and
// timestamps; m's TotalSize, BodyCRC, Flag, Body and Properties are
// ignored. m must pass CheckLimits. t keeps m.Topic until the next Reset
// (to see whether its suffix still holds), so the string must not point
// into memory that is reused meanwhile.
func (t *RecordTemplate) Reset(m *Message) {
	shared := *m
	shared.Body, shared.Topic, shared.Properties = nil, "", ""
	// The head is the start of the record AppendRecord writes for m with an
	// empty body, topic and properties: everything up to BODYLEN, then a
	// 1-byte topic length and a 2-byte properties length. Only MAGIC there
	// depends on the topic.
	var buf [recordHeadBytesMax + 1 + 2]byte
	rec := appendRecord(buf[:0], &shared, "")
	t.headBytes = copy(t.head[:], rec[:len(rec)-3])
	if topicLenBytes(m.Topic) == 2 {
		magic := MagicV2
		binary.BigEndian.PutUint32(t.head[offMagic:], uint32(magic))
	}
	if m.Topic != t.topic || t.suffix == nil {
		t.topic = m.Topic
		t.setSuffix("")
	}
}

// setSuffix builds t.suffix for propsTail.
func (t *RecordTemplate) setSuffix(propsTail string) {
	s := t.suffix[:0]
	if topicLenBytes(t.topic) == 2 { // MagicV2
		s = binary.BigEndian.AppendUint16(s, uint16(len(t.topic)))
	} else {
		s = append(s, byte(len(t.topic)))
	}
	s = append(s, t.topic...)
	s = binary.BigEndian.AppendUint16(s, uint16(len(propsTail)))
	t.suffix, t.suffixTail = append(s, propsTail...), propsTail
}

// RecordLen is the size of the record Append writes.
func (t *RecordTemplate) RecordLen(body []byte, props, propsTail string) int {
	return t.headBytes + len(body) + topicLenBytes(t.topic) + len(t.topic) + 2 + len(props) + len(propsTail)
}

// Append appends the record of one item (flag, body, and properties props
// followed by propsTail, as AppendRecordTail takes them) to dst and returns
// the extended slice. It grows dst at most once; the joined properties must
// fit PropertiesBytesMax.
func (t *RecordTemplate) Append(dst []byte, flag int32, body []byte, props, propsTail string) []byte {
	if props != "" {
		return t.appendProps(dst, flag, body, props, propsTail)
	}
	if propsTail != t.suffixTail {
		t.setSuffix(propsTail)
	}
	n := t.headBytes + len(body) + len(t.suffix)
	start := len(dst)
	dst = slices.Grow(dst, n)[:start+n]
	rec := dst[start:]
	if len(rec) >= len(t.head) {
		// One fixed-size copy (no memmove call); whatever it writes past
		// the head, BODY and the suffix overwrite right below.
		*(*[recordHeadBytesMax]byte)(rec) = t.head
	} else {
		copy(rec, t.head[:t.headBytes])
	}
	t.putItem(rec, n, flag, body)
	copy(rec[t.headBytes+copy(rec[t.headBytes:], body):], t.suffix)
	return dst
}

// putItem writes the fields of rec's head that differ per item.
func (t *RecordTemplate) putItem(rec []byte, n int, flag int32, body []byte) {
	be := binary.BigEndian
	be.PutUint32(rec[offTotalSize:], uint32(n))
	be.PutUint32(rec[offBodyCRC:], crc32.ChecksumIEEE(body))
	be.PutUint32(rec[offFlag:], uint32(flag))
	be.PutUint32(rec[t.headBytes-4:], uint32(len(body)))
}

// appendProps is Append for an item with properties of its own.
func (t *RecordTemplate) appendProps(dst []byte, flag int32, body []byte, props, propsTail string) []byte {
	n := t.RecordLen(body, props, propsTail)
	start := len(dst)
	dst = slices.Grow(dst, n)[:start+n]
	rec := dst[start:]
	p := copy(rec, t.head[:t.headBytes])
	t.putItem(rec, n, flag, body)
	p += copy(rec[p:], body)
	topicField := len(t.suffix) - 2 - len(t.suffixTail) // TOPICLEN + TOPIC
	p += copy(rec[p:], t.suffix[:topicField])
	binary.BigEndian.PutUint16(rec[p:], uint16(len(props)+len(propsTail)))
	p += 2
	p += copy(rec[p:], props)
	copy(rec[p:], propsTail)
	return dst
}

// topicLenBytes is the size of a record's topic length field.
func topicLenBytes(topic string) int {
	if len(topic) > TopicBytesMaxV1 {
		return 2
	}
	return 1
}
