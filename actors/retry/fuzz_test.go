package retry

import (
	"testing"

	"github.com/actormq/actormq/wire/remoting"
)

// FuzzSendBackHeader checks that any header values parse or fail cleanly,
// and that a parsed header is one the actor can use.
func FuzzSendBackHeader(f *testing.F) {
	f.Add("4096", "GID_a", "0", "C0A80001DEAD00000000681372a80001", "TopicA", "false", "16", int32(0))
	f.Add("-1", "", "x", "", "", "TRUE", "", int32(-1))
	f.Fuzz(func(t *testing.T, offset, group, delayLevel, originMsgID, originTopic, unitMode, maxTimes string, reconsumeTimes int32) {
		cmd := remoting.NewRequest(remoting.ReqConsumerSendMsgBack, map[string]string{
			"offset": offset, "group": group, "delayLevel": delayLevel, "originMsgId": originMsgID,
			"originTopic": originTopic, "unitMode": unitMode, "maxReconsumeTimes": maxTimes,
		}, nil)
		h, err := parseHeader(cmd)
		if err != nil {
			return
		}
		if h.group != group || (maxTimes == "") == h.hasMax {
			t.Fatalf("header %+v from group %q maxReconsumeTimes %q", h, group, maxTimes)
		}
		d := decide(reconsumeTimes, h.maxReconsumeTimes, h.delayLevel)
		if !d.deadLetter && d.delayLevel <= 0 {
			t.Fatalf("retry without a delay level: %+v from %+v", d, h)
		}
	})
}
