package message

import (
	"net/netip"
	"testing"
)

// goClientProperties is what rocketmq-client-go v2.1.2 sends for a single
// message with tags and keys (client-quirks A3): UNIQ_KEY in its mixed-case
// form, WAIT, TAGS, KEYS.
const goClientProperties = "UNIQ_KEY\x01C0000202705D00000000681372a80001\x02WAIT\x01true\x02TAGS\x01TagA\x02KEYS\x01order-1\x02"

// goClientMessage is a 128-byte-body message as the topic actor encodes it
// (CLUSTER added, §6.1 step 9).
func goClientMessage() Message {
	return Message{
		QueueID:        3,
		QueueOffset:    1000,
		PhysicalOffset: 1 << 30,
		BornTimestamp:  1700000000123,
		BornHost:       netip.MustParseAddrPort("192.0.2.2:28835"),
		StoreTimestamp: 1700000000456,
		StoreHost:      netip.MustParseAddrPort("127.0.0.1:10911"),
		Body:           make([]byte, 128),
		Topic:          "BenchTopic",
		Properties:     goClientProperties + "CLUSTER\x01DefaultCluster\x02",
	}
}

// BenchmarkAppendRecord128 encodes one record (CRC included) into a reused
// buffer, as the topic actor does into its pooled buffer.
func BenchmarkAppendRecord128(b *testing.B) {
	m := goClientMessage()
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	b.SetBytes(int64(RecordLen(&m)))
	for b.Loop() {
		buf = AppendRecord(buf[:0], &m)
	}
}

// BenchmarkDecodeRecord128 decodes one record as the broker-internal readers
// do (delay levels, retries, transactions, VIEW_MESSAGE), with and without
// the CRC check.
func BenchmarkDecodeRecord128(b *testing.B) {
	m := goClientMessage()
	rec := AppendRecord(nil, &m)
	for _, crc := range []bool{true, false} {
		name := "crc"
		if !crc {
			name = "nocrc"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(rec)))
			for b.Loop() {
				if _, _, err := DecodeRecord(rec, crc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPropertyLookup finds TAGS in a Go client's properties (the send
// path's tag hash code, the SQL92 filter's reads).
func BenchmarkPropertyLookup(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if v, ok := PropertyValue(goClientProperties, PropertyTags); !ok || v != "TagA" {
			b.Fatal("TAGS missing")
		}
	}
}

// BenchmarkStoredProperties is the topic actor's per-message property edit:
// strip POP_CK (absent, so no copy) and set CLUSTER (one new string).
func BenchmarkStoredProperties(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		p := RemoveProperty(goClientProperties, "POP_CK")
		_ = SetProperty(p, PropertyCluster, "DefaultCluster")
	}
}

// BenchmarkParseProperties builds the full map (the allocation-heavy form
// PropertyValue avoids), for comparison.
func BenchmarkParseProperties(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if len(ParseProperties(goClientProperties)) != 4 {
			b.Fatal("want 4 properties")
		}
	}
}
