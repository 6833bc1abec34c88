package remoting

import (
	"maps"
	"testing"
)

// TestSendExt checks which headers the decoders keep in the field array
// (sendext.go) and that such a command reads, re-encodes and releases like
// one decoded into a map.
func TestSendExt(t *testing.T) {
	v2 := map[string]string{"a": "PG", "b": "TopicTest", "i": "KEYS\x01k\x02", "m": "false"}
	v1 := map[string]string{"producerGroup": "PG", "topic": "TopicTest", "properties": "KEYS\x01k\x02", "batch": "false", "brokerName": "b"}
	cases := []struct {
		name     string
		frame    []byte
		wantSend bool
		want     map[string]string
	}{
		{name: "V2 send, JSON", frame: AppendFrame(nil, &Command{Code: ReqSendMessageV2, ExtFields: v2}), wantSend: true, want: v2},
		{name: "V2 send, binary", frame: AppendFrame(nil, &Command{Code: ReqSendMessageV2, ExtFields: v2, SerializeType: SerializeRocketMQ}), wantSend: true, want: v2},
		{name: "batch send", frame: AppendFrame(nil, &Command{Code: ReqSendBatchMessage, ExtFields: v2}), wantSend: true, want: v2},
		{name: "V2 reply", frame: AppendFrame(nil, &Command{Code: ReqSendReplyMessageV2, ExtFields: v2}), wantSend: true, want: v2},
		{name: "V1 send, JSON", frame: AppendFrame(nil, &Command{Code: ReqSendMessage, ExtFields: v1}), wantSend: true, want: v1},
		{name: "V1 send, binary", frame: AppendFrame(nil, &Command{Code: ReqSendMessage, ExtFields: v1, SerializeType: SerializeRocketMQ}), wantSend: true, want: v1},
		{name: "V1 reply", frame: AppendFrame(nil, &Command{Code: ReqSendReplyMessage, ExtFields: v1}), wantSend: true, want: v1},
		{name: "V1 keys on a V2 code", frame: AppendFrame(nil, &Command{Code: ReqSendMessageV2, ExtFields: v1}), want: v1},
		{name: "V2 keys on a V1 code", frame: AppendFrame(nil, &Command{Code: ReqSendMessage, ExtFields: v2}), want: v2},
		{name: "other codes keep the map", frame: AppendFrame(nil, &Command{Code: ReqPullMessage, ExtFields: v2}), want: v2},
		{name: "a long key, JSON", frame: jsonFrame(`{"code":310,"extFields":{"a":"PG","bname":"b1","b":"T"}}`, ""),
			want: map[string]string{"a": "PG", "bname": "b1", "b": "T"}},
		{name: "a long key, binary", frame: AppendFrame(nil, &Command{Code: ReqSendMessageV2, SerializeType: SerializeRocketMQ,
			ExtFields: map[string]string{"a": "PG", "bname": "b1"}}), want: map[string]string{"a": "PG", "bname": "b1"}},
		{name: "an upper-case letter", frame: jsonFrame(`{"code":310,"extFields":{"a":"PG","B":"T"}}`, ""),
			want: map[string]string{"a": "PG", "B": "T"}},
		{name: "extFields before code", frame: jsonFrame(`{"extFields":{"a":"PG"},"code":310}`, ""),
			want: map[string]string{"a": "PG"}},
		{name: "null and duplicates", frame: jsonFrame(`{"code":320,"extFields":{"a":"x","b":"T","a":"y","b":null,"c":1,"c":null,"d":true}}`, ""),
			wantSend: true, want: map[string]string{"a": "y", "d": "true"}},
		{name: "repeated extFields", frame: jsonFrame(`{"code":10,"extFields":{"topic":"x"},"extFields":{"flag":"1"}}`, ""),
			wantSend: true, want: map[string]string{"flag": "1"}},
		{name: "empty object", frame: jsonFrame(`{"code":310,"extFields":{}}`, ""), wantSend: true, want: map[string]string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := DecodeFrame(tc.frame)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.send != nil; got != tc.wantSend {
				t.Fatalf("field array %v, want %v", got, tc.wantSend)
			}
			if tc.wantSend && c.ExtFields != nil {
				t.Fatalf("ExtFields %v beside the array", c.ExtFields)
			}
			if got := extMap(c); !maps.Equal(got, tc.want) {
				t.Fatalf("ext %v, want %v", got, tc.want)
			}
			walked := map[string]string{}
			c.EachExt(func(k, v string) { walked[k] = v })
			if !maps.Equal(walked, tc.want) {
				t.Fatalf("EachExt %v, want %v", walked, tc.want)
			}
			for k, v := range tc.want {
				if got, ok := c.Ext(k); got != v || ok != (v != "") {
					t.Errorf("Ext(%q) = %q, %v", k, got, ok)
				}
			}
			for _, k := range []string{"z", "queueId", "absent", ""} {
				if _, ok := c.Ext(k); ok {
					t.Errorf("Ext(%q) present", k)
				}
			}
			checkFrameRoundTrip(t, c)
			read := map[string]string{}
			for k := range tc.want {
				read[k], _ = c.Ext(k)
			}
			c.ReleaseExt()
			if c.send != nil || c.ExtFields != nil {
				t.Fatal("not released")
			}
			if _, ok := c.Ext("a"); ok {
				t.Fatal("released fields still readable")
			}
			// The next decode may reuse the array: what was read stays.
			if _, err := DecodeFrame(AppendFrame(nil, &Command{Code: ReqSendMessageV2, ExtFields: map[string]string{"a": "other"}})); err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(read, tc.want) {
				t.Fatalf("after release: %v, want %v", read, tc.want)
			}
		})
	}
}

