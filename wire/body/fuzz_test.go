package body

import (
	"bytes"
	"encoding/json"
	"testing"
)

func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(goHeartbeat))
	f.Add([]byte(onsHeartbeat))
	f.Add([]byte(`{"brokerDatas":[{"brokerAddrs":{0:"10.0.0.1:10911",1:"10.0.0.2:10911"},"brokerName":"b","cluster":"c"}],"filterServerTable":{},"queueDatas":[]}`))
	f.Add([]byte("{\"offsetTable\":{\"t@g\":{0:12,\n\t-1:9}},\"dataVersion\":{\"counter\":1}}"))
	f.Add([]byte(`{"k":"{0:1}\"","a":[{1:2}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Standard JSON never has a bare key, so the pre-pass must not
		// touch it.
		if json.Valid(data) && !bytes.Equal(quoteBareKeys(data), data) {
			t.Fatalf("valid JSON rewritten: %q", data)
		}
		var h HeartbeatData
		if DecodeJSON(data, &h) == nil {
			var back HeartbeatData
			if err := DecodeJSON(EncodeJSON(&h), &back); err != nil {
				t.Fatalf("re-decode of encoded heartbeat: %v", err)
			}
		}
		var r TopicRouteData
		if DecodeJSON(data, &r) == nil && !json.Valid(EncodeRouteData(&r)) {
			t.Fatalf("EncodeRouteData produced invalid JSON")
		}
		var o ConsumerOffsetWrapper
		_ = DecodeJSON(data, &o)
	})
}
