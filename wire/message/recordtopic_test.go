package message

import (
	"net/netip"
	"testing"
)

// TestRecordTopicAndQueue reads the header fields of records of both magics
// and host kinds, and nothing from truncated ones.
func TestRecordTopicAndQueue(t *testing.T) {
	v4 := netip.MustParseAddrPort("127.0.0.1:10911")
	v6 := netip.MustParseAddrPort("[::1]:10911")
	long := string(make([]byte, TopicBytesMaxV1+1)) // forces the V2 magic
	for _, m := range []Message{
		{Topic: "TopicA", QueueID: 3, QueueOffset: 77, SysFlag: TransactionCommit, BornHost: v4, StoreHost: v4, Body: []byte("body"), Properties: "KEYS\x01k\x02"},
		{Topic: "TopicB", QueueID: 0, QueueOffset: 1, BornHost: v6, StoreHost: v6},
		{Topic: long, QueueID: 9, QueueOffset: 5, BornHost: v4, StoreHost: v6, Body: []byte("x")},
	} {
		m.SysFlag |= hostFlags(m.BornHost, m.StoreHost)
		rec := AppendRecord(nil, &m)
		if got := string(RecordTopic(rec)); got != m.Topic {
			t.Errorf("RecordTopic = %q, want %q", got, m.Topic)
		}
		if topic, props := RecordTopicProperties(rec); string(topic) != m.Topic || string(props) != m.Properties {
			t.Errorf("RecordTopicProperties = %q %q, want %q %q", topic, props, m.Topic, m.Properties)
		}
		q, off, flag, ok := RecordQueue(rec)
		if !ok || q != m.QueueID || off != m.QueueOffset || flag != m.SysFlag {
			t.Errorf("RecordQueue = %d %d %d %v, want %d %d %d", q, off, flag, ok, m.QueueID, m.QueueOffset, m.SysFlag)
		}
		for n := range len(rec) - 1 {
			if topic := RecordTopic(rec[:n]); topic != nil && len(topic) != len(m.Topic) {
				t.Fatalf("RecordTopic of %d of %d bytes = %q", n, len(rec), topic)
			}
		}
	}
}

func hostFlags(born, store netip.AddrPort) int32 {
	var f int32
	if born.Addr().Is6() {
		f |= SysFlagBornHostV6
	}
	if store.Addr().Is6() {
		f |= SysFlagStoreHostV6
	}
	return f
}

func FuzzRecordTopic(f *testing.F) {
	m := Message{Topic: "T", QueueID: 1, QueueOffset: 2, BornHost: netip.MustParseAddrPort("127.0.0.1:1"),
		StoreHost: netip.MustParseAddrPort("127.0.0.1:2"), Body: []byte("b")}
	f.Add(AppendRecord(nil, &m))
	f.Fuzz(func(t *testing.T, rec []byte) {
		topic := RecordTopic(rec) // must not panic
		topic2, props := RecordTopicProperties(rec)
		if string(topic2) != string(topic) || string(props) != string(RecordProperties(rec)) {
			t.Fatalf("RecordTopicProperties %q %q, RecordTopic %q, RecordProperties %q", topic2, props, topic, RecordProperties(rec))
		}
		m, n, err := DecodeRecord(rec, false)
		if err == nil && string(RecordTopic(rec[:n])) != m.Topic {
			t.Fatalf("RecordTopic %q, DecodeRecord %q", topic, m.Topic)
		}
		RecordQueue(rec)
	})
}
