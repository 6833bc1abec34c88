package send_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/queue"
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/actors/send"
	"github.com/actormq/actormq/actors/writer"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/internal/testkit/netkit"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// fakeMeta is the control plane: topics (with optional auto-create) and
// subscriptions.
type fakeMeta struct {
	mu         sync.Mutex
	topics     map[string]body.TopicConfig
	subs       map[string]body.SubscriptionData
	groups     map[string]body.SubscriptionGroupConfig
	autoCreate bool
	creates    int
	// held, when set, makes Topic(heldTopic) wait until it is closed,
	// after telling entered (a topic actor frozen at the start of a turn).
	heldTopic string
	held      chan struct{}
	entered   chan struct{}
}

// hold freezes the next topic-actor turns of topic at their topic lookup;
// it returns a channel that receives when one is frozen, and the function
// that lets them go.
func (m *fakeMeta) hold(topic string) (entered <-chan struct{}, release func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.heldTopic, m.held, m.entered = topic, make(chan struct{}), make(chan struct{}, 16)
	held := m.held
	return m.entered, func() {
		m.mu.Lock()
		m.heldTopic = ""
		m.mu.Unlock()
		close(held)
	}
}

func newFakeMeta() *fakeMeta {
	return &fakeMeta{topics: map[string]body.TopicConfig{
		"TopicTest": {TopicName: "TopicTest", ReadQueueNums: 4, WriteQueueNums: 4, Perm: 6},
		"ReadOnly":  {TopicName: "ReadOnly", ReadQueueNums: 4, WriteQueueNums: 4, Perm: 4},
	}, subs: map[string]body.SubscriptionData{}, groups: map[string]body.SubscriptionGroupConfig{}}
}

func (m *fakeMeta) Group(name string) (body.SubscriptionGroupConfig, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.groups[name]
	return g, ok
}

func (m *fakeMeta) CreateTopic(_ context.Context, tc body.TopicConfig) (body.TopicConfig, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.creates++
	m.topics[tc.TopicName] = tc
	return tc, nil
}

func (m *fakeMeta) Topic(name string) (body.TopicConfig, bool) {
	m.mu.Lock()
	if name == m.heldTopic && name != "" {
		held, entered := m.held, m.entered
		m.mu.Unlock()
		entered <- struct{}{}
		<-held
		m.mu.Lock()
	}
	defer m.mu.Unlock()
	tc, ok := m.topics[name]
	return tc, ok
}

func (m *fakeMeta) AutoCreateTopic(_ context.Context, topic, defaultTopic string, queueNums int32) (body.TopicConfig, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.creates++
	if !m.autoCreate || defaultTopic != body.DefaultTopic {
		return body.TopicConfig{}, fmt.Errorf("%w: topic[%s] not exist, apply first please!", reply.ErrTopicNotExist, topic)
	}
	tc := body.TopicConfig{TopicName: topic, ReadQueueNums: queueNums, WriteQueueNums: queueNums, Perm: 6}
	m.topics[topic] = tc
	return tc, nil
}

func (m *fakeMeta) Subscription(group, topic string) (body.SubscriptionData, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	sd, ok := m.subs[group+"@"+topic]
	return sd, ok
}

// broker is the data plane over a real store, served on 127.0.0.1:0.
type broker struct {
	t    testing.TB
	dir  string
	cfg  config.Broker
	meta *fakeMeta
	st   *store.Store
	qr   *queue.Registry
	w    *writer.Writer
	snd  *send.Sender
	srv  *netio.Server
	cl   *netio.Client
	addr string
	down bool
}

func testConfig() config.Broker {
	return config.Broker{
		BrokerClusterName: "DefaultCluster", BrokerName: "broker-a", BrokerIP1: "127.0.0.1", ListenPort: 10911,
		BrokerRole: config.RoleAsyncMaster, FlushDiskType: config.FlushAsync, BrokerPermission: 6,
		MaxMessageSize: 4096, FlushIntervalCommitLog: 20 * time.Millisecond, FlushCommitLogLeastPages: 4,
		SyncFlushTimeout: 5 * time.Second, LongPollingEnable: true, ShortPollingTimeMills: time.Second,
		MaxTransferCountOnMessage: 32, MaxTransferBytesOnMessage: 256 << 10, RegionID: "DefaultRegion", TraceOn: true,
	}
}

