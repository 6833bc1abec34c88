package locks

import (
	"testing"
	"time"
)

// FuzzBatchBody checks that any lock body decodes or fails cleanly, and
// that a decoded one can be applied to the table.
func FuzzBatchBody(f *testing.F) {
	f.Add([]byte(`{"consumerGroup":"G","clientId":"10.0.0.1@1","mqSet":[{"topic":"T","brokerName":"b","queueId":0}]}`))
	f.Add([]byte(`{"clientId":"J","consumerGroup":"G","mqSet":[],"onlyThisBroker":true}`))
	f.Add([]byte(`{consumerGroup:1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := decodeBatchBody(b)
		if err != nil {
			return
		}
		if req.ConsumerGroup == "" || req.ClientID == "" {
			t.Fatalf("decoded without group or client: %+v", req)
		}
		tb := newTable(time.Minute)
		now := time.Now()
		if got := tb.lock(req.ConsumerGroup, req.ClientID, req.MQSet, now); len(got) > len(req.MQSet) {
			t.Fatalf("granted %d of %d", len(got), len(req.MQSet))
		}
		tb.unlock(req.ConsumerGroup, req.ClientID, req.MQSet)
		if len(tb.groups) != 0 {
			t.Fatalf("unlock left %v", tb.groups)
		}
	})
}
