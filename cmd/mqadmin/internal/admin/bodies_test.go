package admin

import (
	"bytes"
	"compress/zlib"
	"errors"
	"net/netip"
	"reflect"
	"testing"

	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
)

func TestDecodeConsumeStats(t *testing.T) {
	q0 := body.MessageQueue{Topic: "T", BrokerName: "b", QueueID: 0}
	q1 := body.MessageQueue{Topic: "T", BrokerName: "b", QueueID: 1}
	tests := []struct {
		name    string
		in      string
		want    *ConsumeStats
		wantErr bool
	}{
		{
			name: "fastjson object keys",
			in: `{"consumeTps":1.5,"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:{"brokerOffset":10,"consumerOffset":7,"lastTimestamp":1700000000000},` +
				`{"brokerName":"b","queueId":1,"topic":"T"}:{"brokerOffset":3,"consumerOffset":3,"lastTimestamp":0}}}`,
			want: &ConsumeStats{ConsumeTps: 1.5, OffsetTable: map[body.MessageQueue]OffsetWrapper{
				q0: {BrokerOffset: 10, ConsumerOffset: 7, LastTimestamp: 1700000000000},
				q1: {BrokerOffset: 3, ConsumerOffset: 3},
			}},
		},
		{
			name: "keys as JSON strings, spaces and newlines",
			in:   "{ \"offsetTable\" : {\n \"{\\\"topic\\\":\\\"T\\\",\\\"brokerName\\\":\\\"b\\\",\\\"queueId\\\":1}\" : {\"brokerOffset\":2} } }",
			want: &ConsumeStats{OffsetTable: map[body.MessageQueue]OffsetWrapper{q1: {BrokerOffset: 2}}},
		},
		{
			name: "empty and null tables",
			in:   `{"offsetTable":{},"consumeTps":0.0}`,
			want: &ConsumeStats{OffsetTable: map[body.MessageQueue]OffsetWrapper{}},
		},
		{name: "null table", in: `{"offsetTable":null}`, want: &ConsumeStats{OffsetTable: map[body.MessageQueue]OffsetWrapper{}}},
		{name: "braces inside strings", in: `{"offsetTable":{{"brokerName":"b}{","queueId":0,"topic":"T"}:{"brokerOffset":1}}}`,
			want: &ConsumeStats{OffsetTable: map[body.MessageQueue]OffsetWrapper{{Topic: "T", BrokerName: "b}{"}: {BrokerOffset: 1}}}},
		{name: "unterminated", in: `{"offsetTable":{{"brokerName":"b"`, wantErr: true},
		{name: "missing colon", in: `{"offsetTable":{{"brokerName":"b"} {"brokerOffset":1}}}`, wantErr: true},
		{name: "bad value", in: `{"offsetTable":{{"brokerName":"b"}:{"brokerOffset":"x"}}}`, wantErr: true},
		{name: "trailing data", in: `{"offsetTable":{}} x`, wantErr: true},
		{name: "not an object", in: `[1]`, wantErr: true},
		{name: "empty", in: ``, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeConsumeStats([]byte(tc.in))
			if tc.wantErr {
				if !errors.Is(err, ErrBody) {
					t.Fatalf("err = %v, want ErrBody", err)
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

func TestConsumeStatsTotalDiff(t *testing.T) {
	cs := &ConsumeStats{OffsetTable: map[body.MessageQueue]OffsetWrapper{
		{QueueID: 0}: {BrokerOffset: 10, ConsumerOffset: 7},
		{QueueID: 1}: {BrokerOffset: 5, ConsumerOffset: 5},
	}}
	if got := cs.TotalDiff(); got != 3 {
		t.Fatalf("TotalDiff = %d, want 3", got)
	}
}

func TestDecodeTopicStatsAndResetOffset(t *testing.T) {
	ts, err := DecodeTopicStats([]byte(`{"offsetTable":{{"brokerName":"b","queueId":2,"topic":"T"}:{"lastUpdateTimestamp":5,"maxOffset":9,"minOffset":1}}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[body.MessageQueue]TopicOffset{{Topic: "T", BrokerName: "b", QueueID: 2}: {MinOffset: 1, MaxOffset: 9, LastUpdateTimestamp: 5}}
	if !reflect.DeepEqual(ts, want) {
		t.Fatalf("topic stats %+v, want %+v", ts, want)
	}
	ro, err := DecodeResetOffset([]byte(`{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:100,{"brokerName":"b","queueId":1,"topic":"T"}:5}}`))
	if err != nil {
		t.Fatal(err)
	}
	wantRO := map[body.MessageQueue]int64{{Topic: "T", BrokerName: "b"}: 100, {Topic: "T", BrokerName: "b", QueueID: 1}: 5}
	if !reflect.DeepEqual(ro, wantRO) {
		t.Fatalf("reset offsets %+v, want %+v", ro, wantRO)
	}
}

// The Go client answers GET_CONSUMER_RUNNING_INFO with this shape (object
// keys, a space before "jstack").
func TestDecodeRunningInfoQueues(t *testing.T) {
	in := `{"properties":{"a":"b"},"statusTable":{},"subscriptionSet":[{"topic":"T"}],"mqTable":{` +
		`{"topic":"T","brokerName":"b","queueId":1}:{"commitOffset":3},{"topic":"T","brokerName":"b","queueId":0}:{"commitOffset":1}}, "jstack":"" }`
	got, err := DecodeRunningInfoQueues([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []body.MessageQueue{{Topic: "T", BrokerName: "b", QueueID: 0}, {Topic: "T", BrokerName: "b", QueueID: 1}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestParseProperties(t *testing.T) {
	got := ParseProperties("listenPort=10911\n#comment\n\nbrokerName = broker-a\nmsg=a=b\n")
	want := []Property{{"brokerName", "broker-a"}, {"listenPort", "10911"}, {"msg", "a=b"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestSortQueues(t *testing.T) {
	mqs := []body.MessageQueue{{Topic: "b", BrokerName: "x", QueueID: 0}, {Topic: "a", BrokerName: "y", QueueID: 1},
		{Topic: "a", BrokerName: "x", QueueID: 10}, {Topic: "a", BrokerName: "x", QueueID: 2}}
	SortQueues(mqs)
	want := []body.MessageQueue{{Topic: "a", BrokerName: "x", QueueID: 2}, {Topic: "a", BrokerName: "x", QueueID: 10},
		{Topic: "a", BrokerName: "y", QueueID: 1}, {Topic: "b", BrokerName: "x", QueueID: 0}}
	if !reflect.DeepEqual(mqs, want) {
		t.Fatalf("got %+v, want %+v", mqs, want)
	}
}

// FuzzDecodeBodies feeds arbitrary bodies to every decoder of broker
// answers (the object-keyed maps and the message records); they must return
// an error or a result, never panic.
func FuzzDecodeBodies(f *testing.F) {
	f.Add([]byte(`{"consumeTps":1.5,"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:{"brokerOffset":10,"consumerOffset":7}}}`))
	f.Add([]byte(`{"offsetTable":{"{\"topic\":\"T\"}":{"minOffset":1}}}`))
	f.Add([]byte(`{"offsetTable":{{"a":"\\"}:1}}`))
	f.Add([]byte(`{"mqTable":{{"topic":"T"}:{}}, "jstack":"" }`))
	f.Add([]byte(`{{{{`))
	rec := &message.Message{Topic: "T", Body: []byte("body"), Properties: "KEYS\x01k\x02",
		BornHost: netip.MustParseAddrPort("127.0.0.1:1"), StoreHost: netip.MustParseAddrPort("127.0.0.1:10911")}
	f.Add(message.AppendRecord(nil, rec))
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	_, _ = zw.Write(bytes.Repeat([]byte("compressed "), 50))
	_ = zw.Close()
	rec.Body, rec.SysFlag = z.Bytes(), message.SysFlagCompressed
	f.Add(message.AppendRecord(nil, rec))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = DecodeConsumeStats(b)
		_, _ = DecodeTopicStats(b)
		_, _ = DecodeResetOffset(b)
		_, _ = DecodeRunningInfoQueues(b)
		_, _ = DecodeMessages(b, "b")
	})
}

func TestDecodeMessagesInflatesAndDerivesIDs(t *testing.T) {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	_, _ = zw.Write([]byte("a compressed body"))
	_ = zw.Close()
	rec := &message.Message{Topic: "T", QueueID: 1, PhysicalOffset: 100, SysFlag: message.SysFlagCompressed, Body: z.Bytes(),
		Properties: message.FormatProperties(map[string]string{"KEYS": "k"}),
		BornHost:   netip.MustParseAddrPort("127.0.0.1:1"), StoreHost: netip.MustParseAddrPort("127.0.0.1:10911")}
	plain := &message.Message{Topic: "T", PhysicalOffset: 200, Body: []byte("plain"),
		Properties: message.FormatProperties(map[string]string{"UNIQ_KEY": "U"}),
		BornHost:   netip.MustParseAddrPort("127.0.0.1:1"), StoreHost: netip.MustParseAddrPort("127.0.0.1:10911")}
	msgs, err := DecodeMessages(message.AppendRecord(message.AppendRecord(nil, rec), plain), "b")
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || string(msgs[0].Body) != "a compressed body" || msgs[0].Props["KEYS"] != "k" || msgs[0].BrokerName != "b" {
		t.Fatalf("decoded %+v", msgs)
	}
	if msgs[0].MsgID() != "7F00000100002A9F0000000000000064" || msgs[1].MsgID() != "U" || msgs[1].OffsetMsgID != "7F00000100002A9F00000000000000C8" {
		t.Fatalf("ids %s %s %s", msgs[0].MsgID(), msgs[1].MsgID(), msgs[1].OffsetMsgID)
	}
	rec.Body = []byte("not zlib")
	if _, err := DecodeMessages(message.AppendRecord(nil, rec), "b"); !errors.Is(err, ErrBody) {
		t.Fatalf("a compressed flag on a plain body: err = %v, want ErrBody", err)
	}
}
