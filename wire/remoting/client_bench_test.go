package remoting

import "testing"

// goClientSend is a SEND_MESSAGE (code 10, full field names) as
// rocketmq-client-go v2.1.2 builds it for a 128-byte message with tags and
// keys (client-quirks A3; wire-protocol.md §6.1).
func goClientSend(serializeType byte) *Command {
	return &Command{
		Code: ReqSendMessage, Language: LanguageGo, Version: 317, Opaque: 123456, SerializeType: serializeType,
		ExtFields: map[string]string{
			"producerGroup": "PG_bench", "topic": "BenchTopic", "queueId": "3", "sysFlag": "0",
			"bornTimestamp": "1795238031504", "flag": "0", "reconsumeTimes": "0", "unitMode": "false",
			"maxReconsumeTimes": "0", "defaultTopic": "TBW102", "defaultTopicQueueNums": "4", "batch": "false",
			"properties": "UNIQ_KEY\x01C0000202705D00000000681372a80001\x02WAIT\x01true\x02TAGS\x01TagA\x02KEYS\x01order-1\x02",
		},
		Body: make([]byte, 128),
	}
}

// serializeTypes are the two header codecs: JSON (the Go client's default)
// and ROCKETMQ (binary).
var serializeTypes = []struct {
	name string
	typ  byte
}{{"json", SerializeJSON}, {"rocketmq", SerializeRocketMQ}}

// BenchmarkEncodeGoClientSend encodes the Go client's send request frame
// into a reused buffer (what mqbench and the broker's client transport do).
func BenchmarkEncodeGoClientSend(b *testing.B) {
	for _, st := range serializeTypes {
		b.Run(st.name, func(b *testing.B) {
			c := goClientSend(st.typ)
			buf := AppendFrame(nil, c)
			b.ReportAllocs()
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				buf = AppendFrame(buf[:0], c)
			}
		})
	}
}

// BenchmarkDecodeGoClientSend decodes the Go client's send request frame:
// header into a Command with its 13 fields in the send-field array
// (sendext.go), body copied (what every gnet loop does per send).
func BenchmarkDecodeGoClientSend(b *testing.B) {
	for _, st := range serializeTypes {
		b.Run(st.name, func(b *testing.B) {
			frame := AppendFrame(nil, goClientSend(st.typ))
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			for b.Loop() {
				c, err := DecodeFrame(frame)
				if err != nil || c.send == nil || c.send.set != 1<<13-1 {
					b.Fatalf("decode: %v", err)
				}
			}
		})
	}
}
