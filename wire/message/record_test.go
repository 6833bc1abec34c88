package message

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func sampleMessage() Message {
	return Message{
		QueueID:                   3,
		Flag:                      7,
		QueueOffset:               42,
		PhysicalOffset:            1 << 33,
		SysFlag:                   TransactionCommit | SysFlagMultiTags,
		BornTimestamp:             1700000000123,
		BornHost:                  netip.MustParseAddrPort("192.0.2.2:28835"),
		StoreTimestamp:            1700000000456,
		StoreHost:                 netip.MustParseAddrPort("127.0.0.1:20911"),
		ReconsumeTimes:            2,
		PreparedTransactionOffset: 99,
		Body:                      []byte("hello body"),
		Topic:                     "T1",
		Properties:                "TAGS\x01TagA\x02UNIQ_KEY\x01ABC\x02",
	}
}

func TestRecordRoundTrip(t *testing.T) {
	v6Born := netip.MustParseAddrPort("[2001:db8::1]:1234")
	v6Store := netip.MustParseAddrPort("[2001:db8::2]:10911")
	tests := []struct {
		name      string
		edit      func(m *Message)
		wantMagic int32
		wantLen   int
	}{
		{name: "ipv4", edit: func(*Message) {}, wantMagic: MagicV1, wantLen: 91 + 10 + 2 + 23},
		{name: "ipv6 born", edit: func(m *Message) { m.BornHost = v6Born }, wantMagic: MagicV1, wantLen: 103 + 10 + 2 + 23},
		{name: "ipv6 store", edit: func(m *Message) { m.StoreHost = v6Store }, wantMagic: MagicV1, wantLen: 103 + 10 + 2 + 23},
		{name: "ipv6 both", edit: func(m *Message) { m.BornHost, m.StoreHost = v6Born, v6Store }, wantMagic: MagicV1, wantLen: 115 + 10 + 2 + 23},
		{name: "ipv4-mapped ipv6 stays ipv6", edit: func(m *Message) {
			m.StoreHost = netip.MustParseAddrPort("[::ffff:10.0.0.1]:10911")
		}, wantMagic: MagicV1, wantLen: 103 + 10 + 2 + 23},
		{name: "topic 127 is V1", edit: func(m *Message) { m.Topic = strings.Repeat("t", 127) }, wantMagic: MagicV1, wantLen: 91 + 10 + 127 + 23},
		{name: "topic 128 is V2", edit: func(m *Message) { m.Topic = strings.Repeat("t", 128) }, wantMagic: MagicV2, wantLen: 92 + 10 + 128 + 23},
		{name: "V2 long retry topic", edit: func(m *Message) { m.Topic = "%RETRY%" + strings.Repeat("g", 248) }, wantMagic: MagicV2, wantLen: 92 + 10 + 255 + 23},
		{name: "empty body", edit: func(m *Message) { m.Body = nil }, wantMagic: MagicV1, wantLen: 91 + 2 + 23},
		{name: "empty properties", edit: func(m *Message) { m.Properties = "" }, wantMagic: MagicV1, wantLen: 91 + 10 + 2},
		{name: "all empty", edit: func(m *Message) { m.Body, m.Topic, m.Properties = nil, "", "" }, wantMagic: MagicV1, wantLen: 91},
		{name: "stale v6 flags cleared", edit: func(m *Message) { m.SysFlag |= SysFlagBornHostV6 | SysFlagStoreHostV6 }, wantMagic: MagicV1, wantLen: 91 + 10 + 2 + 23},
		{name: "max properties", edit: func(m *Message) { m.Properties = strings.Repeat("p", PropertiesBytesMax) }, wantMagic: MagicV1, wantLen: 91 + 10 + 2 + PropertiesBytesMax},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := sampleMessage()
			tc.edit(&m)
			if err := CheckLimits(&m); err != nil {
				t.Fatalf("CheckLimits: %v", err)
			}
			if got := RecordLen(&m); got != tc.wantLen {
				t.Fatalf("RecordLen = %d, want %d", got, tc.wantLen)
			}
			prefix := []byte("prefix")
			rec := AppendRecord(bytes.Clone(prefix), &m)
			if !bytes.Equal(rec[:len(prefix)], prefix) {
				t.Fatalf("prefix overwritten")
			}
			rec = rec[len(prefix):]
			if len(rec) != tc.wantLen {
				t.Fatalf("len = %d, want %d", len(rec), tc.wantLen)
			}
			if magic := int32(binary.BigEndian.Uint32(rec[4:])); magic != tc.wantMagic {
				t.Fatalf("magic = %#x, want %#x", uint32(magic), uint32(tc.wantMagic))
			}
			// Trailing bytes after the record must be ignored.
			got, n, err := DecodeRecord(append(bytes.Clone(rec), 0xAA, 0xBB), true)
			if err != nil {
				t.Fatalf("DecodeRecord: %v", err)
			}
			if n != len(rec) {
				t.Fatalf("n = %d, want %d", n, len(rec))
			}
			want := m
			want.TotalSize = int32(len(rec))
			want.BodyCRC = crc32.ChecksumIEEE(m.Body)
			want.SysFlag = m.SysFlag &^ (SysFlagBornHostV6 | SysFlagStoreHostV6)
			if m.BornHost.Addr().Is6() {
				want.SysFlag |= SysFlagBornHostV6
			}
			if m.StoreHost.Addr().Is6() {
				want.SysFlag |= SysFlagStoreHostV6
			}
			if len(want.Body) == 0 {
				want.Body = nil
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("decoded\n got %+v\nwant %+v", got, want)
			}
			// The single-field reader agrees with the full decode.
			if got := RecordStoreTimestamp(rec); got != want.StoreTimestamp {
				t.Fatalf("RecordStoreTimestamp = %d, want %d", got, want.StoreTimestamp)
			}
			if got := string(RecordProperties(rec)); got != want.Properties {
				t.Fatalf("RecordProperties = %q, want %q", got, want.Properties)
			}
			// Re-encoding the decoded message gives the same bytes.
			if again := AppendRecord(nil, &got); !bytes.Equal(again, rec) {
				t.Fatalf("re-encode differs")
			}
		})
	}
}

