package send

import (
	"testing"

	"github.com/actormq/actormq/wire/remoting"
)

// FuzzSendHeader checks that any V1 or V2 header values parse or fail
// cleanly, and that both spellings decode alike.
func FuzzSendHeader(f *testing.F) {
	f.Add("pg", "TopicTest", "TBW102", "4", "0", "0", "1700000000000", "0", "TAGS\x01a\x02", "0", "0", "false")
	f.Add("", "", "", "x", "-1", "", "", "", "", "", "", "true")
	f.Fuzz(func(t *testing.T, a, b, c, d, e, ff, g, h, i, j, l, m string) {
		v1 := remoting.NewRequest(remoting.ReqSendMessage, map[string]string{
			"producerGroup": a, "topic": b, "defaultTopic": c, "defaultTopicQueueNums": d, "queueId": e,
			"sysFlag": ff, "bornTimestamp": g, "flag": h, "properties": i, "reconsumeTimes": j,
			"maxReconsumeTimes": l, "batch": m,
		}, nil)
		v2 := remoting.NewRequest(remoting.ReqSendMessageV2, map[string]string{
			"a": a, "b": b, "c": c, "d": d, "e": e, "f": ff, "g": g, "h": h, "i": i, "j": j, "l": l, "m": m,
		}, nil)
		h1, err1 := parseSendHeader(v1, false)
		h2, err2 := parseSendHeader(v2, true)
		if (err1 == nil) != (err2 == nil) || h1 != h2 {
			t.Fatalf("V1 %+v %v, V2 %+v %v", h1, err1, h2, err2)
		}
	})
}
