package message

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
)

// TestRecordTemplateMatchesAppendRecord checks that every record a
// RecordTemplate writes is the one AppendRecordTail writes for the same
// message, across host families, topic lengths and empty fields.
func TestRecordTemplateMatchesAppendRecord(t *testing.T) {
	v6 := netip.MustParseAddrPort("[2001:db8::1]:1234")
	tests := []struct {
		name  string
		edit  func(m *Message)
		props string
		tail  string
	}{
		{name: "ipv4 hosts", tail: "CLUSTER\x01DefaultCluster\x02"},
		{name: "ipv6 born host", edit: func(m *Message) { m.BornHost = v6 }, props: "KEYS\x01k1\x02"},
		{name: "ipv6 store host", edit: func(m *Message) { m.StoreHost = v6 }, props: "TAGS\x01A\x02", tail: "\x02CLUSTER\x01c\x02"},
		{name: "both ipv6", edit: func(m *Message) { m.BornHost, m.StoreHost = v6, v6 }},
		{name: "zero hosts", edit: func(m *Message) { m.BornHost, m.StoreHost = netip.AddrPort{}, netip.AddrPort{} }},
		{name: "v2 topic", edit: func(m *Message) { m.Topic = strings.Repeat("t", TopicBytesMaxV1+1) }, tail: "CLUSTER\x01c\x02"},
		{name: "longest v1 topic", edit: func(m *Message) { m.Topic = strings.Repeat("t", TopicBytesMaxV1) }},
		{name: "empty topic", edit: func(m *Message) { m.Topic = "" }},
	}
	bodies := [][]byte{nil, []byte("x"), bytes.Repeat([]byte("body"), 300)}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := sampleMessage()
			if tc.edit != nil {
				tc.edit(&m)
			}
			var tmpl RecordTemplate
			tmpl.Reset(&m)
			got, want := []byte("prefix"), []byte("prefix")
			for i, body := range bodies {
				m.Flag, m.Body, m.Properties = int32(i)-1, body, tc.props
				got = tmpl.Append(got, m.Flag, body, tc.props, tc.tail)
				want = AppendRecordTail(want, &m, tc.tail)
				if !bytes.Equal(got, want) {
					t.Fatalf("record %d differs:\n got %x\nwant %x", i, got, want)
				}
				if n := tmpl.RecordLen(body, tc.props, tc.tail); n != RecordLen(&m)+len(tc.tail) {
					t.Fatalf("RecordLen %d, want %d", n, RecordLen(&m)+len(tc.tail))
				}
			}
		})
	}
}

// TestRecordTemplateReset checks that a reused template forgets the
// previous message's fields.
func TestRecordTemplateReset(t *testing.T) {
	var tmpl RecordTemplate
	long := sampleMessage()
	long.Topic, long.BornHost = strings.Repeat("t", 200), netip.MustParseAddrPort("[2001:db8::1]:1234")
	tmpl.Reset(&long)
	m := sampleMessage()
	tmpl.Reset(&m)
	if got, want := tmpl.Append(nil, m.Flag, m.Body, m.Properties, ""), AppendRecord(nil, &m); !bytes.Equal(got, want) {
		t.Fatalf("after Reset:\n got %x\nwant %x", got, want)
	}
}

// TestRecordTemplateMixedItems checks the records of one template whose
// items alternate between no properties and their own, and between
// property tails, across Resets to the same and to another topic (the
// template keeps the suffix of items without properties between them).
func TestRecordTemplateMixedItems(t *testing.T) {
	tails := []string{"CLUSTER\x01DefaultCluster\x02", "", "\x02CLUSTER\x01c\x02", "CLUSTER\x01DefaultCluster\x02"}
	props := []string{"", "", "KEYS\x01k1\x02", ""}
	var tmpl RecordTemplate
	got, want := []byte(nil), []byte(nil)
	for _, topic := range []string{"TopicA", "TopicA", strings.Repeat("t", TopicBytesMaxV1+1), "B"} {
		m := sampleMessage()
		m.Topic = topic
		tmpl.Reset(&m)
		for i, body := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("body"), 40), []byte("yz")} {
			m.Flag, m.Body, m.Properties = int32(i), body, props[i]
			got = tmpl.Append(got, m.Flag, body, props[i], tails[i])
			want = AppendRecordTail(want, &m, tails[i])
			if !bytes.Equal(got, want) {
				t.Fatalf("topic %.10s record %d differs:\n got %x\nwant %x", topic, i, got, want)
			}
		}
	}
}
