package remoting

import "testing"

// TestReleaseExt checks that a released decoded header leaves the strings
// read from it intact and that a map the caller built is never recycled.
// (Send codes keep their fields in an array instead: sendext_test.go.)
func TestReleaseExt(t *testing.T) {
	src := &Command{Code: ReqPullMessage, ExtFields: map[string]string{"topic": "TopicTest", "queueId": "3"}}
	for _, st := range []byte{SerializeJSON, SerializeRocketMQ} {
		src.SerializeType = st
		c, err := DecodeFrame(AppendFrame(nil, src))
		if err != nil {
			t.Fatal(err)
		}
		topic := c.ExtFields["topic"]
		c.ReleaseExt()
		if c.ExtFields != nil {
			t.Fatalf("%d: ExtFields not cleared", st)
		}
		// Decoding again may hand out the released map; the old value and
		// the new header must both be intact.
		src.ExtFields["topic"] = "Other"
		again, err := DecodeFrame(AppendFrame(nil, src))
		if err != nil {
			t.Fatal(err)
		}
		if topic != "TopicTest" || again.ExtFields["topic"] != "Other" || len(again.ExtFields) != 2 {
			t.Fatalf("%d: topic %q, decoded again %v", st, topic, again.ExtFields)
		}
		src.ExtFields["topic"] = "TopicTest"
	}
	own := map[string]string{"k": "v"}
	c := &Command{ExtFields: own}
	c.ReleaseExt()
	if c.ExtFields != nil || own["k"] != "v" {
		t.Fatalf("caller's map touched: %v", own)
	}
}

// BenchmarkDecodeFrameJSONReleased decodes a send request the way the send
// path ends it: its pooled frame goes back with Release.
func BenchmarkDecodeFrameJSONReleased(b *testing.B) {
	benchDecode(b, AppendFrame(nil, benchSendRequest()), (*Command).Release)
}

// BenchmarkAppendFrameExt encodes the send response as the writer does: no
// map, integers formatted into the frame.
func BenchmarkAppendFrameExt(b *testing.B) {
	c := &Command{Code: RespSuccess, Language: LanguageGo, Version: Version, Opaque: 123456, Flag: FlagResponse}
	ext := []ExtField{
		{Key: "msgId", Str: "7F00000100002A9F00000000000003E8"}, {Key: "queueId", Int: 3, IsInt: true},
		{Key: "queueOffset", Int: 1000, IsInt: true}, {Key: "MSG_REGION", Str: "DefaultRegion"}, {Key: "TRACE_ON", Str: "true"},
	}
	buf := AppendFrameExt(nil, c, ext)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		buf = AppendFrameExt(buf[:0], c, ext)
	}
}