// TestSendExtSetExt: SetExt on a decoded V2 header sets a one-letter key in
// the array and any other key in the map; both encode.
func TestSendExtSetExt(t *testing.T) {
	c, err := DecodeFrame(AppendFrame(nil, &Command{Code: ReqSendMessageV2, ExtFields: map[string]string{"a": "PG"}}))
	if err != nil {
		t.Fatal(err)
	}
	c.SetExt("a", "PG2")
	c.SetExt("bname", "broker-a")
	if v, _ := c.Ext("a"); v != "PG2" || c.ExtFields["a"] != "" {
		t.Fatalf("a = %q, map %v", v, c.ExtFields)
	}
	again, err := DecodeFrame(AppendFrame(nil, c))
	if err != nil {
		t.Fatal(err)
	}
	if got := extMap(again); !maps.Equal(got, map[string]string{"a": "PG2", "bname": "broker-a"}) {
		t.Fatalf("re-encoded %v", got)
	}
}

// BenchmarkDecodeSendV2Released decodes a Go-client SEND_MESSAGE_V2 and reads
// its fields the way the send handler does, then releases it (Release).
func BenchmarkDecodeSendV2Released(b *testing.B) {
	keys := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "l", "l", "m"}
	benchDecode(b, AppendFrame(nil, benchSendRequest()), func(c *Command) {
		for _, k := range keys {
			c.Ext(k)
		}
		c.Release()
	})
}

// TestSendBodyShareHeaderAllocation: a send's body is copied into its
// header's allocation, capacity clipped, and stays intact beside the header
// strings; peekCode finds the code only where it can tell.
func TestSendBodyShareHeaderAllocation(t *testing.T) {
	for _, st := range []byte{SerializeJSON, SerializeRocketMQ} {
		src := &Command{Code: ReqSendMessageV2, ExtFields: map[string]string{"b": "T", "i": "K\x01v\x02"}, Body: []byte("body"), SerializeType: st}
		frame := AppendFrame(nil, src)
		c, err := DecodeFrame(frame)
		if err != nil {
			t.Fatal(err)
		}
		clear(frame)
		if string(c.Body) != "body" || cap(c.Body) != len(c.Body) {
			t.Fatalf("codec %d: body %q cap %d", st, c.Body, cap(c.Body))
		}
		c.Body[0] = 'B'
		if v, _ := c.Ext("i"); v != "K\x01v\x02" {
			t.Fatalf("codec %d: header %q after a body write", st, v)
		}
		if n := testing.AllocsPerRun(50, func() {
			c, _ := DecodeFrame(AppendFrame(frame[:0], src))
			c.ReleaseExt()
		}); n > 2 {
			t.Errorf("codec %d: %v allocations per send decode, want 2 (Command, header with body)", st, n)
		}
	}
	for _, tc := range []struct {
		header string
		want   int32
	}{
		{header: `{"code":310,"flag":0}`, want: 310},
		{header: `{"code":10}`, want: 10},
		{header: `{"code":31`, want: 31},
		{header: `{ "code":310}`, want: 0},
		{header: `{"flag":0,"code":310}`, want: 0},
		{header: `{"code":"310"}`, want: 0},
		{header: ``, want: 0},
	} {
		if got := peekCode(SerializeJSON, []byte(tc.header)); got != tc.want {
			t.Errorf("peekCode(%q) = %d, want %d", tc.header, got, tc.want)
		}
	}
}