// TestRecordFieldOffsets builds a V1/IPv4 record by hand from the layout
// table in storage-format.md §3 and checks AppendRecord byte for byte.
func TestRecordFieldOffsets(t *testing.T) {
	m := Message{
		QueueID: 0x01020304, Flag: 0x05060708, QueueOffset: 0x1112131415161718,
		PhysicalOffset: 0x2122232425262728, SysFlag: TransactionPrepared,
		BornTimestamp: 0x3132333435363738, BornHost: netip.MustParseAddrPort("10.1.2.3:4660"),
		StoreTimestamp: 0x4142434445464748, StoreHost: netip.MustParseAddrPort("127.0.0.1:20911"),
		ReconsumeTimes: 0x51525354, PreparedTransactionOffset: 0x6162636465666768,
		Body: []byte("abc"), Topic: "TopicX", Properties: "a\x01b\x02",
	}
	want := []byte{
		0, 0, 0, 104, // 0 TOTALSIZE = 91 + 3 + 6 + 4
		0xDA, 0xA3, 0x20, 0xA7, // 4 MAGICCODE V1
		0x35, 0x24, 0x41, 0xC2, // 8 BODYCRC crc32("abc")
		1, 2, 3, 4, // 12 QUEUEID
		5, 6, 7, 8, // 16 FLAG
		0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, // 20 QUEUEOFFSET
		0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, // 28 PHYSICALOFFSET
		0, 0, 0, 4, // 36 SYSFLAG
		0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, // 40 BORNTIMESTAMP
		10, 1, 2, 3, 0, 0, 0x12, 0x34, // 48 BORNHOST
		0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, // 56 STORETIMESTAMP
		127, 0, 0, 1, 0, 0, 0x51, 0xAF, // 64 STOREHOST
		0x51, 0x52, 0x53, 0x54, // 72 RECONSUMETIMES
		0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, // 76 PREPARED TRANSACTION OFFSET
		0, 0, 0, 3, 'a', 'b', 'c', // 84 BODYLEN + BODY
		6, 'T', 'o', 'p', 'i', 'c', 'X', // 91 TOPICLEN + TOPIC
		0, 4, 'a', 1, 'b', 2, // 98 PROPERTIESLEN + PROPERTIES
	}
	got := AppendRecord(nil, &m)
	if !bytes.Equal(got, want) {
		t.Fatalf("record bytes\n got % x\nwant % x", got, want)
	}
	if _, _, err := DecodeRecord(want, true); err != nil {
		t.Fatalf("DecodeRecord: %v", err)
	}
}

