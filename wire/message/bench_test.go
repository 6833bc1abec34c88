package message

import "testing"

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
