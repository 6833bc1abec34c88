package namesrv

import (
	"encoding/json"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
)

var b1 = broker{cluster: "DefaultCluster", name: "broker-a", addr: "127.0.0.1:10911", counter: 1,
	topics: []body.TopicConfig{topic("T1", 4), topic("TBW102", 8)}}

// goClientBrokerAddrs parses brokerAddrs the way rocketmq-client-go 2.1.2
// does (client-quirks A2.8): raw text, strip the braces, split on ',', split
// each piece at the first ':', delete '"'.
func goClientBrokerAddrs(t *testing.T, raw json.RawMessage) map[int64]string {
	t.Helper()
	s := string(raw)
	s = s[1 : len(s)-1]
	out := map[int64]string{}
	for _, piece := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(piece, ":")
		if !ok {
			t.Fatalf("piece %q has no ':'", piece)
		}
		id, err := strconv.ParseInt(strings.ReplaceAll(k, `"`, ""), 10, 64)
		if err != nil {
			t.Fatalf("id %q: %v", k, err)
		}
		out[id] = strings.ReplaceAll(v, `"`, "")
	}
	return out
}

func TestRegisterAndRoute(t *testing.T) {
	s := testServer(t, nil)
	brk, cli := newPeer(t, s), newPeer(t, s)

	resp := brk.register(b1)
	brk.mustCode(resp, remoting.RespSuccess)
	if len(resp.Body) != 0 || resp.ExtFields["masterAddr"] != "" {
		t.Fatalf("master registration answer: ext=%v body=%q", resp.ExtFields, resp.Body)
	}

	resp = cli.route("T1")
	cli.mustCode(resp, remoting.RespSuccess)
	want := `{"queueDatas":[{"brokerName":"broker-a","readQueueNums":4,"writeQueueNums":4,"perm":6,"topicSysFlag":0}],` +
		`"brokerDatas":[{"cluster":"DefaultCluster","brokerName":"broker-a","brokerAddrs":{"0":"127.0.0.1:10911"}}],` +
		`"filterServerTable":{}}`
	if string(resp.Body) != want {
		t.Fatalf("route body:\n%s\nwant:\n%s", resp.Body, want)
	}
	// What the Go client does with it.
	var parsed struct {
		QueueDatas  []map[string]any `json:"queueDatas"`
		BrokerDatas []struct {
			BrokerAddrs json.RawMessage `json:"brokerAddrs"`
		} `json:"brokerDatas"`
	}
	if err := json.Unmarshal(resp.Body, &parsed); err != nil {
		t.Fatal(err)
	}
	if len(parsed.QueueDatas) != 1 || len(parsed.BrokerDatas) != 1 {
		t.Fatalf("parsed = %+v", parsed)
	}
	if got := goClientBrokerAddrs(t, parsed.BrokerDatas[0].BrokerAddrs); !reflect.DeepEqual(got, map[int64]string{0: "127.0.0.1:10911"}) {
		t.Fatalf("go client brokerAddrs = %v", got)
	}

	cli.mustCode(cli.route("TBW102"), remoting.RespSuccess)
}

func TestUnknownTopic(t *testing.T) {
	s := testServer(t, nil)
	cli := newPeer(t, s)
	resp := cli.route("NOPE")
	cli.mustCode(resp, remoting.RespTopicNotExist)
	if resp.Remark != "No topic route info in name server for the topic: NOPE" {
		t.Fatalf("remark = %q", resp.Remark)
	}
}

func TestSlaveRegistrationAndRoute(t *testing.T) {
	s := testServer(t, nil)
	master, slave, cli := newPeer(t, s), newPeer(t, s), newPeer(t, s)
	master.mustCode(master.register(b1), remoting.RespSuccess)
	sb := b1
	sb.addr, sb.id, sb.topics = "127.0.0.1:20911", 1, nil
	resp := slave.register(sb)
	slave.mustCode(resp, remoting.RespSuccess)
	if resp.ExtFields["masterAddr"] != "127.0.0.1:10911" || resp.ExtFields["haServerAddr"] != "127.0.0.1:109110" {
		t.Fatalf("slave answer ext = %v", resp.ExtFields)
	}
	route := string(cli.route("T1").Body)
	if !strings.Contains(route, `"brokerAddrs":{"0":"127.0.0.1:10911","1":"127.0.0.1:20911"}`) {
		t.Fatalf("route = %s", route)
	}
}

func TestBrokerConnectionCloseRemovesRoute(t *testing.T) {
	s := testServer(t, nil)
	brk, cli := newPeer(t, s), newPeer(t, s)
	brk.mustCode(brk.register(b1), remoting.RespSuccess)
	cli.mustCode(cli.route("T1"), remoting.RespSuccess)

	// A client's connection closing changes nothing.
	other := newPeer(t, s)
	other.mustCode(other.route("T1"), remoting.RespSuccess)
	if err := other.c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := brk.c.Close(); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "route removal", func() bool { return cli.route("T1").Code == remoting.RespTopicNotExist })
	ci := cli.invoke(remoting.ReqGetBrokerClusterInfo, nil, nil)
	if string(ci.Body) != `{"brokerAddrTable":{},"clusterAddrTable":{}}` {
		t.Fatalf("cluster info = %s", ci.Body)
	}
}

