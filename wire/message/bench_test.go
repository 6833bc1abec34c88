package message

import (
	"net/netip"
	"testing"
)

func BenchmarkAppendRecord(b *testing.B) {
	m := sampleMessage()
	m.Body = make([]byte, 1024)
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	b.SetBytes(int64(RecordLen(&m)))
	for b.Loop() {
		buf = AppendRecord(buf[:0], &m)
	}
}

func BenchmarkDecodeRecord(b *testing.B) {
	m := sampleMessage()
	m.Body = make([]byte, 1024)
	rec := AppendRecord(nil, &m)
	b.ReportAllocs()
	b.SetBytes(int64(len(rec)))
	for b.Loop() {
		if _, _, err := DecodeRecord(rec, true); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPropertyValue(b *testing.B) {
	s := "KEYS\x01order-1 order-2\x02UNIQ_KEY\x01C0000202705D00000000681372a80001\x02WAIT\x01true\x02TAGS\x01TagA\x02"
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := PropertyValue(s, PropertyTags); !ok {
			b.Fatal("missing")
		}
	}
}

func BenchmarkTagsHashCode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = TagsHashCode("TagA")
	}
}

// BenchmarkBatchRecords compares the two ways of encoding the 64 records of
// a batch message of 128-byte items with the broker's CLUSTER tail: one
// AppendRecordTail per item, or a RecordTemplate reset once per batch.
func BenchmarkBatchRecords(b *testing.B) {
	const items = 64
	m := sampleMessage()
	m.Properties = ""
	body := make([]byte, 128)
	tail := "CLUSTER\x01DefaultCluster\x02"
	buf := make([]byte, 0, items*(RecordLen(&m)+len(body)+len(tail)))
	b.Run("AppendRecordTail", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = buf[:0]
			for range items {
				m.Body = body
				buf = AppendRecordTail(buf, &m, tail)
			}
		}
	})
	b.Run("RecordTemplate", func(b *testing.B) {
		b.ReportAllocs()
		var t RecordTemplate
		for b.Loop() {
			buf = buf[:0]
			t.Reset(&m)
			for range items {
				buf = t.Append(buf, m.Flag, body, "", tail)
			}
		}
	})
}

// BenchmarkAppendOffsetMsgIDs joins the 64 message ids of a batch answer,
// with AppendOffsetMsgID and, as the writer does, from a MsgIDPrefix.
func BenchmarkAppendOffsetMsgIDs(b *testing.B) {
	host := netip.MustParseAddrPort("127.0.0.1:10911")
	prefix := NewMsgIDPrefix(host)
	for _, c := range []struct {
		name string
		id   func(dst []byte, offset int64) []byte
	}{
		{"AppendOffsetMsgID", func(dst []byte, offset int64) []byte { return AppendOffsetMsgID(dst, host, offset) }},
		{"MsgIDPrefix", prefix.Append},
	} {
		b.Run(c.name, func(b *testing.B) {
			buf := make([]byte, 0, 64*(msgIDCharsV4+1))
			b.ReportAllocs()
			for b.Loop() {
				buf = buf[:0]
				for i := range int64(64) {
					if i > 0 {
						buf = append(buf, ',')
					}
					buf = c.id(buf, 1<<30+i*219)
				}
			}
		})
	}
}
