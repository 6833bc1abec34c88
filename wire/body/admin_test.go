package body

import (
	"errors"
	"reflect"
	"slices"
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

func TestDecodeConsumeStatsForms(t *testing.T) {
	q0 := MessageQueue{Topic: "T", BrokerName: "b", QueueID: 0}
	q1 := MessageQueue{Topic: "T", BrokerName: "b", QueueID: 1}
	tests := []struct {
		name string
		in   string
		want ConsumeStats // ignored when wantErr
		// wantErr expects an error wrapping ErrJSON.
		wantErr bool
	}{
		{
			name: "fastjson object keys, 4.x values without pullOffset",
			in: `{"consumeTps":1.5,"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:{"brokerOffset":10,"consumerOffset":7,"lastTimestamp":1700000000000},` +
				`{"brokerName":"b","queueId":1,"topic":"T"}:{"brokerOffset":3,"consumerOffset":3,"lastTimestamp":0}}}`,
			want: ConsumeStats{ConsumeTps: 1.5, OffsetTable: map[MessageQueue]OffsetWrapper{
				q0: {BrokerOffset: 10, ConsumerOffset: 7, LastTimestamp: 1700000000000},
				q1: {BrokerOffset: 3, ConsumerOffset: 3},
			}},
		},
		{
			name: "keys as JSON strings, spaces and newlines",
			in:   "{ \"offsetTable\" : {\n \"{\\\"topic\\\":\\\"T\\\",\\\"brokerName\\\":\\\"b\\\",\\\"queueId\\\":1}\" : {\"brokerOffset\":2} } }",
			want: ConsumeStats{OffsetTable: map[MessageQueue]OffsetWrapper{q1: {BrokerOffset: 2}}},
		},
		{name: "empty table", in: `{"offsetTable":{},"consumeTps":0.0}`, want: ConsumeStats{OffsetTable: map[MessageQueue]OffsetWrapper{}}},
		{name: "null table", in: `{"offsetTable":null}`, want: ConsumeStats{OffsetTable: map[MessageQueue]OffsetWrapper{}}},
		{name: "no table", in: `{"consumeTps":2.0}`, want: ConsumeStats{ConsumeTps: 2, OffsetTable: map[MessageQueue]OffsetWrapper{}}},
		{name: "braces inside strings", in: `{"offsetTable":{{"brokerName":"b}{","queueId":0,"topic":"T"}:{"brokerOffset":1}}}`,
			want: ConsumeStats{OffsetTable: map[MessageQueue]OffsetWrapper{{Topic: "T", BrokerName: "b}{"}: {BrokerOffset: 1}}}},
		{name: "unterminated", in: `{"offsetTable":{{"brokerName":"b"`, wantErr: true},
		{name: "missing colon", in: `{"offsetTable":{{"brokerName":"b"} {"brokerOffset":1}}}`, wantErr: true},
		{name: "bad value", in: `{"offsetTable":{{"brokerName":"b"}:{"brokerOffset":"x"}}}`, wantErr: true},
		{name: "bad tps", in: `{"consumeTps":"fast"}`, wantErr: true},
		{name: "trailing data", in: `{"offsetTable":{}} x`, wantErr: true},
		{name: "not an object", in: `[1]`, wantErr: true},
		{name: "empty", in: ``, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeConsumeStats([]byte(tc.in))
			if tc.wantErr {
				if !errors.Is(err, ErrJSON) {
					t.Fatalf("err = %v, want ErrJSON", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// DecodeFields and DecodeMQMap read a ConsumerRunningInfo the way the Go
// client writes it: mqTable with object keys among standard fields.
func TestDecodeMQMapInsideOtherFields(t *testing.T) {
	in := `{"properties":{"a":"b"},"statusTable":{},"subscriptionSet":[{"topic":"T"}],"mqTable":{` +
		`{"topic":"T","brokerName":"b","queueId":1}:{"commitOffset":3},{"topic":"T","brokerName":"b","queueId":0}:{"commitOffset":1}}, "jstack":"" }`
	var got []MessageQueue
	var values []string
	err := DecodeFields([]byte(in), map[string]func([]byte) error{"mqTable": func(v []byte) error {
		return DecodeMQMap(v, func(mq MessageQueue, raw []byte) error {
			got, values = append(got, mq), append(values, string(raw))
			return nil
		})
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []MessageQueue{{Topic: "T", BrokerName: "b", QueueID: 1}, {Topic: "T", BrokerName: "b", QueueID: 0}}
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(values, []string{`{"commitOffset":3}`, `{"commitOffset":1}`}) {
		t.Fatalf("got %+v %q", got, values)
	}
	stop := errors.New("stop")
	if err := DecodeMQMap([]byte(`{{"topic":"T"}:1}`), func(MessageQueue, []byte) error { return stop }); err != stop {
		t.Fatalf("put's error came back as %v", err)
	}
}

func TestCompareQueues(t *testing.T) {
	mqs := []MessageQueue{{Topic: "b", BrokerName: "x", QueueID: 0}, {Topic: "a", BrokerName: "y", QueueID: 1},
		{Topic: "a", BrokerName: "x", QueueID: 10}, {Topic: "a", BrokerName: "x", QueueID: 2}}
	slices.SortFunc(mqs, CompareQueues)
	want := []MessageQueue{{Topic: "a", BrokerName: "x", QueueID: 2}, {Topic: "a", BrokerName: "x", QueueID: 10},
		{Topic: "a", BrokerName: "y", QueueID: 1}, {Topic: "b", BrokerName: "x", QueueID: 0}}
	if !reflect.DeepEqual(mqs, want) {
		t.Fatalf("got %+v, want %+v", mqs, want)
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