func TestClientCloseKeepsRoute(t *testing.T) {
	var closes, removals atomic.Int32
	s := testServer(t, nil, func(s *Server) {
		s.hooks.connClosed = func(_ uint64, removed []string) {
			removals.Add(int32(len(removed)))
			closes.Add(1)
		}
	})
	brk := newPeer(t, s)
	brk.mustCode(brk.register(b1), remoting.RespSuccess)
	for i := 0; i < 3; i++ {
		c := newPeer(t, s)
		c.mustCode(c.route("T1"), remoting.RespSuccess)
		_ = c.c.Close()
	}
	testkit.Eventually(t, "closes processed", func() bool { return closes.Load() == 3 })
	if n := removals.Load(); n != 0 {
		t.Fatalf("client closes removed %d brokers", n)
	}
	brk.mustCode(brk.route("T1"), remoting.RespSuccess)
}

func TestExpiry(t *testing.T) {
	s := testServer(t, func(c *config.Namesrv) { c.ScanNotActiveBrokerInterval = 20 * time.Millisecond })
	brk, cli := newPeer(t, s), newPeer(t, s)
	// Routed under the default timeout first: registered with 100 ms at
	// once, the broker could expire before the route query on a loaded
	// machine. The next heartbeat's timeout replaces the default.
	brk.mustCode(brk.register(b1), remoting.RespSuccess)
	cli.mustCode(cli.route("T1"), remoting.RespSuccess)
	eb := b1
	eb.timeoutMs = 100
	brk.mustCode(brk.register(eb), remoting.RespSuccess)
	testkit.Eventually(t, "expiry", func() bool { return cli.route("T1").Code == remoting.RespTopicNotExist })
}

func TestUnregister(t *testing.T) {
	s := testServer(t, nil)
	brk := newPeer(t, s)
	brk.mustCode(brk.register(b1), remoting.RespSuccess)
	brk.mustCode(brk.invoke(remoting.ReqUnregisterBroker, map[string]string{
		"clusterName": b1.cluster, "brokerName": b1.name, "brokerAddr": b1.addr, "brokerId": "0",
	}, nil), remoting.RespSuccess)
	brk.mustCode(brk.route("T1"), remoting.RespTopicNotExist)
	brk.mustCode(brk.invoke(remoting.ReqUnregisterBroker, map[string]string{"clusterName": "C"}, nil), remoting.RespSystemError)
}

func TestTopicQueries(t *testing.T) {
	s := testServer(t, nil)
	brk, cli := newPeer(t, s), newPeer(t, s)
	brk.mustCode(brk.register(b1), remoting.RespSuccess)
	b2 := broker{cluster: "Other", name: "broker-b", addr: "127.0.0.1:30911", counter: 1,
		topics: []body.TopicConfig{topic("T1", 2), topic("T2", 2)}}
	brk.mustCode(brk.register(b2), remoting.RespSuccess)

	if got := string(cli.invoke(remoting.ReqGetAllTopicListFromNameserver, nil, nil).Body); got != `{"topicList":["T1","T2","TBW102"]}` {
		t.Fatalf("all topics = %s", got)
	}
	if got := string(cli.invoke(remoting.ReqGetTopicsByCluster, map[string]string{"cluster": "Other"}, nil).Body); got != `{"topicList":["T1","T2"]}` {
		t.Fatalf("topics by cluster = %s", got)
	}
	ci := string(cli.invoke(remoting.ReqGetBrokerClusterInfo, nil, nil).Body)
	wantCI := `{"brokerAddrTable":{"broker-a":{"cluster":"DefaultCluster","brokerName":"broker-a","brokerAddrs":{"0":"127.0.0.1:10911"}},` +
		`"broker-b":{"cluster":"Other","brokerName":"broker-b","brokerAddrs":{"0":"127.0.0.1:30911"}}},` +
		`"clusterAddrTable":{"DefaultCluster":["broker-a"],"Other":["broker-b"]}}`
	if ci != wantCI {
		t.Fatalf("cluster info:\n%s\nwant:\n%s", ci, wantCI)
	}

	// Delete T1 in cluster Other only, then everywhere.
	cli.mustCode(cli.invoke(remoting.ReqDeleteTopicInNamesrv, map[string]string{"topic": "T1", "clusterName": "Other"}, nil), remoting.RespSuccess)
	if r := string(cli.route("T1").Body); strings.Contains(r, "broker-b") || !strings.Contains(r, "broker-a") {
		t.Fatalf("route after cluster delete = %s", r)
	}
	cli.mustCode(cli.invoke(remoting.ReqDeleteTopicInNamesrv, map[string]string{"topic": "T1"}, nil), remoting.RespSuccess)
	cli.mustCode(cli.route("T1"), remoting.RespTopicNotExist)

	// Register a topic by route data (Java's fastjson form with bare ids).
	rd := `{"queueDatas":[{"brokerName":"broker-b","readQueueNums":3,"writeQueueNums":3,"perm":6,"topicSysFlag":0}],` +
		`"brokerDatas":[{"cluster":"Other","brokerName":"broker-b","brokerAddrs":{0:"127.0.0.1:30911"}}]}`
	cli.mustCode(cli.invoke(remoting.ReqRegisterTopicInNamesrv, map[string]string{"topic": "T3"}, []byte(rd)), remoting.RespSuccess)
	if r := string(cli.route("T3").Body); !strings.Contains(r, `"readQueueNums":3`) {
		t.Fatalf("T3 route = %s", r)
	}

	// Write permission.
	resp := cli.invoke(remoting.ReqWipeWritePermOfBroker, map[string]string{"brokerName": "broker-b"}, nil)
	if resp.Code != 0 || resp.ExtFields["wipeTopicCount"] != "2" {
		t.Fatalf("wipe: %d %v", resp.Code, resp.ExtFields)
	}
	if r := string(cli.route("T2").Body); !strings.Contains(r, `"perm":4`) {
		t.Fatalf("T2 after wipe = %s", r)
	}
	resp = cli.invoke(remoting.ReqAddWritePermOfBroker, map[string]string{"brokerName": "broker-b"}, nil)
	if resp.Code != 0 || resp.ExtFields["addTopicCount"] != "2" {
		t.Fatalf("add: %d %v", resp.Code, resp.ExtFields)
	}
	testkit.Eventually(t, "in-flight count back to zero", func() bool { return s.inflight.Load() == 0 })
}