func TestPatchStored(t *testing.T) {
	for _, tc := range []struct {
		name   string
		born   string
		tsOffs int
	}{
		{name: "ipv4 born host", born: "10.0.0.1:1", tsOffs: 56},
		{name: "ipv6 born host", born: "[2001:db8::1]:1", tsOffs: 68},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := sampleMessage()
			m.BornHost = netip.MustParseAddrPort(tc.born)
			rec := AppendRecord(nil, &m)
			PatchStored(rec, 1000, 2000, 3000)
			if v := int64(binary.BigEndian.Uint64(rec[20:])); v != 1000 {
				t.Fatalf("QUEUEOFFSET = %d", v)
			}
			if v := int64(binary.BigEndian.Uint64(rec[28:])); v != 2000 {
				t.Fatalf("PHYSICALOFFSET = %d", v)
			}
			if v := int64(binary.BigEndian.Uint64(rec[tc.tsOffs:])); v != 3000 {
				t.Fatalf("STORETIMESTAMP at %d = %d", tc.tsOffs, v)
			}
			got, _, err := DecodeRecord(rec, true)
			if err != nil {
				t.Fatalf("DecodeRecord after patch: %v", err)
			}
			if got.QueueOffset != 1000 || got.PhysicalOffset != 2000 || got.StoreTimestamp != 3000 ||
				got.BornHost != m.BornHost || got.StoreHost != m.StoreHost {
				t.Fatalf("patched record decodes to %+v", got)
			}
		})
	}
	// Too short: untouched, no panic.
	short := make([]byte, 50)
	PatchStored(short, 1, 2, 3)
	if !bytes.Equal(short, make([]byte, 50)) {
		t.Fatalf("short slice modified")
	}
}

func TestDecodeRecordErrors(t *testing.T) {
	m := sampleMessage()
	good := AppendRecord(nil, &m)
	be := binary.BigEndian
	edit := func(f func(b []byte)) []byte { b := bytes.Clone(good); f(b); return b }
	tests := []struct {
		name     string
		in       []byte
		checkCRC bool
		want     error
	}{
		{name: "empty", in: nil, want: ErrTruncated},
		{name: "seven bytes", in: good[:7], want: ErrTruncated},
		{name: "cut record", in: good[:len(good)-1], want: ErrTruncated},
		{name: "bad magic", in: edit(func(b []byte) { be.PutUint32(b[4:], 0xDEADBEEF) }), want: ErrCorrupt},
		{name: "zero filled", in: make([]byte, 200), want: ErrCorrupt},
		{name: "size below minimum", in: edit(func(b []byte) { be.PutUint32(b, 90) }), want: ErrCorrupt},
		{name: "size too large for fields", in: append(edit(func(b []byte) { be.PutUint32(b, uint32(len(good)+1)) }), 0), want: ErrCorrupt},
		{name: "size too small for fields", in: edit(func(b []byte) { be.PutUint32(b, uint32(len(good)-1)) }), want: ErrCorrupt},
		{name: "negative body length", in: edit(func(b []byte) { be.PutUint32(b[84:], 0xFFFFFFFF) }), want: ErrCorrupt},
		{name: "body length past end", in: edit(func(b []byte) { be.PutUint32(b[84:], 1<<20) }), want: ErrCorrupt},
		{name: "v6 flag on v4 hosts", in: edit(func(b []byte) { b[39] |= byte(SysFlagBornHostV6) }), want: ErrCorrupt},
		{name: "bad port", in: edit(func(b []byte) { be.PutUint32(b[52:], 70000) }), want: ErrCorrupt},
		{name: "V1 topic length above 127", in: v1TopicOf128(), want: ErrCorrupt},
		{name: "crc mismatch", in: edit(func(b []byte) { b[88] ^= 1 }), checkCRC: true, want: ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, n, err := DecodeRecord(tc.in, tc.checkCRC)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if n != 0 {
				t.Fatalf("n = %d on error", n)
			}
		})
	}
	// A flipped body byte passes without checkCRC.
	if _, _, err := DecodeRecord(edit(func(b []byte) { b[88] ^= 1 }), false); err != nil {
		t.Fatalf("checkCRC=false: %v", err)
	}
	// Every prefix of a good record fails cleanly.
	for i := range good {
		if _, _, err := DecodeRecord(good[:i], true); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("prefix %d: err = %v", i, err)
		}
	}
}

