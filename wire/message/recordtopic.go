package message

import "encoding/binary"

// RecordTopic returns the TOPIC bytes of an encoded record without decoding
// it, aliasing rec (nil when rec is too short or inconsistent to hold
// them). Like RecordProperties it checks only that each length stays inside
// rec, so it never panics; rec should be a record DecodeRecord accepted or
// AppendRecord wrote. For the store's re-dispatch, which only needs the
// topic, queue id and queue offset of each record to skip those a consume
// queue already holds, without the two string copies of DecodeRecord.
func RecordTopic(rec []byte) []byte {
	topic, _ := recordTopicAt(rec)
	if len(topic) == 0 {
		return nil
	}
	return topic
}

// recordTopicAt walks an encoded record's header up to its TOPIC field and
// returns the topic and the offset just past it (0 when rec is too short or
// a length is out of range). RecordTopic and RecordTopicProperties share it.
func recordTopicAt(rec []byte) ([]byte, int) {
	p := storeTimestampOffset(rec)
	if p == 0 || len(rec) < offMagic+4 {
		return nil, 0
	}
	be := binary.BigEndian
	sysFlag := int32(be.Uint32(rec[offSysFlag:]))
	// STORETIMESTAMP, STOREHOST, RECONSUMETIMES, PREPARED OFFSET, BODYLEN.
	p += 8 + hostBytes(sysFlag&SysFlagStoreHostV6 != 0) + 4 + 8
	if len(rec)-p < 4 {
		return nil, 0
	}
	bodyLen := int(int32(be.Uint32(rec[p:])))
	p += 4
	if bodyLen < 0 || bodyLen > len(rec)-p {
		return nil, 0
	}
	p += bodyLen
	var topicLen int
	if int32(be.Uint32(rec[offMagic:])) == MagicV2 {
		if len(rec)-p < 2 {
			return nil, 0
		}
		topicLen = int(be.Uint16(rec[p:]))
		p += 2
	} else {
		if len(rec)-p < 1 {
			return nil, 0
		}
		topicLen = int(rec[p])
		p++
	}
	if topicLen > len(rec)-p {
		return nil, 0
	}
	return rec[p : p+topicLen : p+topicLen], p + topicLen
}

// RecordQueue reads QUEUEID, QUEUEOFFSET and SYSFLAG of an encoded record
// without decoding it; ok is false when rec is too short to hold them.
func RecordQueue(rec []byte) (queueID int32, queueOffset int64, sysFlag int32, ok bool) {
	if len(rec) < offSysFlag+4 {
		return 0, 0, 0, false
	}
	be := binary.BigEndian
	return int32(be.Uint32(rec[offQueueID:])), int64(be.Uint64(rec[offQueueOffset:])), int32(be.Uint32(rec[offSysFlag:])), true
}
