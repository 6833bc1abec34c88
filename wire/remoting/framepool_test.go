package remoting

import (
	"bytes"
	"testing"
	"unsafe"
)

// sendFrame is a V2 send of body to topic, as the Go client writes it (JSON,
// properties with \u0001 escapes, so the header copy carries an arena).
func sendFrame(code int32, topic string, body []byte) []byte {
	return AppendFrame(nil, NewRequest(code, map[string]string{
		"a": "pg", "b": topic, "c": "TBW102", "d": "4", "e": "1", "f": "0", "g": "1795238031504",
		"h": "0", "i": "UNIQ_KEY\x01ABC\x02WAIT\x01true\x02", "j": "0", "k": "false", "l": "16", "m": "false",
	}, body))
}

func TestFrameClass(t *testing.T) {
	for _, tc := range []struct{ n, class int }{
		{0, 0}, {1, 0}, {1024, 0}, {1025, 1}, {2048, 1}, {2049, 2},
		{frameClasses.Max(), frameClasses.Count - 1}, {frameClasses.Max() + 1, -1},
	} {
		if got := frameClasses.For(tc.n); got != tc.class {
			t.Errorf("frameClasses.For(%d) = %d, want %d", tc.n, got, tc.class)
		}
	}
}

// TestDecodeSendPooled: a send request decodes into a pooled frame whose
// buffer holds its header strings and body; other requests, and sends too
// large for the pool, do not.
func TestDecodeSendPooled(t *testing.T) {
	for _, tc := range []struct {
		name   string
		frame  []byte
		pooled bool
	}{
		{"V2 send", sendFrame(ReqSendMessageV2, "T", []byte("hello")), true},
		{"batch", sendFrame(ReqSendBatchMessage, "T", bytes.Repeat([]byte("b"), 40<<10)), true},
		{"V2 send above the largest class", sendFrame(ReqSendMessageV2, "T", make([]byte, frameClasses.Max())), false},
		{"send without body", sendFrame(ReqSendMessageV2, "T", nil), false},
		{"pull with a body", AppendFrame(nil, NewRequest(ReqPullMessage, map[string]string{"topic": "T"}, []byte("x"))), true},
		{"query offset", AppendFrame(nil, NewRequest(ReqQueryConsumerOffset, map[string]string{"topic": "T"}, []byte("x"))), false},
		{"max offset", AppendFrame(nil, NewRequest(ReqGetMaxOffset, map[string]string{"topic": "T", "queueId": "3"}, nil)), true},
		{"min offset", AppendFrame(nil, NewRequest(ReqGetMinOffset, map[string]string{"topic": "T", "queueId": "3"}, nil)), true},
		// Responses never: nobody releases one, so its frame would be lost
		// to the GC (FLUSH_DISK_TIMEOUT is 10, SLAVE_NOT_AVAILABLE 11).
		{"JSON response of code 11", responseFrame(ReqPullMessage, SerializeJSON, nil), false},
		{"binary response of code 11", responseFrame(ReqPullMessage, SerializeRocketMQ, nil), false},
		{"JSON response of code 10 with a body", responseFrame(ReqSendMessage, SerializeJSON, []byte("x")), false},
		{"binary response of code 10 with a body", responseFrame(ReqSendMessage, SerializeRocketMQ, []byte("x")), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := DecodeFrame(tc.frame)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Release()
			if got := c.frame != nil; got != tc.pooled {
				t.Fatalf("pooled %v, want %v", got, tc.pooled)
			}
			if !tc.pooled {
				return
			}
			buf := c.frame.buf[:cap(c.frame.buf)]
			if len(c.Body) > 0 {
				if at := uintptr(unsafe.Pointer(&c.Body[0])) - uintptr(unsafe.Pointer(&buf[0])); at >= uintptr(len(buf)) {
					t.Fatal("body is not in the frame's buffer")
				}
			}
			key := "b"
			if c.Code == ReqPullMessage || c.Code == ReqGetMaxOffset || c.Code == ReqGetMinOffset {
				key = "topic"
			}
			if topic, _ := c.Ext(key); !bytes.Contains(buf, []byte(topic)) || topic != "T" {
				t.Fatalf("topic %q", topic)
			}
		})
	}
}

// TestReleaseRecyclesOrPoisons: after Release, a normal build hands the
// frame to the next send decode, which reads its own request only; a race
// build overwrites the buffer, so a string kept past Release reads garbage,
// and a second Release panics.
func TestReleaseRecyclesOrPoisons(t *testing.T) {
	c, err := DecodeFrame(sendFrame(ReqSendMessageV2, "FirstTopic", []byte("first body")))
	if err != nil {
		t.Fatal(err)
	}
	kept, _ := c.Ext("b")
	keptProps, _ := c.Ext("i")
	body := c.Body
	c.Release()
	if poisonReleased {
		if kept == "FirstTopic" || keptProps == "UNIQ_KEY\x01ABC\x02WAIT\x01true\x02" || string(body) == "first body" {
			t.Fatalf("released strings still read %q %q %q", kept, keptProps, body)
		}
		if kept[0] != poisonByte {
			t.Fatalf("topic after release %q", kept)
		}
		if c.Opaque != -0x5A5A5A5B || c.Body != nil {
			t.Fatalf("released command %+v", c)
		}
		defer func() {
			if recover() == nil {
				t.Fatal("second Release did not panic")
			}
		}()
		c.Release()
		return
	}
	d, err := DecodeFrame(sendFrame(ReqSendMessageV2, "Second", []byte("other")))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Release()
	topic, _ := d.Ext("b")
	props, _ := d.Ext("i")
	if topic != "Second" || string(d.Body) != "other" || props != "UNIQ_KEY\x01ABC\x02WAIT\x01true\x02" {
		t.Fatalf("decode after a Release: topic %q body %q props %q", topic, d.Body, props)
	}
	if d.Remark != "" || d.ExtFields != nil {
		t.Fatalf("state of the released command leaked: %+v", d)
	}
}