// v1TopicOf128 is a V1 record whose 1-byte topic length says 128 and whose
// sizes all add up, so only the V1 topic limit rejects it.
func v1TopicOf128() []byte {
	m := sampleMessage()
	m.Topic = strings.Repeat("t", 128)
	v2 := AppendRecord(nil, &m) // V2: 2-byte topic length at 98 (body is 10 bytes)
	const topicLenAt = 84 + 4 + 10
	rec := append(bytes.Clone(v2[:topicLenAt]), 128)
	rec = append(rec, v2[topicLenAt+2:]...)
	binary.BigEndian.PutUint32(rec[0:], uint32(len(rec)))
	magic := MagicV1
	binary.BigEndian.PutUint32(rec[4:], uint32(magic))
	return rec
}

func TestDecodeRecordBlank(t *testing.T) {
	b := make([]byte, 8)
	binary.BigEndian.PutUint32(b, 4096)
	blank := MagicBlank
	binary.BigEndian.PutUint32(b[4:], uint32(blank))
	_, n, err := DecodeRecord(b, true)
	if !errors.Is(err, ErrBlank) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrBlank only", err)
	}
	if n != 4096 {
		t.Fatalf("n = %d, want 4096", n)
	}
}

func TestCheckLimits(t *testing.T) {
	m := sampleMessage()
	m.Properties = strings.Repeat("p", PropertiesBytesMax+1)
	if err := CheckLimits(&m); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("properties: err = %v", err)
	}
	m = sampleMessage()
	m.Topic = strings.Repeat("t", TopicBytesMax+1)
	if err := CheckLimits(&m); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("topic: err = %v", err)
	}
}

// TestRecordStoreTimestampShortInput: a slice too short for the field reads
// as 0, never panics and never reads another field.
func TestRecordStoreTimestampShortInput(t *testing.T) {
	m := sampleMessage()
	rec := AppendRecord(nil, &m)
	for i := range 56 + 8 {
		if got := RecordStoreTimestamp(rec[:i]); got != 0 {
			t.Fatalf("RecordStoreTimestamp of %d bytes = %d, want 0", i, got)
		}
	}
	if got := RecordStoreTimestamp(rec[:56+8]); got != m.StoreTimestamp {
		t.Fatalf("RecordStoreTimestamp of 64 bytes = %d, want %d", got, m.StoreTimestamp)
	}
}

// TestRecordPropertiesShortInput: every prefix of a record shorter than the
// whole gives nil (the properties end the record), never a panic.
func TestRecordPropertiesShortInput(t *testing.T) {
	m := sampleMessage()
	rec := AppendRecord(nil, &m)
	if m.Properties == "" {
		t.Fatal("sample message has no properties")
	}
	for i := range len(rec) {
		if got := RecordProperties(rec[:i]); got != nil {
			t.Fatalf("RecordProperties of %d of %d bytes = %q, want nil", i, len(rec), got)
		}
	}
	if got := string(RecordProperties(rec)); got != m.Properties {
		t.Fatalf("RecordProperties = %q, want %q", got, m.Properties)
	}
}

func TestTransactionType(t *testing.T) {
	f := SysFlagCompressed | TransactionPrepared
	if TransactionType(f) != TransactionPrepared {
		t.Fatalf("TransactionType = %d", TransactionType(f))
	}
	f = SetTransactionType(f, TransactionCommit)
	if f != SysFlagCompressed|TransactionCommit {
		t.Fatalf("SetTransactionType = %#x", f)
	}
}

// TestAppendRecordTail: a record encoded with a properties tail is the record
// of the message with the joined properties.
func TestAppendRecordTail(t *testing.T) {
	m := sampleMessage()
	tail := "CLUSTER\x01DefaultCluster\x02"
	got := AppendRecordTail([]byte("prefix"), &m, tail)
	joined := m
	joined.Properties += tail
	if want := AppendRecord([]byte("prefix"), &joined); !bytes.Equal(got, want) {
		t.Fatalf("tail record differs:\n%x\n%x", got, want)
	}
	dec, _, err := DecodeRecord(got[len("prefix"):], true)
	if err != nil || dec.Properties != joined.Properties {
		t.Fatalf("decoded %q, %v", dec.Properties, err)
	}
}