func TestAllTopicListDisabled(t *testing.T) {
	s := testServer(t, func(c *config.Namesrv) { c.EnableAllTopicList = false })
	cli := newPeer(t, s)
	resp := cli.invoke(remoting.ReqGetAllTopicListFromNameserver, nil, nil)
	if resp.Code != remoting.RespSystemError || resp.Remark != "disable" {
		t.Fatalf("code=%d remark=%q", resp.Code, resp.Remark)
	}
}

func TestQueryDataVersion(t *testing.T) {
	s := testServer(t, nil)
	brk := newPeer(t, s)
	brk.mustCode(brk.register(b1), remoting.RespSuccess)
	ext := map[string]string{"clusterName": b1.cluster, "brokerName": b1.name, "brokerAddr": b1.addr, "brokerId": "0"}
	same := `{"stateVersion":0,"timestamp":1700000000000,"counter":1}`
	resp := brk.invoke(remoting.ReqQueryDataVersion, ext, []byte(same))
	if resp.Code != 0 || resp.ExtFields["changed"] != "false" || string(resp.Body) != same {
		t.Fatalf("same version: %d %v %s", resp.Code, resp.ExtFields, resp.Body)
	}
	resp = brk.invoke(remoting.ReqQueryDataVersion, ext, []byte(`{"timestamp":1700000000000,"counter":2}`))
	if resp.ExtFields["changed"] != "true" {
		t.Fatalf("new version: %v", resp.ExtFields)
	}
}

func TestRequestErrors(t *testing.T) {
	s := testServer(t, nil)
	cli := newPeer(t, s)
	resp := cli.invoke(9999, nil, nil)
	if resp.Code != remoting.RespRequestCodeNotSupported || resp.Remark != " request type 9999 not supported" {
		t.Fatalf("unknown code: %d %q", resp.Code, resp.Remark)
	}
	resp = cli.invoke(remoting.ReqGetRouteInfoByTopic, nil, nil)
	if resp.Code != remoting.RespSystemError || !strings.Contains(resp.Remark, "topic") {
		t.Fatalf("missing topic: %d %q", resp.Code, resp.Remark)
	}
	resp = cli.invoke(remoting.ReqGetNamesrvConfig, nil, nil)
	if resp.Code != 0 || !strings.Contains(string(resp.Body), "listenPort=9876\n") ||
		!strings.Contains(string(resp.Body), "scanNotActiveBrokerInterval=10000\n") {
		t.Fatalf("namesrv config: %d %q", resp.Code, resp.Body)
	}
}

func TestShutdownIdempotent(t *testing.T) {
	s := testServer(t, nil)
	ctx := t.Context()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != ErrStarted {
		t.Fatalf("Start after Shutdown = %v", err)
	}
	n := New(config.DefaultNamesrv(), s.log)
	if err := n.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown before Start = %v", err)
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		s := New(config.Namesrv{ListenAddr: "127.0.0.1:0", KVConfigPath: t.TempDir() + "/kv.json",
			ScanNotActiveBrokerInterval: 10 * time.Millisecond}, zerolog.Nop())
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		p := &peer{t: t, c: netio.NewClient(netio.ClientConfig{Logger: zerolog.Nop()}), addr: s.Addr()}
		p.mustCode(p.register(b1), remoting.RespSuccess)
		p.mustCode(p.invoke(remoting.ReqPutKVConfig, map[string]string{"namespace": "N", "key": "k", "value": "v"}, nil), 0)
		_ = p.c.Close()
		if err := s.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
	}()
	testkit.WaitGoroutines(t, before)
}
