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

// RecordStoreTimestamp reads STORETIMESTAMP (offset 56, or 68 when the born
// host is IPv6) of an encoded record without a full decode. It assumes rec
// is a valid record (one AppendRecord wrote or DecodeRecord accepted) and
// does not validate it; on a slice too short for the field it returns 0
// instead of panicking.
func RecordStoreTimestamp(rec []byte) int64 {
	off := storeTimestampOffset(rec)
	if off == 0 || len(rec) < off+8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(rec[off:]))
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

// storeTimestampOffset returns 56 or 68, or 0 when rec is too short to
// hold SYSFLAG.
func storeTimestampOffset(rec []byte) int {
	if len(rec) < offSysFlag+4 {
		return 0
	}
	sysFlag := int32(binary.BigEndian.Uint32(rec[offSysFlag:]))
	return offBornHost + hostBytes(sysFlag&SysFlagBornHostV6 != 0)
}

// RecordProperties returns the PROPERTIES bytes of an encoded record
// without decoding it, aliasing rec (nil when there are none). It walks the
// length fields like DecodeRecord but checks only that each stays inside
// rec: on a slice too short or inconsistent it returns nil instead of
// panicking. For the broker's SQL92 filter, which reads the properties of
// every scanned record.
func RecordProperties(rec []byte) []byte {
	_, props := RecordTopicProperties(rec)
	return props
}

// RecordTopicProperties is RecordTopic and RecordProperties in one walk of
// the header, for readers that need both of every record (the index).
func RecordTopicProperties(rec []byte) (topic, props []byte) {
	topic, p := recordTopicAt(rec)
	if len(topic) == 0 {
		topic = nil
	}
	if p == 0 || len(rec)-p < 2 {
		return topic, nil
	}
	propsLen := int(binary.BigEndian.Uint16(rec[p:]))
	p += 2
	if propsLen == 0 || propsLen > len(rec)-p {
		return topic, nil
	}
	return topic, rec[p : p+propsLen : p+propsLen]
}
