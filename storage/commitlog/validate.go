package commitlog

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/actormq/actormq/wire/message"
)

// Record fields checkRecord reads beyond the ones the package comment lists
// (wire/message has the whole layout).
const (
	offBodyCRC  = 8
	offSysFlag  = 36
	offBornHost = 48
	hostBytesV4 = 4 + 4 // ip + int32 port
	hostBytesV6 = 16 + 4
	portMax     = 0xFFFF
	// offBodyLenNoHosts is where BODYLEN would be if both hosts took no
	// bytes: after STORETIMESTAMP, RECONSUMETIMES and PREPARED OFFSET.
	offBodyLenNoHosts = offBornHost + 8 + 4 + 8
)

// checkRecord reports whether b starts with a whole, valid record stored at
// offset and returns its size. It is recovery's test (storage-format.md
// §7.3), a failure of which ends the log:
//
//   - TOTALSIZE fits in b and is at least a minimal record, MAGICCODE is
//     V1 or V2, and every length field (body, topic, properties) stays in
//     bounds and adds up to TOTALSIZE; host ports are 0..65535. These are
//     message.DecodeRecord's rules, so re-dispatch and readers decode every
//     record recovery keeps;
//   - PHYSICALOFFSET is offset: stale bytes behind an older tail, or a
//     record copied from elsewhere, do not pass;
//   - the topic is non-empty and the properties are not torn: no NUL byte
//     in the topic and no NUL as the last byte of non-empty properties.
//     BODYCRC covers only the body, and a write torn inside a record's
//     topic or properties reads back as zeros from the tear on (the sectors
//     the crash did not write keep the zeros of fallocate, or of the tail
//     recovery cleared), so a properties string cut short passed and the
//     message was served without its UNIQ_KEY. The test is deliberately
//     not a parse of key\x01value\x02 entries: clients' properties are
//     stored as sent (RocketMQ reads them leniently), and a rule a client
//     can break would let it cut the log there at the next crash, losing
//     everything after. No topic validator admits NUL; the send path ends
//     every producer's properties with the CLUSTER entry's \x02;
//   - with checkCRC (checkCRCOnRecover), BODYCRC matches the body.
//
// It reads the record in place and allocates nothing unless it fails:
// recovery runs it over every record since the checkpoint, where
// DecodeRecord's two string copies per record were most of the time.
func checkRecord(b []byte, offset int64, checkCRC bool) (int, error) {
	be := binary.BigEndian
	if len(b) < recordLenMin {
		return 0, fmt.Errorf("%w: %d bytes left, below a record's minimum", ErrCorrupt, len(b))
	}
	size := int64(int32(be.Uint32(b)))
	magic := int32(be.Uint32(b[4:]))
	if magic != message.MagicV1 && magic != message.MagicV2 {
		return 0, fmt.Errorf("%w: magic %#x", ErrCorrupt, uint32(magic))
	}
	if size < recordLenMin || size > int64(len(b)) {
		return 0, fmt.Errorf("%w: TOTALSIZE %d, %d bytes left", ErrCorrupt, size, len(b))
	}
	rec := b[:size]
	if phys := int64(be.Uint64(rec[offPhysicalOffset:])); phys != offset {
		return 0, fmt.Errorf("%w: PHYSICALOFFSET %d", ErrCorrupt, phys)
	}
	sysFlag := int32(be.Uint32(rec[offSysFlag:]))
	bornHost, storeHost := hostBytesV4, hostBytesV4
	if sysFlag&message.SysFlagBornHostV6 != 0 {
		bornHost = hostBytesV6
	}
	if sysFlag&message.SysFlagStoreHostV6 != 0 {
		storeHost = hostBytesV6
	}
	p := offBodyLenNoHosts + bornHost + storeHost // BODYLEN
	if len(rec) < p+4 {
		return 0, fmt.Errorf("%w: TOTALSIZE %d too small for its hosts", ErrCorrupt, size)
	}
	bornPort := int32(be.Uint32(rec[offBornHost+bornHost-4:]))
	storePort := int32(be.Uint32(rec[offBornHost+bornHost+8+storeHost-4:]))
	if bornPort < 0 || bornPort > portMax || storePort < 0 || storePort > portMax {
		return 0, fmt.Errorf("%w: host port out of range", ErrCorrupt)
	}
	bodyLen := int(int32(be.Uint32(rec[p:])))
	p += 4
	if bodyLen < 0 || bodyLen > len(rec)-p {
		return 0, fmt.Errorf("%w: body length %d, %d bytes left", ErrCorrupt, bodyLen, len(rec)-p)
	}
	body := rec[p : p+bodyLen]
	p += bodyLen
	var topicLen int
	switch {
	case magic == message.MagicV1 && len(rec)-p >= 1:
		topicLen = int(rec[p])
		p++
		if topicLen > message.TopicBytesMaxV1 {
			return 0, fmt.Errorf("%w: V1 topic length %d", ErrCorrupt, topicLen)
		}
	case magic == message.MagicV2 && len(rec)-p >= 2:
		topicLen = int(be.Uint16(rec[p:]))
		p += 2
		if topicLen > message.TopicBytesMax {
			return 0, fmt.Errorf("%w: V2 topic length %d", ErrCorrupt, topicLen)
		}
	default:
		return 0, fmt.Errorf("%w: no room for the topic length", ErrCorrupt)
	}
	if topicLen == 0 || topicLen > len(rec)-p {
		return 0, fmt.Errorf("%w: topic length %d, %d bytes left", ErrCorrupt, topicLen, len(rec)-p)
	}
	if bytes.IndexByte(rec[p:p+topicLen], 0) >= 0 {
		return 0, fmt.Errorf("%w: NUL in the topic (torn write)", ErrCorrupt)
	}
	p += topicLen
	if len(rec)-p < 2 {
		return 0, fmt.Errorf("%w: no room for the properties length", ErrCorrupt)
	}
	propsLen := int(be.Uint16(rec[p:]))
	p += 2
	if propsLen > message.PropertiesBytesMax || p+propsLen != len(rec) {
		return 0, fmt.Errorf("%w: properties length %d, %d bytes left", ErrCorrupt, propsLen, len(rec)-p)
	}
	if propsLen > 0 && rec[len(rec)-1] == 0 {
		return 0, fmt.Errorf("%w: properties end in NUL (torn write)", ErrCorrupt)
	}
	if checkCRC {
		if crc := crc32.ChecksumIEEE(body); crc != be.Uint32(rec[offBodyCRC:]) {
			return 0, fmt.Errorf("%w: body crc %#08x, stored %#08x", ErrCorrupt, crc, be.Uint32(rec[offBodyCRC:]))
		}
	}
	return int(size), nil
}
