package message

import (
	"bytes"
	"hash/crc32"
	"maps"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// seedRecords returns a few valid records for the fuzz seeds.
func seedRecords() [][]byte {
	m := sampleMessage()
	v6 := sampleMessage()
	v6.BornHost = netip.MustParseAddrPort("[2001:db8::1]:1234")
	v6.StoreHost = netip.MustParseAddrPort("[::ffff:10.0.0.1]:10911")
	long := sampleMessage()
	long.Topic = strings.Repeat("L", 200)
	empty := Message{}
	return [][]byte{AppendRecord(nil, &m), AppendRecord(nil, &v6), AppendRecord(nil, &long), AppendRecord(nil, &empty)}
}

func FuzzDecodeRecord(f *testing.F) {
	for _, rec := range seedRecords() {
		f.Add(rec)
	}
	f.Add([]byte{0, 0, 0x10, 0, 0xCB, 0xD4, 0x31, 0x94})
	f.Fuzz(func(t *testing.T, data []byte) {
		// Without the CRC check mutated bodies still decode, so the round
		// trip below sees far more inputs; the check is tested on its own.
		m, n, err := DecodeRecord(data, false)
		// The reader must not panic on anything.
		_ = RecordStoreTimestamp(data)
		_ = RecordProperties(data)
		if err != nil {
			return
		}
		if n < RecordBytesMin || n > len(data) || int(m.TotalSize) != n {
			t.Fatalf("n = %d, TotalSize = %d, len = %d", n, m.TotalSize, len(data))
		}
		rec := data[:n]
		_, _, crcErr := DecodeRecord(data, true)
		if (crcErr == nil) != (crc32.ChecksumIEEE(m.Body) == m.BodyCRC) {
			t.Fatalf("checkCRC result %v disagrees with the body CRC", crcErr)
		}
		if got := RecordStoreTimestamp(rec); got != m.StoreTimestamp {
			t.Fatalf("RecordStoreTimestamp = %d, DecodeRecord %d", got, m.StoreTimestamp)
		}
		if got := string(RecordProperties(rec)); got != m.Properties {
			t.Fatalf("RecordProperties = %q, DecodeRecord %q", got, m.Properties)
		}
		// Re-encoding gives a record that decodes to the same message (the
		// bytes may differ: a V2 record with a short topic re-encodes as V1).
		again := AppendRecord(nil, &m)
		m2, _, err := DecodeRecord(again, true)
		if err != nil {
			t.Fatalf("re-encoded record rejected: %v", err)
		}
		m2.TotalSize, m2.BodyCRC = m.TotalSize, m.BodyCRC
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip\n got %+v\nwant %+v", m2, m)
		}
	})
}

func FuzzDecodeBatch(f *testing.F) {
	f.Add(EncodeBatch([]BatchItem{{Flag: 1, Body: []byte("a"), Properties: "K\x01v\x02"}}))
	f.Add(EncodeBatch([]BatchItem{{}, {Body: []byte("body two")}, {Properties: "UNIQ_KEY\x01X\x02"}}))
	f.Add([]byte{0, 0, 0, 22})
	f.Fuzz(func(t *testing.T, data []byte) {
		items, err := DecodeBatch(data)
		view, viewErr := DecodeBatchView(nil, data)
		if (err == nil) != (viewErr == nil) || !reflect.DeepEqual(view, items) {
			t.Fatalf("DecodeBatchView %+v, %v; DecodeBatch %+v, %v", view, viewErr, items, err)
		}
		if err != nil {
			return
		}
		if len(items) == 0 {
			t.Fatalf("no items and no error")
		}
		sameSize := true
		for _, it := range items {
			sameSize = sameSize && len(it.Body)+len(it.Properties) == len(items[0].Body)+len(items[0].Properties)
		}
		if n := EstimateBatchItems(data); n < 1 || sameSize && n != len(items) {
			t.Fatalf("EstimateBatchItems %d for %d items (all of one size: %v)", n, len(items), sameSize)
		}
		again, err := DecodeBatch(EncodeBatch(items))
		if err != nil || !reflect.DeepEqual(again, items) {
			t.Fatalf("re-encode: %v\n got %+v\nwant %+v", err, again, items)
		}
		// The send path encodes items through a RecordTemplate: its records
		// must be AppendRecordTail's.
		m := sampleMessage()
		var tmpl RecordTemplate
		tmpl.Reset(&m)
		for _, it := range items {
			m.Flag, m.Body, m.Properties = it.Flag, it.Body, it.Properties
			if got, want := tmpl.Append(nil, it.Flag, it.Body, it.Properties, "C\x01c\x02"), AppendRecordTail(nil, &m, "C\x01c\x02"); !bytes.Equal(got, want) {
				t.Fatalf("template record %x, want %x", got, want)
			}
		}
	})
}

func FuzzParseProperties(f *testing.F) {
	f.Add("TAGS\x01TagA\x02KEYS\x01k1 k2\x02", "TAGS")
	f.Add("A\x01b\x01c\x02\x01x\x02y\x01\x02A\x01z", "A")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, s, key string) {
		m := ParseProperties(s)
		for k, v := range m {
			if got, ok := PropertyValue(s, k); !ok || got != v {
				t.Fatalf("PropertyValue(%q) = %q,%v, map has %q", k, got, ok, v)
			}
		}
		v, ok := PropertyValue(s, key)
		if mv, mok := m[key]; mok != ok || mv != v {
			t.Fatalf("PropertyValue(%q) = %q,%v, map has %q,%v", key, v, ok, mv, mok)
		}
		if back := ParseProperties(FormatProperties(m)); !maps.Equal(back, m) {
			t.Fatalf("format/parse round trip changed %q to %q", m, back)
		}
		if got := ParseProperties(RemoveProperty(s, key)); validKey(key) {
			want := maps.Clone(m)
			delete(want, key)
			if !maps.Equal(got, want) {
				t.Fatalf("RemoveProperty(%q) left %q", key, got)
			}
		}
	})
}

func FuzzParseOffsetMsgID(f *testing.F) {
	f.Add("7F000001000051AF0000000000000000")
	f.Add("20010db8000000000000000000000001000051af00000000000000ff")
	f.Add("7F000001FFFFFFFF0000000000000000")
	f.Fuzz(func(t *testing.T, id string) {
		host, off, err := ParseOffsetMsgID(id)
		if err != nil {
			return
		}
		if got := OffsetMsgID(host, off); got != strings.ToUpper(id) {
			t.Fatalf("OffsetMsgID(ParseOffsetMsgID(%q)) = %q", id, got)
		}
	})
}
