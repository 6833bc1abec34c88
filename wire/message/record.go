// Package message owns the RocketMQ message record codec (the CommitLog
// record, which is also the pull/query/view body), the properties string,
// batch bodies, offset message ids and tag hash codes. See storage-format.md
// §3 and wire-protocol.md §9. It does no I/O and keeps no state: every
// function may be called from any goroutine.
//
// Record layout, all integers big-endian. Offsets are for V1 magic and IPv4
// hosts; each IPv6 host (SYSFLAG bit 0x10 born, 0x20 store) is 12 bytes
// longer and shifts every later field by 12.
//
//	 off  size  field
//	+----+-----+------------------------------------------------------------+
//	|   0|    4| TOTALSIZE      whole record length, this field included    |
//	|   4|    4| MAGICCODE      V1 0xDAA320A7, V2 0xDAA320AB (2-byte topic) |
//	|   8|    4| BODYCRC        crc32.ChecksumIEEE of the stored body       |
//	|  12|    4| QUEUEID                                                    |
//	|  16|    4| FLAG           user flag                                   |
//	|  20|    8| QUEUEOFFSET    logical offset in the consume queue         |
//	|  28|    8| PHYSICALOFFSET this record's own commit-log offset         |
//	|  36|    4| SYSFLAG        SysFlag* / Transaction* bits                |
//	|  40|    8| BORNTIMESTAMP  producer ms                                 |
//	|  48| 8/20| BORNHOST       ip(4|16) + int32 port                       |
//	|  56|    8| STORETIMESTAMP broker ms (68 with an IPv6 born host)       |
//	|  64| 8/20| STOREHOST      ip(4|16) + int32 port                       |
//	|  72|    4| RECONSUMETIMES                                             |
//	|  76|    8| PREPARED TRANSACTION OFFSET                                |
//	|  84|  4+n| BODYLEN + BODY                                             |
//	|   …|1/2+t| TOPICLEN + TOPIC  (1-byte length V1, 2-byte V2)           |
//	|   …|  2+p| PROPERTIESLEN + PROPERTIES  (p <= 32767, see properties.go)|
//	+----+-----+------------------------------------------------------------+
//
// The fixed overhead with V1 and IPv4 hosts is 91 bytes. The end of a
// commit-log file is marked by an 8-byte filler [int32 bytesLeft][int32
// MagicBlank]; DecodeRecord reports it as ErrBlank.
package message

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"net/netip"
	"slices"
)

var (
	// ErrCorrupt is wrapped by every record/batch decode failure.
	ErrCorrupt = errors.New("message: corrupt record")
	// ErrTruncated means the buffer ends before the record does. It wraps
	// ErrCorrupt, so errors.Is(err, ErrCorrupt) also holds; readers of a
	// growing file may tell it apart to wait for more bytes.
	ErrTruncated = fmt.Errorf("%w: truncated", ErrCorrupt)
	// ErrBlank means the bytes are the end-of-file filler (MagicBlank), not
	// a record. It does not wrap ErrCorrupt: the filler is legitimate.
	ErrBlank = errors.New("message: end-of-file blank")
)

// Magic codes (storage-format.md §3).
const (
	MagicV1    int32 = -626843481 // 0xDAA320A7
	MagicV2    int32 = -626843477 // 0xDAA320AB
	MagicBlank int32 = -875286124 // 0xCBD43194, end-of-file filler
)

// Size limits of the record format.
const (
	// TopicBytesMaxV1 is the longest topic a V1 record (signed 1-byte
	// length) can hold; longer topics are written as V2.
	TopicBytesMaxV1 = 127
	// TopicBytesMax is the longest topic a V2 record (signed 2-byte length)
	// can hold.
	TopicBytesMax = 32767
	// PropertiesBytesMax is the longest properties string (signed 2-byte
	// length); the broker answers PROPERTIES_SIZE_EXCEEDED above it.
	PropertiesBytesMax = 32767
	// RecordBytesMin is the smallest record: V1, IPv4 hosts, empty body,
	// topic and properties.
	RecordBytesMin = 91
	// BlankBytes is the size of the end-of-file filler.
	BlankBytes = 8
)

