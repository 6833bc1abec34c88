package clients

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/meta"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

const waitTimeout = 10 * time.Second

// waitFor polls cond until it holds or waitTimeout passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

func testBroker(dir string) config.Broker {
	return config.Broker{
		BrokerClusterName: "DefaultCluster", BrokerName: "broker-a", StorePathRootDir: dir,
		AutoCreateTopicEnable: true, AutoCreateSubscriptionGroup: true, DefaultTopicQueueNums: 8,
		ChannelExpiredTimeout: 120 * time.Second, NotifyConsumerIDsChanged: true,
	}
}

// fixture is a running meta + client manager behind a real server.
type fixture struct {
	t    *testing.T
	meta *meta.Metadata
	mgr  *Manager
	addr string
	now  *fakeClock
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newFixture(t *testing.T, cfg config.Broker) *fixture {
	t.Helper()
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}))
	t.Cleanup(sys.Shutdown)
	md, err := meta.Spawn(sys, meta.Config{Broker: cfg, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	mgr, err := spawn(sys, cfg, md, zerolog.Nop(), options{now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	h := mgr.Handlers()
	srv := netio.NewServer(netio.ServerConfig{Addr: "127.0.0.1:0", EventLoops: 1, Logger: zerolog.Nop()},
		&dispatch{h: h, onClose: mgr.OnClose})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = mgr.Stop(ctx)
		_ = md.Stop(ctx)
	})
	return &fixture{t: t, meta: md, mgr: mgr, addr: srv.Addr(), now: clock}
}

type dispatch struct {
	h       map[int32]func(*netio.Conn, *remoting.Command)
	onClose func(*netio.Conn)
}

func (d *dispatch) OnRequest(c *netio.Conn, cmd *remoting.Command) {
	if h := d.h[cmd.Code]; h != nil {
		h(c, cmd)
		return
	}
	_ = c.Write(remoting.NewResponse(cmd, remoting.RespRequestCodeNotSupported, "not supported"))
}

func (d *dispatch) OnClose(c *netio.Conn) { d.onClose(c) }

// testClient is one client connection that records the NOTIFY_CONSUMER_IDS_CHANGED it gets.
type testClient struct {
	f   *fixture
	id  string
	cli *netio.Client

	mu       sync.Mutex
	notified []string // consumerGroup of each code-40 request
}

func (f *fixture) client(id string) *testClient {
	tc := &testClient{f: f, id: id}
	tc.cli = netio.NewClient(netio.ClientConfig{Logger: zerolog.Nop(), OnRequest: func(_ string, cmd *remoting.Command) *remoting.Command {
		if cmd.Code == remoting.ReqNotifyConsumerIDsChanged {
			tc.mu.Lock()
			tc.notified = append(tc.notified, cmd.ExtFields["consumerGroup"])
			tc.mu.Unlock()
		}
		return nil
	}})
	f.t.Cleanup(func() { _ = tc.cli.Close() })
	return tc
}

func (c *testClient) notifications() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.notified...)
}

func (c *testClient) invoke(cmd *remoting.Command) *remoting.Command {
	c.f.t.Helper()
	resp, err := c.cli.Invoke(ctxT(c.f.t), c.f.addr, cmd)
	if err != nil {
		c.f.t.Fatalf("invoke code %d: %v", cmd.Code, err)
	}
	return resp
}

// heartbeat sends a HEART_BEAT with one consumer group (when group != "")
// subscribed to subs, and producer groups.
func (c *testClient) heartbeat(group, model string, subs []body.SubscriptionData, producers ...string) *remoting.Command {
	hb := body.HeartbeatData{ClientID: c.id}
	if group != "" {
		hb.ConsumerDataSet = []body.ConsumerData{{
			GroupName: group, ConsumeType: "CONSUME_PASSIVELY", MessageModel: model,
			ConsumeFromWhere: "CONSUME_FROM_LAST_OFFSET", SubscriptionDataSet: subs,
		}}
	}
	for _, p := range producers {
		hb.ProducerDataSet = append(hb.ProducerDataSet, body.ProducerData{GroupName: p})
	}
	b, err := json.Marshal(hb)
	if err != nil {
		c.f.t.Fatal(err)
	}
	return c.invoke(remoting.NewRequest(remoting.ReqHeartBeat, nil, b))
}

func (c *testClient) consumerList(group string) *remoting.Command {
	return c.invoke(remoting.NewRequest(remoting.ReqGetConsumerListByGroup, map[string]string{"consumerGroup": group}, nil))
}

func consumerIDs(t *testing.T, resp *remoting.Command) []string {
	t.Helper()
	if resp.Code != remoting.RespSuccess {
		t.Fatalf("GET_CONSUMER_LIST_BY_GROUP: code %d %s", resp.Code, resp.Remark)
	}
	var l body.ConsumerIDList
	if err := json.Unmarshal(resp.Body, &l); err != nil {
		t.Fatal(err)
	}
	return l.ConsumerIDList
}

func sub(topic, expr string, version int64) body.SubscriptionData {
	return body.SubscriptionData{Topic: topic, SubString: expr, SubVersion: version, ExpressionType: "TAG"}
}
