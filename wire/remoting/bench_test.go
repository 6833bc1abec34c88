package remoting

import "testing"

// benchSendRequest is an ali-ons/Go-client sized SEND_MESSAGE_V2 request.
func benchSendRequest() *Command {
	return &Command{
		Code: ReqSendMessageV2, Language: "GO", Version: 317, Opaque: 123456,
		ExtFields: map[string]string{
			"a": "please_rename_unique_group_name", "b": "TopicTest", "c": "TBW102", "d": "4", "e": "3",
			"f": "0", "g": "1795238031504", "h": "0", "i": "KEYS\x01k1\x02TAGS\x01TagA\x02WAIT\x01true\x02",
			"j": "0", "k": "false", "m": "false",
		},
		Body: make([]byte, 128),
	}
}

// benchSendResponse is the matching SEND_MESSAGE response.
func benchSendResponse() *Command {
	return &Command{
		Code: RespSuccess, Language: LanguageGo, Version: Version, Opaque: 123456, Flag: FlagResponse,
		ExtFields: map[string]string{
			"msgId": "7F00000100002A9F00000000000003E8", "queueId": "3", "queueOffset": "1000",
			"transactionId": "", "MSG_REGION": "DefaultRegion", "TRACE_ON": "true",
		},
	}
}

func BenchmarkAppendFrameJSON(b *testing.B) {
	c := benchSendResponse()
	buf := AppendFrame(nil, c)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		buf = AppendFrame(buf[:0], c)
	}
}

func BenchmarkAppendFrameBinary(b *testing.B) {
	c := benchSendResponse()
	c.SerializeType = SerializeRocketMQ
	buf := AppendFrame(nil, c)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		buf = AppendFrame(buf[:0], c)
	}
}

func BenchmarkDecodeFrameJSON(b *testing.B) {
	frame := AppendFrame(nil, benchSendRequest())
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if _, err := DecodeFrame(frame); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeFrameJSONSmall decodes a three-field request (most
// requests besides sends are this small).
func BenchmarkDecodeFrameJSONSmall(b *testing.B) {
	frame := AppendFrame(nil, &Command{Code: ReqQueryConsumerOffset, Language: "GO", Version: 317, Opaque: 9,
		ExtFields: map[string]string{"consumerGroup": "cg", "topic": "TopicTest", "queueId": "3"}})
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if _, err := DecodeFrame(frame); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeFrameJSONAliOns decodes ali-ons' raw-typed extFields.
func BenchmarkDecodeFrameJSONAliOns(b *testing.B) {
	frame := jsonFrame(`{"code":310,"language":"JAVA","opaque":5,"flag":0,"version":121,`+
		`"extFields":{"a":"please_rename_unique_group_name","b":"TopicTest","c":"TBW102","d":4,"e":3,"f":0,`+
		`"g":1795238031504,"h":0,"i":"TAGS\u0001TagA\u0002","j":0,"k":false}}`, string(make([]byte, 128)))
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if _, err := DecodeFrame(frame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeFrameBinary(b *testing.B) {
	c := benchSendRequest()
	c.SerializeType = SerializeRocketMQ
	frame := AppendFrame(nil, c)
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if _, err := DecodeFrame(frame); err != nil {
			b.Fatal(err)
		}
	}
}
