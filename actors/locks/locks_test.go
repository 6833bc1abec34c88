package locks

import (
	"encoding/json"
	"fmt"
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

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fixture serves the locks actor (with the real metadata actor) on
// 127.0.0.1:0; each client is its own connection.
type fixture struct {
	t     *testing.T
	md    *meta.Metadata
	locks *Locks
	clock *clock
	addr  string
}

func newFixture(t *testing.T, autoCreateGroup bool) *fixture {
	t.Helper()
	cfg := config.DefaultBroker()
	cfg.StorePathRootDir = t.TempDir()
	cfg.AutoCreateSubscriptionGroup = autoCreateGroup
	sys := testkit.ActorSystem(t)
	md, err := meta.Spawn(sys, meta.Config{Broker: cfg, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, md: md, clock: &clock{now: time.Unix(1700000000, 0)}}
	if f.locks, err = spawn(sys, Config{Broker: cfg, Groups: md, Expiry: time.Minute}, options{now: f.clock.Now}); err != nil {
		t.Fatal(err)
	}
	f.addr = netkit.Serve(t, &netkit.Router{Handlers: f.locks.Handlers(), Closed: f.locks.OnClose})
	t.Cleanup(func() {
		ctx := testkit.Context(t)
		if err := f.locks.Stop(ctx); err != nil {
			t.Errorf("locks stop: %v", err)
		}
		if err := md.Stop(ctx); err != nil {
			t.Errorf("meta stop: %v", err)
		}
	})
	return f
}

// conn is one client connection.
type conn struct {
	f *fixture
	c *netio.Client
}

func (f *fixture) dial() *conn {
	return &conn{f: f, c: netkit.Client(f.t, netio.ClientConfig{})}
}

func (c *conn) invoke(code int32, b []byte) *remoting.Command {
	c.f.t.Helper()
	return netkit.Invoke(c.f.t, c.c, c.f.addr, remoting.NewRequest(code, nil, b))
}

// lock asks for queue ids of topic T and returns the granted ids, failing
// on any code but SUCCESS.
func (c *conn) lock(group, client string, ids ...int32) []int32 {
	c.f.t.Helper()
	resp := c.invoke(remoting.ReqLockBatchMQ, goBody(group, client, ids...))
	if resp.Code != remoting.RespSuccess {
		c.f.t.Fatalf("lock: code %d %q", resp.Code, resp.Remark)
	}
	// Decode as the Go client does (a struct with lockOKMQSet).
	var got struct {
		MQs []struct {
			Topic      string `json:"topic"`
			BrokerName string `json:"brokerName"`
			QueueID    int32  `json:"queueId"`
		} `json:"lockOKMQSet"`
	}
	if err := json.Unmarshal(resp.Body, &got); err != nil || got.MQs == nil {
		c.f.t.Fatalf("lock response %q: %v", resp.Body, err)
	}
	ids = nil
	for _, mq := range got.MQs {
		if mq.Topic != "T" || mq.BrokerName != "broker-a" {
			c.f.t.Fatalf("granted %+v, not a queue asked for", mq)
		}
		ids = append(ids, mq.QueueID)
	}
	return ids
}

func (c *conn) unlock(group, client string, ids ...int32) {
	c.f.t.Helper()
	if resp := c.invoke(remoting.ReqUnlockBatchMQ, goBody(group, client, ids...)); resp.Code != remoting.RespSuccess {
		c.f.t.Fatalf("unlock: code %d %q", resp.Code, resp.Remark)
	}
}

// goBody is a lock body as the Go client writes it (no onlyThisBroker).
func goBody(group, client string, ids ...int32) []byte {
	mqs := ""
	for i, id := range ids {
		if i > 0 {
			mqs += ","
		}
		mqs += fmt.Sprintf(`{"topic":"T","brokerName":"broker-a","queueId":%d}`, id)
	}
	return []byte(fmt.Sprintf(`{"consumerGroup":%q,"clientId":%q,"mqSet":[%s]}`, group, client, mqs))
}

func same(got []int32, want ...int32) bool { return fmt.Sprint(got) == fmt.Sprint(want) }

// TestLockLifecycle: grants, refusals, renewal, expiry, unlock, and the
// release of a client's locks when its connection closes.
func TestLockLifecycle(t *testing.T) {
	f := newFixture(t, true)
	a, b := f.dial(), f.dial()
	if got := a.lock("G", "A", 0, 1); !same(got, 0, 1) {
		t.Fatalf("A: %v", got)
	}
	if _, ok := f.md.Group("G"); !ok {
		t.Fatal("the group was not auto-created")
	}
	if _, ok := f.md.Topic(body.RetryTopic("G")); !ok {
		t.Fatal("the group's retry topic was not created, as a heartbeat would")
	}
	if got := b.lock("G", "B", 0, 1, 2, 3); !same(got, 2, 3) {
		t.Fatalf("B beside A: %v", got)
	}
	f.clock.advance(59 * time.Second)
	if got := a.lock("G", "A", 0); !same(got, 0) { // renewal
		t.Fatalf("A renews: %v", got)
	}
	f.clock.advance(2 * time.Second) // q1 unrenewed for 61 s
	if got := b.lock("G", "B", 0, 1, 2, 3); !same(got, 1, 2, 3) {
		t.Fatalf("B after q1 expired: %v", got)
	}
	b.unlock("G", "A", 2, 3) // not A's: nothing happens
	if got := a.lock("G", "A", 2, 3); len(got) != 0 {
		t.Fatalf("A took B's queues after a foreign unlock: %v", got)
	}
	b.unlock("G", "B", 3)
	if got := a.lock("G", "A", 3); !same(got, 3) {
		t.Fatalf("A after B unlocked q3: %v", got)
	}

	// B's connection closes: q1 and q2 are free at once, no expiry.
	if err := b.c.Close(); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "B's locks released on close", func() bool {
		return same(a.lock("G", "A", 1, 2), 1, 2)
	})
}

// TestReleaseOnLastConnection: a client that locked through two
// connections keeps its locks until both are closed.
func TestReleaseOnLastConnection(t *testing.T) {
	l := &Locks{cfg: Config{Expiry: time.Minute}, log: zerolog.Nop()}
	a := newLocksActor(l, options{now: time.Now})
	now := time.Now()
	a.table.lock("G", "A", []body.MessageQueue{mq("T", 0)}, now)
	a.track(1, "A")
	a.track(2, "A")
	a.table.lock("G", "B", []body.MessageQueue{mq("T", 1)}, now)
	a.track(2, "B") // two clients on one connection (a shared client process)
	a.closed(1)
	if got := a.table.lock("G", "C", []body.MessageQueue{mq("T", 0), mq("T", 1)}, now); len(got) != 0 {
		t.Fatalf("locks released while connection 2 is open: C got %v", got)
	}
	a.closed(2)
	if got := a.table.lock("G", "C", []body.MessageQueue{mq("T", 0), mq("T", 1)}, now); len(got) != 2 {
		t.Fatalf("after the last connection closed C got %v, want both", got)
	}
	if len(a.conns) != 0 || len(a.clientConns) != 0 {
		t.Fatalf("connection index not emptied: %v %v", a.conns, a.clientConns)
	}
}

// TestLockBadInput: malformed bodies and unknown groups are answered with
// their codes and change nothing; the actor keeps serving.
func TestLockBadInput(t *testing.T) {
	f := newFixture(t, false)
	a := f.dial()
	cases := []struct {
		name string
		code int32
		req  int32
		body string
	}{
		{"no body", remoting.RespInvalidParameter, remoting.ReqLockBatchMQ, ""},
		{"not JSON", remoting.RespInvalidParameter, remoting.ReqLockBatchMQ, "{nope"},
		{"mqSet not a list", remoting.RespInvalidParameter, remoting.ReqLockBatchMQ, `{"consumerGroup":"G","clientId":"A","mqSet":7}`},
		{"no group", remoting.RespInvalidParameter, remoting.ReqLockBatchMQ, `{"clientId":"A","mqSet":[]}`},
		{"bad group name", remoting.RespInvalidParameter, remoting.ReqLockBatchMQ, `{"consumerGroup":"a b","clientId":"A","mqSet":[]}`},
		{"no client", remoting.RespInvalidParameter, remoting.ReqUnlockBatchMQ, `{"consumerGroup":"G","mqSet":[]}`},
		{"unlock not JSON", remoting.RespInvalidParameter, remoting.ReqUnlockBatchMQ, "[1,2"},
		{"unknown group, auto-create off", remoting.RespSubscriptionGroupNotExist, remoting.ReqLockBatchMQ, string(goBody("G", "A", 0))},
	}
	for _, c := range cases {
		if resp := a.invoke(c.req, []byte(c.body)); resp.Code != c.code {
			t.Errorf("%s: code %d %q, want %d", c.name, resp.Code, resp.Remark, c.code)
		}
	}
	if _, ok := f.md.Group("G"); ok {
		t.Fatal("a refused lock created its group")
	}
	// An unlock of a group that does not exist holds nothing: SUCCESS.
	a.unlock("G", "A", 0)
	// Once an operator creates the group, locks work.
	createGroup(t, f, "G")
	if got := a.lock("G", "A", 0); !same(got, 0) {
		t.Fatalf("lock after the group was created: %v", got)
	}
	// A Java body (all fields, onlyThisBroker) decodes too.
	java := `{"clientId":"J","consumerGroup":"G","mqSet":[{"brokerName":"broker-a","queueId":1,"topic":"T"}],"onlyThisBroker":false}`
	if resp := a.invoke(remoting.ReqLockBatchMQ, []byte(java)); resp.Code != remoting.RespSuccess ||
		string(resp.Body) != `{"lockOKMQSet":[{"topic":"T","brokerName":"broker-a","queueId":1}]}` {
		t.Fatalf("Java body: code %d body %s", resp.Code, resp.Body)
	}
}

// createGroup creates a group through the admin request
// UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, served by the metadata actor.
func createGroup(t *testing.T, f *fixture, name string) {
	t.Helper()
	addr := netkit.Serve(t, &netkit.Router{Handlers: f.md.Handlers()})
	c := netkit.Client(t, netio.ClientConfig{})
	g := body.DefaultSubscriptionGroup(name)
	resp := netkit.Invoke(t, c, addr, remoting.NewRequest(remoting.ReqUpdateAndCreateSubscription, nil, body.EncodeJSON(g)))
	if resp.Code != remoting.RespSuccess {
		t.Fatalf("create group: code %d %q", resp.Code, resp.Remark)
	}
}