// startBroker opens (or reopens) the store in dir and starts everything.
func startBroker(t testing.TB, dir string, cfg config.Broker, meta *fakeMeta) *broker {
	t.Helper()
	return startBrokerSized(t, dir, cfg, meta, 64<<10)
}

// startBrokerSized is startBroker with a commit-log segment size; tests use
// small segments so that records cross segment ends.
func startBrokerSized(t testing.TB, dir string, cfg config.Broker, meta *fakeMeta, segmentBytes int64) *broker {
	t.Helper()
	return startBrokerWith(t, dir, cfg, meta, segmentBytes, nil)
}

// startBrokerWith is startBrokerSized whose writer dispatches to
// wrap(the queue registry) when wrap is not nil.
func startBrokerWith(t testing.TB, dir string, cfg config.Broker, meta *fakeMeta, segmentBytes int64,
	wrap func(writer.Dispatcher) writer.Dispatcher) *broker {
	t.Helper()
	b := &broker{t: t, dir: dir, cfg: cfg, meta: meta}
	var err error
	b.st, err = store.Open(store.Config{RootDir: dir, CommitLogFileSize: segmentBytes, CQFileSize: 20 * 100, CheckCRCOnRecover: true})
	if err != nil {
		t.Fatal(err)
	}
	sys := testkit.ActorSystem(t)
	if b.qr, err = queue.Spawn(sys, queue.Config{Broker: cfg, Store: b.st, Topics: meta, Subscriptions: meta}); err != nil {
		t.Fatal(err)
	}
	var d writer.Dispatcher = b.qr
	if wrap != nil {
		d = wrap(d)
	}
	if b.w, err = writer.Spawn(sys, writer.Config{Broker: cfg, Store: b.st, Dispatcher: d, LogicsTimestamp: b.qr.FlushedTimestamp}); err != nil {
		t.Fatal(err)
	}
	if b.snd, err = send.Spawn(sys, send.Config{Broker: cfg, Topics: meta, Groups: meta, Writer: b.w}); err != nil {
		t.Fatal(err)
	}
	r := &netkit.Router{Handlers: map[int32]func(c *netio.Conn, cmd *remoting.Command){}}
	for _, hs := range []map[int32]func(c *netio.Conn, cmd *remoting.Command){b.snd.Handlers(), b.qr.Handlers()} {
		for code, h := range hs {
			r.Handlers[code] = h
		}
	}
	b.srv = netio.NewServer(netio.ServerConfig{Addr: "127.0.0.1:0", EventLoops: 2}, r)
	if err := b.srv.Start(); err != nil {
		t.Fatal(err)
	}
	b.addr = b.srv.Addr()
	b.cl = netio.NewClient(netio.ClientConfig{})
	t.Cleanup(b.stop)
	return b
}

// stop shuts everything down in the documented order.
func (b *broker) stop() {
	if b.down {
		return
	}
	b.down = true
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
	defer cancel()
	_ = b.cl.Close()
	if err := b.srv.Shutdown(ctx); err != nil {
		b.t.Errorf("server shutdown: %v", err)
	}
	if err := b.snd.Stop(ctx); err != nil {
		b.t.Errorf("send stop: %v", err)
	}
	if err := b.w.Stop(ctx); err != nil {
		b.t.Errorf("writer stop: %v", err)
	}
	if err := b.qr.Stop(ctx); err != nil {
		b.t.Errorf("queue stop: %v", err)
	}
	if err := b.st.Close(); err != nil {
		b.t.Errorf("store close: %v", err)
	}
}

func (b *broker) invoke(cmd *remoting.Command) *remoting.Command {
	b.t.Helper()
	return netkit.Invoke(b.t, b.cl, b.addr, cmd)
}

