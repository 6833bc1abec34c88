package body

import (
	"reflect"
	"testing"
)

func TestAdminBodiesEncodeFastjsonObjectKeys(t *testing.T) {
	q0 := MessageQueue{Topic: "t", BrokerName: "b", QueueID: 0}
	q1 := MessageQueue{Topic: "t", BrokerName: "b", QueueID: 1}
	cs := ConsumeStats{ConsumeTps: 2.5, OffsetTable: map[MessageQueue]OffsetWrapper{
		q1: {BrokerOffset: 9, ConsumerOffset: 7, LastTimestamp: 1700000000000, PullOffset: 7},
		q0: {BrokerOffset: 3, ConsumerOffset: 3},
	}}
	want := `{"consumeTps":2.5,"offsetTable":{{"brokerName":"b","queueId":0,"topic":"t"}:{"brokerOffset":3,"consumerOffset":3,"lastTimestamp":0,"pullOffset":0},` +
		`{"brokerName":"b","queueId":1,"topic":"t"}:{"brokerOffset":9,"consumerOffset":7,"lastTimestamp":1700000000000,"pullOffset":7}}}`
	if got := string(cs.Encode()); got != want {
		t.Fatalf("ConsumeStats\n got %s\nwant %s", got, want)
	}
	ts := TopicStatsTable{OffsetTable: map[MessageQueue]TopicOffset{q0: {MinOffset: 1, MaxOffset: 5, LastUpdateTimestamp: 42}}}
	if got, want := string(ts.Encode()), `{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"t"}:{"lastUpdateTimestamp":42,"maxOffset":5,"minOffset":1}}}`; got != want {
		t.Fatalf("TopicStatsTable\n got %s\nwant %s", got, want)
	}
	rb := ResetOffsetBody{OffsetTable: map[MessageQueue]int64{q1: 5, q0: 100}}
	if got, want := string(rb.Encode()), `{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"t"}:100,{"brokerName":"b","queueId":1,"topic":"t"}:5}}`; got != want {
		t.Fatalf("ResetOffsetBody\n got %s\nwant %s", got, want)
	}
	empty := ResetOffsetBody{}
	if got := string(empty.Encode()); got != `{"offsetTable":{}}` {
		t.Fatalf("empty ResetOffsetBody = %s", got)
	}
	if got := string(EncodeJSON(GroupList{})); got != `{"groupList":[]}` {
		t.Fatalf("empty GroupList = %s", got)
	}
}

func TestAdminBodiesRoundTrip(t *testing.T) {
	q := MessageQueue{Topic: `we"ird`, BrokerName: "b-1", QueueID: 3}
	cs := ConsumeStats{ConsumeTps: 0.125, OffsetTable: map[MessageQueue]OffsetWrapper{q: {BrokerOffset: 1, ConsumerOffset: 1, LastTimestamp: 2, PullOffset: 1}}}
	back, err := DecodeConsumeStats(cs.Encode())
	if err != nil || !reflect.DeepEqual(back, cs) {
		t.Fatalf("ConsumeStats round trip: %+v %v", back, err)
	}
	ts := TopicStatsTable{OffsetTable: map[MessageQueue]TopicOffset{q: {MinOffset: 1, MaxOffset: 2, LastUpdateTimestamp: 3}}}
	if back, err := DecodeTopicStatsTable(ts.Encode()); err != nil || !reflect.DeepEqual(back, ts) {
		t.Fatalf("TopicStatsTable round trip: %+v %v", back, err)
	}
	rb := ResetOffsetBody{OffsetTable: map[MessageQueue]int64{q: 77}}
	if back, err := DecodeResetOffsetBody(rb.Encode()); err != nil || !reflect.DeepEqual(back, rb) {
		t.Fatalf("ResetOffsetBody round trip: %+v %v", back, err)
	}
	// Standard JSON with the queue object serialized into a string key, and
	// unknown fields, are read too.
	std := `{"topicPutTps":1.0, "offsetTable" : {"{\"brokerName\":\"b\",\"queueId\":0,\"topic\":\"t\"}": {"minOffset":4,"maxOffset":9,"lastUpdateTimestamp":1}}}`
	got, err := DecodeTopicStatsTable([]byte(std))
	if err != nil || got.OffsetTable[MessageQueue{Topic: "t", BrokerName: "b"}].MaxOffset != 9 {
		t.Fatalf("standard form: %+v %v", got, err)
	}
}

func TestAdminBodiesRejectMalformed(t *testing.T) {
	for _, in := range []string{``, `[]`, `{`, `{"offsetTable":{{"topic":"t"}}}`, `{"offsetTable":{{"topic":"t"}:}}`,
		`{"offsetTable":{"x":1}}`, `{"offsetTable":{{"queueId":"z"}:1}}`, `{"offsetTable":{}} x`, `{1:2}`} {
		if _, err := DecodeResetOffsetBody([]byte(in)); err == nil {
			t.Errorf("%q decoded without error", in)
		}
	}
}

func TestAppendJavaDouble(t *testing.T) {
	for v, want := range map[float64]string{0: "0.0", 1: "1.0", 12.5: "12.5", -3: "-3.0", 1e7: "1.0E7", 1.5e-4: "1.5E-4", 0.001: "0.001"} {
		if got := string(AppendJavaDouble(nil, v)); got != want {
			t.Errorf("%v → %s, want %s", v, got, want)
		}
	}
}

func FuzzDecodeAdminBodies(f *testing.F) {
	f.Add([]byte(`{"consumeTps":0.0,"offsetTable":{{"brokerName":"b","queueId":0,"topic":"t"}:{"brokerOffset":3,"consumerOffset":3,"lastTimestamp":0,"pullOffset":0}}}`))
	f.Add([]byte(`{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"t"}:100,{"brokerName":"b","queueId":1,"topic":"t"}:5}}`))
	f.Add([]byte(`{"offsetTable":{"{\"topic\":\"t\"}":{"minOffset":1}}}`))
	f.Add([]byte(`{"offsetTable":{{"topic":"a\"}:"}:1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if r, err := DecodeResetOffsetBody(data); err == nil {
			back, err := DecodeResetOffsetBody(r.Encode())
			if err != nil || !reflect.DeepEqual(back, r) {
				t.Fatalf("re-decode of %q: %v", r.Encode(), err)
			}
		}
		if s, err := DecodeConsumeStats(data); err == nil {
			if _, err := DecodeConsumeStats(s.Encode()); err != nil {
				t.Fatalf("re-decode of %q: %v", s.Encode(), err)
			}
		}
		if ts, err := DecodeTopicStatsTable(data); err == nil {
			if _, err := DecodeTopicStatsTable(ts.Encode()); err != nil {
				t.Fatalf("re-decode of %q: %v", ts.Encode(), err)
			}
		}
	})
}
