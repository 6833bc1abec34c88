package remoting

import "testing"

// Send headers exactly as rocketmq-client-go v2.1.2 writes them: jsoniter
// marshals its RemotingCommand struct (code, language, version, opaque,
// flag, an always-present empty remark, extFields) and the extFields map in
// Go's random map order, every value a string, control characters of the
// properties as \u00XX escapes (client-quirks A3, wire-protocol.md §2.1).
// Captured by marshalling the client's structs with json-iterator v1.1.12.
const (
	// capturedSendV1 is a single message (code 10, full field names) with
	// UNIQ_KEY, WAIT, TAGS and KEYS properties.
	capturedSendV1 = `{"code":10,"language":"GO","version":317,"opaque":123456,"flag":0,"remark":"","extFields":{"defaultTopic":"TBW102","batch":"false","properties":"UNIQ_KEY\u0001C0000202705D00000000681372a80001\u0002WAIT\u0001true\u0002TAGS\u0001TagA\u0002KEYS\u0001order-1\u0002","producerGroup":"PG_bench","topic":"BenchTopic","queueId":"3","sysFlag":"0","flag":"0","reconsumeTimes":"0","maxReconsumeTimes":"0","defaultTopicQueueNums":"4","bornTimestamp":"1795238031504","unitMode":"false"}}`
	// capturedSendBatch is a batch (code 320, the V2 short keys a..m, no
	// properties).
	capturedSendBatch = `{"code":320,"language":"GO","version":317,"opaque":123457,"flag":0,"remark":"","extFields":{"f":"0","g":"1795238031504","h":"0","l":"0","c":"TBW102","d":"4","i":"","j":"0","k":"false","m":"true","a":"PG_bench","b":"BenchTopic","e":"3"}}`
)

// readSendFields reads the fields the send handler reads (actors/send
// parseSendHeader), as it reads them, by SendField in its spelling, so that
// a benchmark covers the accessors as well as the decode.
func readSendFields(c *Command, short bool) error {
	r := c.SendFields(short)
	for _, f := range []SendField{SendProducerGroup, SendTopic, SendDefaultTopic} {
		if _, err := r.RequiredString(f); err != nil {
			return err
		}
	}
	for _, f := range []SendField{SendDefaultTopicQueueNums, SendQueueID, SendSysFlag, SendFlag} {
		if _, err := r.RequiredInt32(f); err != nil {
			return err
		}
	}
	if _, err := r.RequiredInt64(SendBornTimestamp); err != nil {
		return err
	}
	r.Ext(SendProperties)
	for _, f := range []SendField{SendReconsumeTimes, SendMaxReconsumeTimes} {
		if _, err := r.OptionalInt32(f, 0); err != nil {
			return err
		}
	}
	r.Ext(SendMaxReconsumeTimes)
	r.OptionalBool(SendBatch, false)
	return nil
}

// BenchmarkDecodeCapturedSend decodes captured Go-client send frames (128 B
// body) the way a broker's loop does: DecodeFrame, the send handler's field
// reads, ReleaseExt, and the Release that ends the answered send (the next
// decode reuses its frame). The binary case is the same single send in the
// ROCKETMQ codec.
func BenchmarkDecodeCapturedSend(b *testing.B) {
	body := string(make([]byte, 128))
	v1, err := DecodeFrame(jsonFrame(capturedSendV1, body))
	if err != nil {
		b.Fatal(err)
	}
	v1.SerializeType = SerializeRocketMQ
	cases := []struct {
		name  string
		frame []byte
		short bool
	}{
		{"json-v1", jsonFrame(capturedSendV1, body), false},
		{"json-batch", jsonFrame(capturedSendBatch, body), true},
		{"rocketmq-v1", AppendFrame(nil, v1), false},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.frame)))
			for b.Loop() {
				c, err := DecodeFrame(tc.frame)
				if err != nil {
					b.Fatal(err)
				}
				if c.send == nil {
					b.Fatal("send header decoded into a map")
				}
				if err := readSendFields(c, tc.short); err != nil {
					b.Fatal(err)
				}
				c.ReleaseExt()
				c.Release()
			}
		})
	}
}
