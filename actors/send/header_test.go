package send

import (
	"fmt"
	"testing"

	"github.com/actormq/actormq/wire/remoting"
)

// TestParseSendHeaderDecodedLikeBuilt: off the wire a send header's fields
// sit in the codec's field array and parseSendHeader reads them by index
// (remoting.SendFields); the result and every error text (missing field, bad
// number) are those of the same header built with an ExtFields map, which
// is read by key. ParseReplyHeader likewise for 324 and 325.
func TestParseSendHeaderDecodedLikeBuilt(t *testing.T) {
	v2 := map[string]string{"a": "pg", "b": "T", "c": "TBW102", "d": "4", "e": "3", "f": "0",
		"g": "1700000000000", "h": "0", "i": "TAGS\x01a\x02", "j": "1", "k": "true", "l": "16", "m": "false"}
	v2Names := map[string]string{"a": "producerGroup", "b": "topic", "c": "defaultTopic", "d": "defaultTopicQueueNums",
		"e": "queueId", "f": "sysFlag", "g": "bornTimestamp", "h": "flag", "i": "properties", "j": "reconsumeTimes",
		"k": "unitMode", "l": "maxReconsumeTimes", "m": "batch"}
	type change struct{ key, value string } // value "-" deletes the key
	changes := []change{{}}
	for k := range v2 {
		for _, v := range []string{"-", "", "x", "+7", "-1", "2147483648", "9223372036854775808", "TRUE"} {
			changes = append(changes, change{k, v})
		}
	}
	for _, ch := range changes {
		for _, short := range []bool{false, true} {
			ext := map[string]string{}
			for k, v := range v2 {
				if k == ch.key {
					if ch.value == "-" {
						continue
					}
					v = ch.value
				}
				if !short {
					k = v2Names[k]
				}
				ext[k] = v
			}
			codes := []int32{remoting.ReqSendMessage, remoting.ReqSendReplyMessage}
			if short {
				codes = []int32{remoting.ReqSendMessageV2, remoting.ReqSendBatchMessage, remoting.ReqSendReplyMessageV2}
			}
			for _, code := range codes {
				built := remoting.NewRequest(code, ext, nil)
				wantH, wantErr := parseSendHeader(built, short)
				wantR, wantRErr := ParseReplyHeader(built)
				for _, st := range []byte{remoting.SerializeJSON, remoting.SerializeRocketMQ} {
					built.SerializeType = st
					wire, err := remoting.DecodeFrame(remoting.AppendFrame(nil, built))
					if err != nil {
						t.Fatal(err)
					}
					name := fmt.Sprintf("code %d codec %d, %s=%q", code, st, ch.key, ch.value)
					h, err := parseSendHeader(wire, short)
					if h != wantH || fmt.Sprint(err) != fmt.Sprint(wantErr) {
						t.Fatalf("%s: decoded %+v %v, built %+v %v", name, h, err, wantH, wantErr)
					}
					if code == remoting.ReqSendReplyMessage || code == remoting.ReqSendReplyMessageV2 {
						r, err := ParseReplyHeader(wire)
						if r != wantR || fmt.Sprint(err) != fmt.Sprint(wantRErr) {
							t.Fatalf("%s: reply decoded %+v %v, built %+v %v", name, r, err, wantR, wantRErr)
						}
					}
					wire.ReleaseExt()
				}
			}
		}
	}
	// The errors themselves, as the handler answers them.
	built := remoting.NewRequest(remoting.ReqSendMessageV2, map[string]string{"a": "pg"}, nil)
	wire, err := remoting.DecodeFrame(remoting.AppendFrame(nil, built))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseSendHeader(wire, true); fmt.Sprint(err) != "remoting: missing required header field: the custom field <b> is null" {
		t.Fatalf("missing topic: %v", err)
	}
	built.ExtFields = map[string]string{"producerGroup": "pg", "topic": "T", "defaultTopic": "TBW102", "defaultTopicQueueNums": "four"}
	built.Code = remoting.ReqSendMessage
	if wire, err = remoting.DecodeFrame(remoting.AppendFrame(nil, built)); err != nil {
		t.Fatal(err)
	}
	if _, err := parseSendHeader(wire, false); fmt.Sprint(err) != `remoting: malformed header field: defaultTopicQueueNums="four"` {
		t.Fatalf("bad number: %v", err)
	}
}
