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
}

// Reset prepares t for the records of m's topic, queue, hosts and
// timestamps; m's TotalSize, BodyCRC, Flag, Body and Properties are
// ignored. m must pass CheckLimits.
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
	t.topic = m.Topic
	if topicLenBytes(m.Topic) == 2 {
		magic := MagicV2
		binary.BigEndian.PutUint32(t.head[offMagic:], uint32(magic))
	}
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
	n := t.RecordLen(body, props, propsTail)
	start := len(dst)
	dst = slices.Grow(dst, n)[:start+n]
	rec := dst[start:]
	be := binary.BigEndian
	p := copy(rec, t.head[:t.headBytes])
	be.PutUint32(rec[offTotalSize:], uint32(n))
	be.PutUint32(rec[offBodyCRC:], crc32.ChecksumIEEE(body))
	be.PutUint32(rec[offFlag:], uint32(flag))
	be.PutUint32(rec[p-4:], uint32(len(body)))
	p += copy(rec[p:], body)
	if topicLenBytes(t.topic) == 2 { // MagicV2
		be.PutUint16(rec[p:], uint16(len(t.topic)))
		p += 2
	} else {
		rec[p] = byte(len(t.topic))
		p++
	}
	p += copy(rec[p:], t.topic)
	be.PutUint16(rec[p:], uint16(len(props)+len(propsTail)))
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
