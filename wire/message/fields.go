package message

import "encoding/binary"

// SYSFLAG bits (wire-protocol.md §9.3).
const (
	SysFlagCompressed  int32 = 0x1 // body is zlib-compressed
	SysFlagMultiTags   int32 = 0x2 // topic filter type MULTI_TAG
	SysFlagBornHostV6  int32 = 0x10
	SysFlagStoreHostV6 int32 = 0x20
	SysFlagNeedUnwrap  int32 = 0x40 // 5.x inner batch
	SysFlagInnerBatch  int32 = 0x80 // 5.x inner batch

	// Transaction type is the 2-bit field sysFlag & TransactionMask.
	TransactionMask     int32 = 0xC
	TransactionNotType  int32 = 0x0
	TransactionPrepared int32 = 0x4
	TransactionCommit   int32 = 0x8
	TransactionRollback int32 = 0xC
)

// TransactionType returns the transaction type bits of sysFlag
// (TransactionNotType, TransactionPrepared, TransactionCommit or
// TransactionRollback).
func TransactionType(sysFlag int32) int32 { return sysFlag & TransactionMask }

// SetTransactionType replaces the transaction type bits of sysFlag.
func SetTransactionType(sysFlag, txType int32) int32 {
	return sysFlag&^TransactionMask | txType&TransactionMask
}

// The Record* readers below read single fields of an encoded record without
// a full decode, for the dispatch path. They assume rec is a valid record
// (one AppendRecord wrote or DecodeRecord accepted) and do not validate it;
// on a slice too short for the field they return the zero value instead of
// panicking.

// RecordTotalSize returns TOTALSIZE.
func RecordTotalSize(rec []byte) int32 { return readInt32(rec, offTotalSize) }

// RecordQueueID returns QUEUEID.
func RecordQueueID(rec []byte) int32 { return readInt32(rec, offQueueID) }

// RecordQueueOffset returns QUEUEOFFSET.
func RecordQueueOffset(rec []byte) int64 { return readInt64(rec, offQueueOffset) }

// RecordPhysicalOffset returns PHYSICALOFFSET.
func RecordPhysicalOffset(rec []byte) int64 { return readInt64(rec, offPhysicalOffset) }

// RecordSysFlag returns SYSFLAG.
func RecordSysFlag(rec []byte) int32 { return readInt32(rec, offSysFlag) }

// RecordStoreTimestamp returns STORETIMESTAMP (offset 56, or 68 when the
// born host is IPv6).
func RecordStoreTimestamp(rec []byte) int64 {
	off := storeTimestampOffset(rec)
	if off == 0 {
		return 0
	}
	return readInt64(rec, off)
}

// RecordTopic returns a copy of TOPIC.
func RecordTopic(rec []byte) string {
	start, end := topicBounds(rec)
	return string(rec[start:end])
}

// RecordProperties returns a copy of PROPERTIES.
func RecordProperties(rec []byte) string {
	_, topicEnd := topicBounds(rec)
	if topicEnd == 0 || len(rec)-topicEnd < 2 {
		return ""
	}
	n := int(binary.BigEndian.Uint16(rec[topicEnd:]))
	start := topicEnd + 2
	if n > len(rec)-start {
		return ""
	}
	return string(rec[start : start+n])
}

// RecordBody returns BODY, aliasing rec.
func RecordBody(rec []byte) []byte {
	p := bodyLenOffset(rec)
	if p == 0 {
		return nil
	}
	n := int(int32(binary.BigEndian.Uint32(rec[p:])))
	if n < 0 || n > len(rec)-p-4 {
		return nil
	}
	return rec[p+4 : p+4+n : p+4+n]
}

// PatchStored writes the fields only the commitlog writer knows into an
// encoded record in place: QUEUEOFFSET, PHYSICALOFFSET and STORETIMESTAMP
// (whose offset depends on the born host's SYSFLAG bit). rec must be a whole
// record from AppendRecord; a slice too short to hold these fields is left
// untouched. BODYCRC does not cover them, so nothing else changes.
func PatchStored(rec []byte, queueOffset, physicalOffset, storeTimestamp int64) {
	ts := storeTimestampOffset(rec)
	if ts == 0 || len(rec) < ts+8 {
		return
	}
	be := binary.BigEndian
	be.PutUint64(rec[offQueueOffset:], uint64(queueOffset))
	be.PutUint64(rec[offPhysicalOffset:], uint64(physicalOffset))
	be.PutUint64(rec[ts:], uint64(storeTimestamp))
}

func readInt32(rec []byte, off int) int32 {
	if len(rec) < off+4 {
		return 0
	}
	return int32(binary.BigEndian.Uint32(rec[off:]))
}

func readInt64(rec []byte, off int) int64 {
	if len(rec) < off+8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(rec[off:]))
}

// storeTimestampOffset returns 56 or 68, or 0 when rec is too short to
// hold SYSFLAG.
func storeTimestampOffset(rec []byte) int {
	if len(rec) < offSysFlag+4 {
		return 0
	}
	return offBornHost + hostBytes(RecordSysFlag(rec)&SysFlagBornHostV6 != 0)
}

// bodyLenOffset returns the offset of BODYLEN, or 0 when rec is too short
// to hold it.
func bodyLenOffset(rec []byte) int {
	if len(rec) < offSysFlag+4 {
		return 0
	}
	sysFlag := RecordSysFlag(rec)
	p := fixedBytes - 4 + hostBytes(sysFlag&SysFlagBornHostV6 != 0) + hostBytes(sysFlag&SysFlagStoreHostV6 != 0)
	if len(rec) < p+4 {
		return 0
	}
	return p
}

// topicBounds returns TOPIC's start and end, or 0, 0 when rec is too short.
func topicBounds(rec []byte) (int, int) {
	p := bodyLenOffset(rec)
	if p == 0 {
		return 0, 0
	}
	bodyLen := int(int32(binary.BigEndian.Uint32(rec[p:])))
	p += 4
	if bodyLen < 0 || bodyLen > len(rec)-p {
		return 0, 0
	}
	p += bodyLen
	var topicLen int
	if int32(binary.BigEndian.Uint32(rec[offMagic:])) == MagicV2 {
		if len(rec)-p < 2 {
			return 0, 0
		}
		topicLen = int(binary.BigEndian.Uint16(rec[p:]))
		p += 2
	} else {
		if len(rec)-p < 1 {
			return 0, 0
		}
		topicLen = int(rec[p])
		p++
	}
	if topicLen > len(rec)-p {
		return 0, 0
	}
	return p, p + topicLen
}