// Field offsets that do not depend on the host address families.
const (
	offTotalSize      = 0
	offMagic          = 4
	offBodyCRC        = 8
	offQueueID        = 12
	offFlag           = 16
	offQueueOffset    = 20
	offPhysicalOffset = 28
	offSysFlag        = 36
	offBornTimestamp  = 40
	offBornHost       = 48

	hostBytesV4 = 4 + 4
	hostBytesV6 = 16 + 4
	// fixedBytes is every fixed-size field except the two hosts, the topic
	// length and the properties length: 48 bytes before BORNHOST, then
	// STORETIMESTAMP 8, RECONSUMETIMES 4, PREPARED OFFSET 8, BODYLEN 4.
	fixedBytes = offBornHost + 8 + 4 + 8 + 4
)

// Message is one message record. Properties is the encoded property string
// (key\x01value\x02...).
type Message struct {
	TotalSize                 int32
	BodyCRC                   uint32
	QueueID                   int32
	Flag                      int32
	QueueOffset               int64
	PhysicalOffset            int64
	SysFlag                   int32
	BornTimestamp             int64
	BornHost                  netip.AddrPort
	StoreTimestamp            int64
	StoreHost                 netip.AddrPort
	ReconsumeTimes            int32
	PreparedTransactionOffset int64
	Body                      []byte
	Topic                     string
	Properties                string
}

// ErrTooLarge is returned by CheckLimits.
var ErrTooLarge = errors.New("message: field too large for the record format")

// CheckLimits reports whether m fits the record format: topic at most
// TopicBytesMax, properties at most PropertiesBytesMax, body and record
// below 2 GiB. Callers must check it (or stricter broker limits) before
// AppendRecord, which cannot return an error.
func CheckLimits(m *Message) error {
	switch {
	case len(m.Topic) > TopicBytesMax:
		return fmt.Errorf("%w: topic %d bytes > %d", ErrTooLarge, len(m.Topic), TopicBytesMax)
	case len(m.Properties) > PropertiesBytesMax:
		return fmt.Errorf("%w: properties %d bytes > %d", ErrTooLarge, len(m.Properties), PropertiesBytesMax)
	case int64(RecordLen(m)) > 1<<31-1:
		return fmt.Errorf("%w: record %d bytes", ErrTooLarge, RecordLen(m))
	}
	return nil
}

// isV6 decides the host encoding by address family: IPv6 (including
// IPv4-mapped IPv6, so a decoded record re-encodes identically) takes 16
// bytes; IPv4 and the zero AddrPort take 4.
func isV6(h netip.AddrPort) bool { return h.Addr().Is6() }

func hostBytes(v6 bool) int {
	if v6 {
		return hostBytesV6
	}
	return hostBytesV4
}

// RecordLen returns the encoded size of m: V1 unless the topic is longer
// than TopicBytesMaxV1 bytes, each host 8 or 20 bytes by its address family
// (AppendRecord sets the SysFlag v6 bits to match).
func RecordLen(m *Message) int {
	topicLenBytes := 1
	if len(m.Topic) > TopicBytesMaxV1 {
		topicLenBytes = 2
	}
	return fixedBytes + hostBytes(isV6(m.BornHost)) + hostBytes(isV6(m.StoreHost)) +
		len(m.Body) + topicLenBytes + len(m.Topic) + 2 + len(m.Properties)
}

// AppendRecord appends m's record to dst and returns the extended slice. It
// computes TOTALSIZE, MAGIC and BODYCRC from m (m.TotalSize and m.BodyCRC
// are ignored) and sets SYSFLAG's host v6 bits from the address families
// of BornHost and StoreHost. It grows dst at most once and allocates nothing
// when dst has room. m must pass CheckLimits; lengths that do not fit are
// a caller bug and are truncated, producing a record DecodeRecord rejects.
func AppendRecord(dst []byte, m *Message) []byte {
	return appendRecord(dst, m, "")
}

