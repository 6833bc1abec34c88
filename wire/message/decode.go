package message

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// DecodeRecord decodes the record at the start of b and returns it with its
// size. Body aliases b (nil when empty; capacity clipped, so appending to
// it never writes into b); Topic and Properties are copies. It validates
// that b holds the whole record, the magic (V1/V2), every length, and that
// the declared TOTALSIZE equals the size recomputed from the field lengths;
// checkCRC also verifies BODYCRC. Errors wrap ErrCorrupt (ErrTruncated when
// b is short), except the end-of-file filler: then it returns ErrBlank and
// n is the filler's declared byte count (not validated). It never panics.
// Safe from any goroutine; it does not retain b beyond the returned Body.
func DecodeRecord(b []byte, checkCRC bool) (Message, int, error) {
	var m Message
	if len(b) < BlankBytes {
		return Message{}, 0, fmt.Errorf("%w: %d bytes, need at least %d", ErrTruncated, len(b), BlankBytes)
	}
	be := binary.BigEndian
	size := int32(be.Uint32(b[offTotalSize:]))
	magic := int32(be.Uint32(b[offMagic:]))
	switch magic {
	case MagicV1, MagicV2:
	case MagicBlank:
		return Message{}, int(size), ErrBlank
	default:
		return Message{}, 0, fmt.Errorf("%w: bad magic 0x%08X", ErrCorrupt, uint32(magic))
	}
	if size < RecordBytesMin {
		return Message{}, 0, fmt.Errorf("%w: total size %d below minimum %d", ErrCorrupt, size, RecordBytesMin)
	}
	if int(size) > len(b) {
		return Message{}, 0, fmt.Errorf("%w: total size %d, have %d bytes", ErrTruncated, size, len(b))
	}
	rec := b[:size]

	m.TotalSize = size
	m.BodyCRC = be.Uint32(rec[offBodyCRC:])
	m.QueueID = int32(be.Uint32(rec[offQueueID:]))
	m.Flag = int32(be.Uint32(rec[offFlag:]))
	m.QueueOffset = int64(be.Uint64(rec[offQueueOffset:]))
	m.PhysicalOffset = int64(be.Uint64(rec[offPhysicalOffset:]))
	m.SysFlag = int32(be.Uint32(rec[offSysFlag:]))
	m.BornTimestamp = int64(be.Uint64(rec[offBornTimestamp:]))
	bornV6 := m.SysFlag&SysFlagBornHostV6 != 0
	storeV6 := m.SysFlag&SysFlagStoreHostV6 != 0
	// Everything up to and including BODYLEN must fit before reading it.
	if int(size) < fixedBytes+hostBytes(bornV6)+hostBytes(storeV6) {
		return Message{}, 0, fmt.Errorf("%w: total size %d too small for its hosts", ErrCorrupt, size)
	}
	var ok bool
	p := offBornHost
	if m.BornHost, ok = readHost(rec[p:], bornV6); !ok {
		return Message{}, 0, fmt.Errorf("%w: born host port out of range", ErrCorrupt)
	}
	p += hostBytes(bornV6)
	m.StoreTimestamp = int64(be.Uint64(rec[p:]))
	p += 8
	if m.StoreHost, ok = readHost(rec[p:], storeV6); !ok {
		return Message{}, 0, fmt.Errorf("%w: store host port out of range", ErrCorrupt)
	}
	p += hostBytes(storeV6)
	m.ReconsumeTimes = int32(be.Uint32(rec[p:]))
	m.PreparedTransactionOffset = int64(be.Uint64(rec[p+4:]))
	bodyLen := int(int32(be.Uint32(rec[p+12:])))
	p += 16
	// Int arithmetic cannot overflow: every length is below 2^31 and is
	// compared against the remaining bytes before it is added.
	if bodyLen < 0 || bodyLen > len(rec)-p {
		return Message{}, 0, fmt.Errorf("%w: body length %d, %d bytes left", ErrCorrupt, bodyLen, len(rec)-p)
	}
	if bodyLen > 0 {
		m.Body = rec[p : p+bodyLen : p+bodyLen]
	}
	p += bodyLen

	topicLen := 0
	if magic == MagicV1 {
		if len(rec)-p < 1 {
			return Message{}, 0, fmt.Errorf("%w: no room for topic length", ErrCorrupt)
		}
		topicLen = int(rec[p])
		if topicLen > TopicBytesMaxV1 {
			return Message{}, 0, fmt.Errorf("%w: V1 topic length %d > %d", ErrCorrupt, topicLen, TopicBytesMaxV1)
		}
		p++
	} else {
		if len(rec)-p < 2 {
			return Message{}, 0, fmt.Errorf("%w: no room for topic length", ErrCorrupt)
		}
		topicLen = int(be.Uint16(rec[p:]))
		if topicLen > TopicBytesMax {
			return Message{}, 0, fmt.Errorf("%w: V2 topic length %d > %d", ErrCorrupt, topicLen, TopicBytesMax)
		}
		p += 2
	}
	if topicLen > len(rec)-p {
		return Message{}, 0, fmt.Errorf("%w: topic length %d, %d bytes left", ErrCorrupt, topicLen, len(rec)-p)
	}
	m.Topic = string(rec[p : p+topicLen])
	p += topicLen

	if len(rec)-p < 2 {
		return Message{}, 0, fmt.Errorf("%w: no room for properties length", ErrCorrupt)
	}
	propsLen := int(be.Uint16(rec[p:]))
	p += 2
	if propsLen > PropertiesBytesMax {
		return Message{}, 0, fmt.Errorf("%w: properties length %d > %d", ErrCorrupt, propsLen, PropertiesBytesMax)
	}
	if p+propsLen != len(rec) {
		return Message{}, 0, fmt.Errorf("%w: total size %d, fields add up to %d", ErrCorrupt, size, p+propsLen)
	}
	if propsLen > 0 {
		m.Properties = string(rec[p:])
	}
	if checkCRC {
		if crc := crc32.ChecksumIEEE(m.Body); crc != m.BodyCRC {
			return Message{}, 0, fmt.Errorf("%w: body crc 0x%08X, stored 0x%08X", ErrCorrupt, crc, m.BodyCRC)
		}
	}
	return m, int(size), nil
}
