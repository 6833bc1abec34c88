package main

import (
	"bytes"
	"errors"
	"maps"
	"net/netip"
	"strconv"
	"testing"

	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// TestPullFrames: the encoder's PULL_MESSAGE frames carry the header the
// map-built request did, with JSON keys in the Go client's sorted order,
// and encoding one allocates nothing.
func TestPullFrames(t *testing.T) {
	q := queueRef{topic: "BenchTopic", broker: "127.0.0.1:10911", queueID: 5}
	var enc pullEncoder
	enc.init(32)
	var got []byte
	for _, offset := range []int64{0, 31, 1 << 40} {
		got = enc.append(got[:0], q, offset, 77)
		want := remoting.NewRequest(remoting.ReqPullMessage, map[string]string{
			"consumerGroup": "mqbench_cg", "topic": q.topic, "queueId": "5",
			"queueOffset": strconv.FormatInt(offset, 10), "maxMsgNums": "32",
			"sysFlag": strconv.Itoa(pullSysFlag), "commitOffset": "0", "suspendTimeoutMillis": strconv.Itoa(suspendMillis),
			"subscription": "*", "subVersion": "0", "expressionType": "TAG",
		}, nil)
		want.Opaque = 77
		g := decode(t, got)
		if g.Code != want.Code || g.Language != want.Language || g.Version != want.Version || g.Opaque != want.Opaque ||
			g.Flag != 0 || g.SerializeType != remoting.SerializeJSON || len(g.Body) != 0 {
			t.Fatalf("offset %d: header %+v, want %+v", offset, g, want)
		}
		if ge := extMap(g); !maps.Equal(ge, want.ExtFields) {
			t.Fatalf("offset %d: extFields %q, want %q", offset, ge, want.ExtFields)
		}
		if !bytes.Contains(got, []byte(`"extFields":{"commitOffset":"0","consumerGroup":"mqbench_cg","expressionType":"TAG","maxMsgNums":"32","queueId":"5","queueOffset":"`)) {
			t.Fatalf("offset %d: keys not in sorted order: %s", offset, got)
		}
	}
	if n := testing.AllocsPerRun(100, func() { got = enc.append(got[:0], q, 12345, 9) }); n != 0 {
		t.Fatalf("pull encode: %v allocs, want 0", n)
	}
}

// TestViewRecord: viewRecord reads what DecodeRecord reads of the fields
// the consumer uses, for IPv4 and IPv6 hosts and an empty body, and
// rejects what DecodeRecord rejects for size and magic.
func TestViewRecord(t *testing.T) {
	v4 := netip.MustParseAddrPort("10.0.0.1:1234")
	v6 := netip.MustParseAddrPort("[fe80::1]:10911")
	var body []byte
	for _, m := range []message.Message{
		{QueueID: 3, QueueOffset: 41, StoreTimestamp: 1795238031504, BornHost: v4, StoreHost: v4, Body: []byte("hello"), Topic: "T", Properties: "a\x01b\x02"},
		{QueueID: 7, QueueOffset: 1 << 40, StoreTimestamp: 99, BornHost: v6, StoreHost: v4, SysFlag: message.SysFlagBornHostV6, Body: []byte("x"), Topic: "TopicB"},
		{QueueID: 0, QueueOffset: 0, StoreTimestamp: 5, BornHost: v4, StoreHost: v6, SysFlag: message.SysFlagStoreHostV6, Topic: "C"},
	} {
		body = message.AppendRecord(body, &m)
	}
	for b := body; len(b) > 0; {
		want, wn, err := message.DecodeRecord(b, true)
		if err != nil {
			t.Fatal(err)
		}
		got, n, err := viewRecord(b)
		if err != nil || n != wn || got.queueID != want.QueueID || got.queueOffset != want.QueueOffset ||
			got.storeTimestamp != want.StoreTimestamp || !bytes.Equal(got.body, want.Body) {
			t.Fatalf("viewRecord = %+v, %d, %v; want %+v, %d", got, n, err, want, wn)
		}
		b = b[n:]
	}
	short := body[:40]
	if _, _, err := viewRecord(short); !errors.Is(err, message.ErrCorrupt) {
		t.Fatalf("short record: %v, want ErrCorrupt", err)
	}
	if _, _, err := viewRecord(body[:len(body)-1]); err != nil {
		t.Fatalf("first of cut records: %v", err) // the first record is whole
	}
	bad := bytes.Clone(body)
	bad[4] ^= 0xFF
	if _, _, err := viewRecord(bad); !errors.Is(err, message.ErrCorrupt) {
		t.Fatalf("bad magic: %v, want ErrCorrupt", err)
	}
	long := bytes.Clone(body)
	long[2] = 0x10 // TOTALSIZE past the buffer
	if _, _, err := viewRecord(long[:300]); !errors.Is(err, message.ErrCorrupt) {
		t.Fatalf("size past the end: %v, want ErrCorrupt", err)
	}
}