// AppendRecordTail is AppendRecord for a message whose stored properties
// are m.Properties followed by propsTail (the broker's own entries, such as
// CLUSTER), without building the joined string first. The joined
// properties must fit PropertiesBytesMax.
func AppendRecordTail(dst []byte, m *Message, propsTail string) []byte {
	return appendRecord(dst, m, propsTail)
}

func appendRecord(dst []byte, m *Message, propsTail string) []byte {
	n := RecordLen(m) + len(propsTail)
	start := len(dst)
	dst = slices.Grow(dst, n)[:start+n]
	rec := dst[start:]
	be := binary.BigEndian

	bornV6, storeV6 := isV6(m.BornHost), isV6(m.StoreHost)
	sysFlag := m.SysFlag &^ (SysFlagBornHostV6 | SysFlagStoreHostV6)
	if bornV6 {
		sysFlag |= SysFlagBornHostV6
	}
	if storeV6 {
		sysFlag |= SysFlagStoreHostV6
	}
	magic := MagicV1
	if len(m.Topic) > TopicBytesMaxV1 {
		magic = MagicV2
	}

	be.PutUint32(rec[offTotalSize:], uint32(n))
	be.PutUint32(rec[offMagic:], uint32(magic))
	be.PutUint32(rec[offBodyCRC:], crc32.ChecksumIEEE(m.Body))
	be.PutUint32(rec[offQueueID:], uint32(m.QueueID))
	be.PutUint32(rec[offFlag:], uint32(m.Flag))
	be.PutUint64(rec[offQueueOffset:], uint64(m.QueueOffset))
	be.PutUint64(rec[offPhysicalOffset:], uint64(m.PhysicalOffset))
	be.PutUint32(rec[offSysFlag:], uint32(sysFlag))
	be.PutUint64(rec[offBornTimestamp:], uint64(m.BornTimestamp))
	p := offBornHost + putHost(rec[offBornHost:], m.BornHost, bornV6)
	be.PutUint64(rec[p:], uint64(m.StoreTimestamp))
	p += 8
	p += putHost(rec[p:], m.StoreHost, storeV6)
	be.PutUint32(rec[p:], uint32(m.ReconsumeTimes))
	be.PutUint64(rec[p+4:], uint64(m.PreparedTransactionOffset))
	be.PutUint32(rec[p+12:], uint32(len(m.Body)))
	p += 16
	p += copy(rec[p:], m.Body)
	if magic == MagicV1 {
		rec[p] = byte(len(m.Topic))
		p++
	} else {
		be.PutUint16(rec[p:], uint16(len(m.Topic)))
		p += 2
	}
	p += copy(rec[p:], m.Topic)
	be.PutUint16(rec[p:], uint16(len(m.Properties)+len(propsTail)))
	p += 2
	p += copy(rec[p:], m.Properties)
	copy(rec[p:], propsTail)
	return dst
}

// putHost writes ip + int32 port and returns the bytes written. The zero
// AddrPort is written as 0.0.0.0:0.
func putHost(b []byte, h netip.AddrPort, v6 bool) int {
	a := h.Addr()
	if v6 {
		ip := a.As16()
		copy(b, ip[:])
		binary.BigEndian.PutUint32(b[16:], uint32(h.Port()))
		return hostBytesV6
	}
	if a.Is4() {
		ip := a.As4()
		copy(b, ip[:])
	} else {
		clear(b[:4])
	}
	binary.BigEndian.PutUint32(b[4:], uint32(h.Port()))
	return hostBytesV4
}

// readHost reads ip + int32 port; ok is false when the port is outside
// 0..65535 (no writer produces that).
func readHost(b []byte, v6 bool) (netip.AddrPort, bool) {
	var a netip.Addr
	var port int32
	if v6 {
		a = netip.AddrFrom16([16]byte(b[:16]))
		port = int32(binary.BigEndian.Uint32(b[16:]))
	} else {
		a = netip.AddrFrom4([4]byte(b[:4]))
		port = int32(binary.BigEndian.Uint32(b[4:]))
	}
	if port < 0 || port > 0xFFFF {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a, uint16(port)), true
}
