package admin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit/netkit"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// answer builds a response to a request.
type answer func(req *remoting.Command) *remoting.Command

// fakePeer serves answers by request code on 127.0.0.1 and records the
// requests it saw.
type fakePeer struct {
	addr string
	mu   sync.Mutex
	seen []*remoting.Command
}

func serveFake(t *testing.T, answers map[int32]answer) *fakePeer {
	t.Helper()
	p := &fakePeer{}
	handlers := map[int32]func(*netio.Conn, *remoting.Command){}
	for code, ans := range answers {
		handlers[code] = func(c *netio.Conn, cmd *remoting.Command) {
			p.mu.Lock()
			p.seen = append(p.seen, cmd)
			p.mu.Unlock()
			if resp := ans(cmd); resp != nil {
				_ = c.Write(resp)
			}
		}
	}
	p.addr = netkit.Serve(t, &netkit.Router{Handlers: handlers})
	return p
}

func (p *fakePeer) requests(code int32) []*remoting.Command {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*remoting.Command
	for _, c := range p.seen {
		if c.Code == code {
			out = append(out, c)
		}
	}
	return out
}

func ok(req *remoting.Command, b []byte) *remoting.Command {
	resp := remoting.NewResponse(req, remoting.RespSuccess, "")
	resp.Body = b
	return resp
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func newAdmin(t *testing.T, timeout time.Duration, nameServers ...string) *Admin {
	t.Helper()
	a, err := New(Config{NameServers: nameServers, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a
}

func routeAnswer(brokers map[string]string, queues int32) answer {
	return func(req *remoting.Command) *remoting.Command {
		r := &body.TopicRouteData{}
		for name, addr := range brokers {
			r.BrokerDatas = append(r.BrokerDatas, body.BrokerData{Cluster: "C", BrokerName: name, BrokerAddrs: map[int64]string{0: addr}})
			r.QueueDatas = append(r.QueueDatas, body.QueueData{BrokerName: name, ReadQueueNums: queues, WriteQueueNums: queues, Perm: 6})
		}
		return ok(req, body.EncodeRouteData(r))
	}
}

func TestNewNeedsANameServer(t *testing.T) {
	if _, err := New(Config{}); !errors.Is(err, ErrNoNameServer) {
		t.Fatalf("err = %v, want ErrNoNameServer", err)
	}
}

func TestNameServerFailoverOnlyOnTransportErrors(t *testing.T) {
	ns := serveFake(t, map[int32]answer{
		remoting.ReqGetBrokerClusterInfo: func(req *remoting.Command) *remoting.Command {
			return ok(req, body.EncodeJSON(body.ClusterInfo{
				BrokerAddrTable:  map[string]body.BrokerData{"b": {Cluster: "C", BrokerName: "b", BrokerAddrs: map[int64]string{0: "1.2.3.4:10911"}}},
				ClusterAddrTable: map[string][]string{"C": {"b"}},
			}))
		},
		remoting.ReqGetRouteInfoByTopic: func(req *remoting.Command) *remoting.Command {
			return remoting.NewResponse(req, remoting.RespTopicNotExist, "No topic route info in name server for the topic: T")
		},
	})
	second := serveFake(t, map[int32]answer{})
	a := newAdmin(t, time.Second, closedAddr(t), ns.addr, second.addr)

	ci, err := a.ClusterInfo(context.Background())
	if err != nil {
		t.Fatalf("cluster info through the second name server: %v", err)
	}
	masters, err := ClusterMasters(ci, "C")
	if err != nil || !reflect.DeepEqual(masters, []string{"1.2.3.4:10911"}) {
		t.Fatalf("masters %v, %v", masters, err)
	}
	_, err = a.Route(context.Background(), "T")
	if !IsCode(err, remoting.RespTopicNotExist) {
		t.Fatalf("route err = %v, want TOPIC_NOT_EXIST", err)
	}
	want := "topic T: TOPIC_NOT_EXIST (17): No topic route info in name server for the topic: T"
	if err.Error() != want {
		t.Fatalf("route err %q, want %q", err, want)
	}
	if n := len(second.requests(remoting.ReqGetRouteInfoByTopic)); n != 0 {
		t.Fatalf("an error code moved on to the next name server (%d requests)", n)
	}
}

func TestTransportErrorsNameThePeer(t *testing.T) {
	dead := closedAddr(t)
	a := newAdmin(t, time.Second, dead)
	_, err := a.TopicList(context.Background())
	if want := "connect to name server " + dead + ": connection refused"; err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}

	silent := serveFake(t, map[int32]answer{remoting.ReqGetBrokerRuntimeInfo: func(*remoting.Command) *remoting.Command { return nil }})
	a = newAdmin(t, 200*time.Millisecond, dead)
	_, err = a.RuntimeInfo(context.Background(), silent.addr)
	if want := fmt.Sprintf("broker %s: no answer to request 28 within 200ms", silent.addr); err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

func TestConsumeStatsMergesEveryMasterOfTheRetryTopic(t *testing.T) {
	stats := func(brokerName string, tps string) answer {
		return func(req *remoting.Command) *remoting.Command {
			if g, _ := req.Ext("consumerGroup"); g != "G" {
				return remoting.NewResponse(req, remoting.RespSystemError, "wrong group "+g)
			}
			return ok(req, []byte(fmt.Sprintf(`{"consumeTps":%s,"offsetTable":{{"brokerName":"%s","queueId":0,"topic":"T"}:{"brokerOffset":5,"consumerOffset":2,"lastTimestamp":0}}}`, tps, brokerName)))
		}
	}
	b1 := serveFake(t, map[int32]answer{remoting.ReqGetConsumeStats: stats("b1", "1.5")})
	b2 := serveFake(t, map[int32]answer{remoting.ReqGetConsumeStats: stats("b2", "2.0")})
	ns := serveFake(t, map[int32]answer{remoting.ReqGetRouteInfoByTopic: routeAnswer(map[string]string{"b1": b1.addr, "b2": b2.addr}, 1)})
	a := newAdmin(t, time.Second, ns.addr)

	cs, err := a.ConsumeStats(context.Background(), "G", "")
	if err != nil {
		t.Fatal(err)
	}
	want := body.ConsumeStats{ConsumeTps: 3.5, OffsetTable: map[body.MessageQueue]body.OffsetWrapper{
		{Topic: "T", BrokerName: "b1"}: {BrokerOffset: 5, ConsumerOffset: 2},
		{Topic: "T", BrokerName: "b2"}: {BrokerOffset: 5, ConsumerOffset: 2},
	}}
	if !reflect.DeepEqual(cs, want) {
		t.Fatalf("merged stats %+v\nwant %+v", cs, want)
	}
	route := ns.requests(remoting.ReqGetRouteInfoByTopic)
	if topic, _ := route[0].Ext("topic"); topic != "%RETRY%G" {
		t.Fatalf("route asked for %q, want the retry topic", topic)
	}
}

func TestConsumeStatsEmptyIsConsumerNotOnline(t *testing.T) {
	b := serveFake(t, map[int32]answer{remoting.ReqGetConsumeStats: func(req *remoting.Command) *remoting.Command {
		return ok(req, []byte(`{"consumeTps":0.0,"offsetTable":{}}`))
	}})
	ns := serveFake(t, map[int32]answer{remoting.ReqGetRouteInfoByTopic: routeAnswer(map[string]string{"b": b.addr}, 1)})
	_, err := newAdmin(t, time.Second, ns.addr).ConsumeStats(context.Background(), "G", "")
	if !IsCode(err, remoting.RespConsumerNotOnline) {
		t.Fatalf("err = %v, want CONSUMER_NOT_ONLINE", err)
	}
}

func record(t *testing.T, topic string, queueID int32, queueOffset, physical int64, props map[string]string, payload string) []byte {
	t.Helper()
	m := &message.Message{
		Topic: topic, QueueID: queueID, QueueOffset: queueOffset, PhysicalOffset: physical,
		BornTimestamp: 1000 + physical, StoreTimestamp: 2000 + physical,
		BornHost:   netip.MustParseAddrPort("127.0.0.1:5000"),
		StoreHost:  netip.MustParseAddrPort("127.0.0.1:10911"),
		Body:       []byte(payload),
		Properties: message.FormatProperties(props),
	}
	return message.AppendRecord(nil, m)
}

func TestQueryMessageKeepsOnlyRealMatches(t *testing.T) {
	var records []byte
	records = append(records, record(t, "T", 0, 0, 0, map[string]string{"KEYS": "k1 k2", "UNIQ_KEY": "U1"}, "first")...)
	records = append(records, record(t, "T", 1, 0, 100, map[string]string{"KEYS": "k10", "UNIQ_KEY": "U2"}, "collision")...)
	records = append(records, record(t, "Other", 0, 0, 200, map[string]string{"KEYS": "k1"}, "other topic")...)
	b := serveFake(t, map[int32]answer{remoting.ReqQueryMessage: func(req *remoting.Command) *remoting.Command {
		return ok(req, records)
	}})
	ns := serveFake(t, map[int32]answer{remoting.ReqGetRouteInfoByTopic: routeAnswer(map[string]string{"b": b.addr}, 2)})
	a := newAdmin(t, time.Second, ns.addr)

	msgs, err := a.QueryMessage(context.Background(), Query{Topic: "T", Key: "k1", MaxNum: 64, End: 1 << 62})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || string(msgs[0].Body) != "first" || msgs[0].MsgID() != "U1" || msgs[0].BrokerName != "b" {
		t.Fatalf("key query kept %+v", msgs)
	}
	if msgs[0].OffsetMsgID != "7F00000100002A9F0000000000000000" {
		t.Fatalf("offset msg id %s", msgs[0].OffsetMsgID)
	}
	req := b.requests(remoting.ReqQueryMessage)[0]
	if req.ExtFields["key"] != "k1" || req.ExtFields["maxNum"] != "64" || req.ExtFields["_UNIQUE_KEY_QUERY"] != "" {
		t.Fatalf("query header %v", req.ExtFields)
	}

	msgs, err = a.QueryMessage(context.Background(), Query{Topic: "T", Key: "U2", MaxNum: 32, End: 1 << 62, UniqKey: true})
	if err != nil || len(msgs) != 1 || string(msgs[0].Body) != "collision" {
		t.Fatalf("unique key query: %+v, %v", msgs, err)
	}
	if req := b.requests(remoting.ReqQueryMessage)[1]; req.ExtFields["_UNIQUE_KEY_QUERY"] != "true" {
		t.Fatalf("unique key query header %v", req.ExtFields)
	}

	_, err = a.QueryMessage(context.Background(), Query{Topic: "T", Key: "nope", MaxNum: 64, End: 1 << 62})
	if !IsCode(err, RespNoMessage) {
		t.Fatalf("no match: err = %v, want NO_MESSAGE", err)
	}
}

func TestPullMapsStatusesAndRechecksTags(t *testing.T) {
	codes := map[int64]int32{0: remoting.RespSuccess, 1: remoting.RespPullNotFound, 2: remoting.RespPullRetryImmediately, 3: remoting.RespPullOffsetMoved, 4: remoting.RespTopicNotExist}
	recs := append(record(t, "T", 0, 0, 0, map[string]string{"TAGS": "A"}, "tag A"),
		record(t, "T", 0, 1, 100, map[string]string{"TAGS": "AA"}, "hash twin")...)
	b := serveFake(t, map[int32]answer{remoting.ReqPullMessage: func(req *remoting.Command) *remoting.Command {
		off, _ := req.RequiredInt64("queueOffset")
		resp := remoting.NewResponse(req, codes[off], "remark")
		resp.ExtFields = map[string]string{"nextBeginOffset": "2", "minOffset": "0", "maxOffset": "2", "suggestWhichBrokerId": "0"}
		if codes[off] == remoting.RespSuccess {
			resp.Body = recs
		}
		return resp
	}})
	a := newAdmin(t, time.Second, b.addr)
	mq := body.MessageQueue{Topic: "T", BrokerName: "b"}

	res, err := a.Pull(context.Background(), b.addr, mq, 0, 32, "A || B")
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != PullFound || len(res.Messages) != 1 || string(res.Messages[0].Body) != "tag A" || res.NextBeginOffset != 2 {
		t.Fatalf("found: %+v", res)
	}
	if p := res.Messages[0].Props; p["MIN_OFFSET"] != "0" || p["MAX_OFFSET"] != "2" {
		t.Fatalf("range properties %v", p)
	}
	req := b.requests(remoting.ReqPullMessage)[0]
	if req.ExtFields["consumerGroup"] != ToolsConsumerGroup || req.ExtFields["sysFlag"] != "4" || req.ExtFields["subscription"] != "A || B" {
		t.Fatalf("pull header %v", req.ExtFields)
	}
	for off, want := range map[int64]PullStatus{1: PullNoNewMsg, 2: PullNoMatchedMsg, 3: PullOffsetIllegal} {
		res, err := a.Pull(context.Background(), b.addr, mq, off, 32, "*")
		if err != nil || res.Status != want {
			t.Fatalf("offset %d: %+v, %v; want %s", off, res, err, want)
		}
	}
	if _, err := a.Pull(context.Background(), b.addr, mq, 4, 32, "*"); !IsCode(err, remoting.RespTopicNotExist) {
		t.Fatalf("err = %v, want TOPIC_NOT_EXIST", err)
	}
}

func TestSendToAChosenQueue(t *testing.T) {
	b := serveFake(t, map[int32]answer{remoting.ReqSendMessage: func(req *remoting.Command) *remoting.Command {
		resp := remoting.NewResponse(req, remoting.RespFlushDiskTimeout, "")
		queueID, _ := req.Ext("queueId")
		resp.ExtFields = map[string]string{"msgId": "7F00000100002AAF0000000000000064", "queueId": queueID, "queueOffset": "7"}
		return resp
	}})
	ns := serveFake(t, map[int32]answer{remoting.ReqGetRouteInfoByTopic: routeAnswer(map[string]string{"b": b.addr}, 4)})
	a := newAdmin(t, time.Second, ns.addr)

	res, err := a.Send(context.Background(), Outgoing{Topic: "T", Tags: "TagA", Keys: "k1", Body: []byte("hi")}, "b", 3)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "FLUSH_DISK_TIMEOUT" || res.Queue != (body.MessageQueue{Topic: "T", BrokerName: "b", QueueID: 3}) ||
		res.OffsetMsgID != "7F00000100002AAF0000000000000064" || res.QueueOffset != 7 || len(res.MsgID) != 32 {
		t.Fatalf("result %+v", res)
	}
	req := b.requests(remoting.ReqSendMessage)[0]
	properties, _ := req.Ext("properties")
	queueID, _ := req.Ext("queueId")
	props := message.ParseProperties(properties)
	if props["TAGS"] != "TagA" || props["KEYS"] != "k1" || props["UNIQ_KEY"] != res.MsgID || string(req.Body) != "hi" || queueID != "3" {
		t.Fatalf("send request props %v queueId %q body %q", props, queueID, req.Body)
	}
	if _, err := a.Send(context.Background(), Outgoing{Topic: "T", Body: []byte("x")}, "nobody", 0); !errors.Is(err, ErrNoQueue) {
		t.Fatalf("unknown broker: err = %v, want ErrNoQueue", err)
	}
}

func TestResetOffsetOfflineCommitsSearchedOffsets(t *testing.T) {
	var mu sync.Mutex
	committed := map[string]string{}
	b := serveFake(t, map[int32]answer{
		remoting.ReqGetConsumeStats: func(req *remoting.Command) *remoting.Command {
			return ok(req, []byte(`{"offsetTable":{{"brokerName":"b","queueId":1,"topic":"T"}:{"brokerOffset":9,"consumerOffset":9},`+
				`{"brokerName":"b","queueId":0,"topic":"T"}:{"brokerOffset":8,"consumerOffset":2},`+
				`{"brokerName":"b","queueId":0,"topic":"Other"}:{"brokerOffset":1,"consumerOffset":1}}}`))
		},
		remoting.ReqSearchOffsetByTimestamp: func(req *remoting.Command) *remoting.Command {
			resp := ok(req, nil)
			resp.ExtFields = map[string]string{"offset": map[string]string{"0": "4", "1": "6"}[req.ExtFields["queueId"]]}
			return resp
		},
		remoting.ReqUpdateConsumerOffset: func(req *remoting.Command) *remoting.Command {
			mu.Lock()
			committed[req.ExtFields["topic"]+"/"+req.ExtFields["queueId"]] = req.ExtFields["commitOffset"]
			mu.Unlock()
			return ok(req, nil)
		},
	})
	ns := serveFake(t, map[int32]answer{remoting.ReqGetRouteInfoByTopic: routeAnswer(map[string]string{"b": b.addr}, 2)})
	a := newAdmin(t, time.Second, ns.addr)

	// Without force only the queue the timestamp moves back (1: 9 → 6) is
	// committed; queue 0 would move forward (2 → 4) and is kept.
	stats, err := a.ResetOffsetOffline(context.Background(), "T", "G", 12345, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []RollbackStats{
		{Queue: body.MessageQueue{Topic: "T", BrokerName: "b", QueueID: 0}, BrokerOffset: 8, ConsumerOffset: 2, TimestampOffset: 4, RollbackOffset: 2},
		{Queue: body.MessageQueue{Topic: "T", BrokerName: "b", QueueID: 1}, BrokerOffset: 9, ConsumerOffset: 9, TimestampOffset: 6, RollbackOffset: 6},
	}
	if !reflect.DeepEqual(stats, want) {
		t.Fatalf("stats %+v\nwant %+v", stats, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if !reflect.DeepEqual(committed, map[string]string{"T/1": "6"}) {
		t.Fatalf("committed %v", committed)
	}
}

func TestBrokerConfigRoundTripBodies(t *testing.T) {
	var mu sync.Mutex
	var updated string
	b := serveFake(t, map[int32]answer{
		remoting.ReqGetBrokerConfig: func(req *remoting.Command) *remoting.Command {
			return ok(req, []byte("brokerName=b\nlistenPort=10911\n"))
		},
		remoting.ReqUpdateBrokerConfig: func(req *remoting.Command) *remoting.Command {
			mu.Lock()
			updated = string(req.Body)
			mu.Unlock()
			return ok(req, nil)
		},
		remoting.ReqDeleteSubscriptionGroup: func(req *remoting.Command) *remoting.Command {
			if req.ExtFields["removeOffset"] != "true" || req.ExtFields["cleanOffset"] != "true" || req.ExtFields["groupName"] != "G" {
				return remoting.NewResponse(req, remoting.RespSystemError, fmt.Sprint(req.ExtFields))
			}
			return ok(req, nil)
		},
	})
	a := newAdmin(t, time.Second, b.addr)
	props, err := a.BrokerConfig(context.Background(), b.addr)
	if err != nil || !reflect.DeepEqual(props, []Property{{"brokerName", "b"}, {"listenPort", "10911"}}) {
		t.Fatalf("config %v, %v", props, err)
	}
	if err := a.UpdateBrokerConfig(context.Background(), b.addr, "flushIntervalCommitLog", "300"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if updated != "flushIntervalCommitLog=300\n" {
		t.Fatalf("update body %q", updated)
	}
	mu.Unlock()
	if err := a.DeleteSubscriptionGroup(context.Background(), b.addr, "G", true); err != nil {
		t.Fatal(err)
	}
	err = a.DeleteTopicInBroker(context.Background(), b.addr, "T")
	if !IsCode(err, remoting.RespRequestCodeNotSupported) || !strings.HasPrefix(err.Error(), "REQUEST_CODE_NOT_SUPPORTED (3)") {
		t.Fatalf("unsupported request: err = %v", err)
	}
}
