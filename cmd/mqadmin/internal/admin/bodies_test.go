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

// The Go client answers GET_CONSUMER_RUNNING_INFO with this shape (object
// keys, a space before "jstack"); the queues come back sorted, once each.
func TestDecodeRunningInfoQueues(t *testing.T) {
	in := `{"properties":{"a":"b"},"statusTable":{},"subscriptionSet":[{"topic":"T"}],"mqTable":{` +
		`{"topic":"T","brokerName":"b","queueId":1}:{"commitOffset":3},{"topic":"T","brokerName":"b","queueId":0}:{"commitOffset":1},` +
		`"{\"topic\":\"T\",\"brokerName\":\"b\",\"queueId\":1}":{}}, "jstack":"" }`
	got, err := DecodeRunningInfoQueues([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []body.MessageQueue{{Topic: "T", BrokerName: "b", QueueID: 0}, {Topic: "T", BrokerName: "b", QueueID: 1}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if got, err := DecodeRunningInfoQueues([]byte(`{"jstack":""}`)); err != nil || len(got) != 0 {
		t.Fatalf("no mqTable: %+v, %v", got, err)
	}
	if _, err := DecodeRunningInfoQueues([]byte(`{"mqTable":{{"queueId":"x"}:{}}}`)); !errors.Is(err, body.ErrJSON) {
		t.Fatalf("bad queue key: err = %v, want body.ErrJSON", err)
	}
}

func TestParseProperties(t *testing.T) {
	got := ParseProperties("listenPort=10911\n#comment\n\nbrokerName = broker-a\nmsg=a=b\n")
	want := []Property{{"brokerName", "broker-a"}, {"listenPort", "10911"}, {"msg", "a=b"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

// FuzzDecodeBodies feeds arbitrary bodies to this package's decoders of
// broker answers (a client's running info and message records; wire/body
// fuzzes the other admin bodies); they must return an error or a result,
// never panic.
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