// TestDecodeSendAllocs: a send request decodes without allocating once the
// pools are warm (its field array, Command and buffer are recycled).
func TestDecodeSendAllocs(t *testing.T) {
	if poisonReleased {
		t.Skip("race builds never recycle released frames")
	}
	frame := sendFrame(ReqSendMessageV2, "T", make([]byte, 128))
	if allocs := decodeReleaseAllocs(t, frame); allocs != 0 {
		t.Fatalf("%v allocations per decode and release, want 0", allocs)
	}
}

// responseFrame is a response of code in the given codec, carrying a
// send's extFields and body.
func responseFrame(code int32, serializeType byte, body []byte) []byte {
	c := NewResponse(&Command{Opaque: 7}, code, "")
	c.ExtFields = map[string]string{"b": "T", "msgId": "X"}
	c.SerializeType = serializeType
	c.Body = body
	return AppendFrame(nil, c)
}

// pullFrame is a pull as the Go client writes it, in the given codec.
func pullFrame(group, topic string, serializeType byte) []byte {
	c := NewRequest(ReqPullMessage, map[string]string{
		"consumerGroup": group, "topic": topic, "queueId": "3", "queueOffset": "64", "maxMsgNums": "32",
		"sysFlag": "6", "commitOffset": "0", "suspendTimeoutMillis": "20000", "subscription": "*",
		"subVersion": "1795238031504", "expressionType": "TAG",
	}, nil)
	c.SerializeType = serializeType
	return AppendFrame(nil, c)
}

// TestPullReleasePoisons: a pull (no body) decodes into a pooled frame in
// either codec, its header strings in the frame's buffer; after Release a
// race build overwrites them, so a group or topic kept past Release (say,
// as a map key) reads garbage, and a normal build decodes the next pull
// into the recycled frame cleanly.
func TestPullReleasePoisons(t *testing.T) {
	for _, st := range []byte{SerializeJSON, SerializeRocketMQ} {
		c, err := DecodeFrame(pullFrame("FirstGroup", "FirstTopic", st))
		if err != nil {
			t.Fatal(err)
		}
		if c.frame == nil || c.Body != nil {
			t.Fatalf("codec %d: pooled %v, body %q", st, c.frame != nil, c.Body)
		}
		group, _ := c.Ext("consumerGroup")
		topic, _ := c.Ext("topic")
		buf := c.frame.buf[:cap(c.frame.buf)]
		if at := uintptr(unsafe.Pointer(unsafe.StringData(group))) - uintptr(unsafe.Pointer(&buf[0])); at >= uintptr(len(buf)) {
			t.Fatalf("codec %d: group is not in the frame's buffer", st)
		}
		c.Release()
		if poisonReleased {
			if group == "FirstGroup" || topic == "FirstTopic" || group[0] != poisonByte {
				t.Fatalf("codec %d: released strings still read %q %q", st, group, topic)
			}
			continue
		}
		d, err := DecodeFrame(pullFrame("OtherGroup", "OtherTopic", st))
		if err != nil {
			t.Fatal(err)
		}
		g, _ := d.Ext("consumerGroup")
		tp, _ := d.Ext("topic")
		if g != "OtherGroup" || tp != "OtherTopic" || len(d.ExtFields) != 11 {
			t.Fatalf("codec %d: decode after a Release: %q %q %v", st, g, tp, d.ExtFields)
		}
		d.Release()
	}
}

// TestDecodePullAllocs: a pull decodes without allocating once the pools
// are warm (its Command and buffer from the frame pool, its map from
// extPool).
func TestDecodePullAllocs(t *testing.T) {
	if poisonReleased {
		t.Skip("race builds never recycle released frames")
	}
	for _, st := range []byte{SerializeJSON, SerializeRocketMQ} {
		frame := pullFrame("BenchGroup", "Bench128", st)
		if allocs := decodeReleaseAllocs(t, frame); allocs != 0 {
			t.Fatalf("codec %d: %v allocations per decode and release, want 0", st, allocs)
		}
	}
}

// decodeReleaseAllocs is the allocations of one decode of frame and the
// release of its Command, as a handler does them, with warm pools.
func decodeReleaseAllocs(t *testing.T, frame []byte) float64 {
	t.Helper()
	return testing.AllocsPerRun(100, func() {
		c, err := DecodeFrame(frame)
		if err != nil {
			t.Fatal(err)
		}
		c.Release()
	})
}
