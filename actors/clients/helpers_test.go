package clients

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/meta"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/internal/testkit/netkit"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/rs/zerolog"
)

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
	sys := testkit.ActorSystem(t)
	md, err := meta.Spawn(sys, meta.Config{Broker: cfg, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	mgr, err := spawn(sys, cfg, md, zerolog.Nop(), options{now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	// Registered before Serve so that it runs after the server is down.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
		defer cancel()
		_ = mgr.Stop(ctx)
		_ = md.Stop(ctx)
	})
	addr := netkit.Serve(t, &netkit.Router{Handlers: mgr.Handlers(), Closed: mgr.OnClose})
	return &fixture{t: t, meta: md, mgr: mgr, addr: addr, now: clock}
}

// sync waits until the actor processed everything sent before it.
func (m *Manager) sync(timeout time.Duration) error {
	_, err := m.system.Root.RequestFuture(m.pid, &syncRequest{}, timeout).Result()
	return err
}

// closeAll closes the clients' connections. netio.Client.Close waits for the
// OnRequest calls it started, and every request the server wrote before the
// last response a client read has started one; so after closeAll the
// notifications lists are final, and a check that none arrived can fail.
func closeAll(t *testing.T, cs ...*testClient) {
	t.Helper()
	for _, c := range cs {
		if err := c.cli.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

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
	tc.cli = netkit.Client(f.t, netio.ClientConfig{OnRequest: func(_ string, cmd *remoting.Command) *remoting.Command {
		if cmd.Code == remoting.ReqNotifyConsumerIDsChanged {
			tc.mu.Lock()
			tc.notified = append(tc.notified, cmd.ExtFields["consumerGroup"])
			tc.mu.Unlock()
		}
		return nil
	}})
	return tc
}

func (c *testClient) notifications() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.notified...)
}

func (c *testClient) invoke(cmd *remoting.Command) *remoting.Command {
	c.f.t.Helper()
	return netkit.Invoke(c.f.t, c.cli, c.f.addr, cmd)
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