// waitServed waits, bounded by testkit.Timeout, until queue queueID of topic
// serves n messages to consumers. A send is answered once its record is in
// the commit log and its consume-queue unit is on its way to the queue
// actor, not once the unit is applied: dispatch is asynchronous, as in
// RocketMQ, whose consumers pull again or long-poll. A test that pulls right
// after its sends and wants every one of them waits for this first, as a
// consumer pulling again would.
func (b *broker) waitServed(topic string, queueID int32, n int64) {
	b.t.Helper()
	testkit.Eventually(b.t, fmt.Sprintf("%s/%d to serve %d messages", topic, queueID, n), func() bool {
		return b.qr.ServedMaxOffset(topic, queueID) >= n
	})
}

// msg is one message to send.
type msg struct {
	topic   string
	queueID int32
	body    string
	props   map[string]string
	flag    int32
}

// sendV1 builds SEND_MESSAGE (10) with full field names, as the Go client.
func sendV1(m msg) *remoting.Command {
	return remoting.NewRequest(remoting.ReqSendMessage, map[string]string{
		"producerGroup": "pg", "topic": m.topic, "defaultTopic": body.DefaultTopic, "defaultTopicQueueNums": "4",
		"queueId": strconv.Itoa(int(m.queueID)), "sysFlag": "0", "bornTimestamp": "1700000000000",
		"flag": strconv.Itoa(int(m.flag)), "properties": message.FormatProperties(m.props), "reconsumeTimes": "0",
		"unitMode": "false", "maxReconsumeTimes": "0", "batch": "false",
	}, []byte(m.body))
}

// sendV2 builds SEND_MESSAGE_V2 (310) with short keys, as Java and ali-ons.
func sendV2(m msg) *remoting.Command {
	return remoting.NewRequest(remoting.ReqSendMessageV2, map[string]string{
		"a": "pg", "b": m.topic, "c": body.DefaultTopic, "d": "4", "e": strconv.Itoa(int(m.queueID)), "f": "0",
		"g": "1700000000000", "h": strconv.Itoa(int(m.flag)), "i": message.FormatProperties(m.props), "j": "0", "k": "false",
	}, []byte(m.body))
}

// sendBatch builds SEND_BATCH_MESSAGE (320) as the Go client does.
func sendBatch(topic string, queueID int32, items []message.BatchItem) *remoting.Command {
	return remoting.NewRequest(remoting.ReqSendBatchMessage, map[string]string{
		"a": "pg", "b": topic, "c": body.DefaultTopic, "d": "4", "e": strconv.Itoa(int(queueID)), "f": "0",
		"g": "1700000000000", "h": "0", "i": "", "j": "0", "k": "false", "l": "0", "m": "true",
	}, message.EncodeBatch(items))
}

// pull builds PULL_MESSAGE with the subscription in the request.
func pull(topic string, queueID int32, offset int64, sysFlag int32, suspend time.Duration, sub string) *remoting.Command {
	return remoting.NewRequest(remoting.ReqPullMessage, map[string]string{
		"consumerGroup": "cg", "topic": topic, "queueId": strconv.Itoa(int(queueID)),
		"queueOffset": strconv.FormatInt(offset, 10), "maxMsgNums": "32", "sysFlag": strconv.Itoa(int(sysFlag)),
		"commitOffset": "0", "suspendTimeoutMillis": strconv.FormatInt(suspend.Milliseconds(), 10),
		"subscription": sub, "subVersion": "0", "expressionType": "TAG",
	}, nil)
}

// records decodes a pull body, checking CRCs.
func records(t *testing.T, b []byte) []message.Message {
	t.Helper()
	var out []message.Message
	for len(b) > 0 {
		m, n, err := message.DecodeRecord(b, true)
		if err != nil {
			t.Fatalf("decode pull body: %v", err)
		}
		out = append(out, m)
		b = b[n:]
	}
	return out
}

func extInt(t *testing.T, cmd *remoting.Command, key string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(cmd.ExtFields[key], 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v (ext %v)", key, cmd.ExtFields[key], err, cmd.ExtFields)
	}
	return n
}

func wantCode(t *testing.T, resp *remoting.Command, code int32) {
	t.Helper()
	if resp.Code != code {
		t.Fatalf("code %d (%s), want %d", resp.Code, resp.Remark, code)
	}
}
