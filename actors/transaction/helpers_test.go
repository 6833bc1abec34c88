package transaction_test

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/queue"
	"github.com/actormq/actormq/actors/send"
	"github.com/actormq/actormq/actors/transaction"
	"github.com/actormq/actormq/actors/writer"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/internal/testkit/netkit"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

const (
	testTopic   = "TopicTest"
	testGroup   = "PG_tx"
	testTimeout = time.Second // transactionTimeOut, on the fake clock
	testMax     = 3           // transactionCheckMax
	// testInterval is transactionCheckInterval: longer than any test, so
	// that scans run only when a test asks (broker.scan).
	testInterval = time.Hour
	// reqRegister is the request code the tests' producer sends to become a
	// live producer of the group named in ext "group" (the client manager's
	// heartbeat in a broker).
	reqRegister = remoting.ReqHeartBeat
)

// The half and op queues.
var (
	halfKey = store.QueueKey{Topic: body.TransHalfTopic}
	opKey   = store.QueueKey{Topic: body.TransOpHalfTopic}
)

func testConfig() config.Broker {
	return config.Broker{
		BrokerClusterName: "DefaultCluster", BrokerName: "broker-a", BrokerIP1: "127.0.0.1", ListenPort: 10911,
		BrokerRole: config.RoleAsyncMaster, FlushDiskType: config.FlushAsync, BrokerPermission: 6,
		MaxMessageSize: 4096, FlushIntervalCommitLog: 20 * time.Millisecond, SyncFlushTimeout: 5 * time.Second,
		RegionID: "DefaultRegion", FileReservedTime: 72 * time.Hour,
		TransactionTimeOut: testTimeout, TransactionCheckMax: testMax, TransactionCheckInterval: testInterval,
		MessageDelayLevel: "1s 5s",
	}
}

// fakeClock is the scan's clock; born timestamps of test sends come from it.
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

// fakeOffsets stands in for the offset manager; it survives restarts.
type fakeOffsets struct {
	mu sync.Mutex
	m  map[string]int64
}

func (o *fakeOffsets) Offset(group, topic string, q int32) (int64, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	v, ok := o.m[group+"@"+topic+"@"+strconv.Itoa(int(q))]
	return v, ok
}

func (o *fakeOffsets) Commit(group, topic string, q int32, off int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.m[group+"@"+topic+"@"+strconv.Itoa(int(q))] = off
}

func (o *fakeOffsets) snapshot() map[string]int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return maps.Clone(o.m)
}

func (o *fakeOffsets) restore(m map[string]int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.m = maps.Clone(m)
}

// fakeMeta holds the test topic and records topic creations.
type fakeMeta struct {
	mu      sync.Mutex
	topics  map[string]body.TopicConfig
	created []string
}

func newFakeMeta() *fakeMeta {
	return &fakeMeta{topics: map[string]body.TopicConfig{
		testTopic: {TopicName: testTopic, ReadQueueNums: 4, WriteQueueNums: 4, Perm: 6},
	}}
}

func (m *fakeMeta) Topic(name string) (body.TopicConfig, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	tc, ok := m.topics[name]
	return tc, ok
}

func (m *fakeMeta) CreateTopic(_ context.Context, tc body.TopicConfig) (body.TopicConfig, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.topics[tc.TopicName] = tc
	m.created = append(m.created, tc.TopicName)
	return tc, nil
}

func (m *fakeMeta) AutoCreateTopic(context.Context, string, string, int32) (body.TopicConfig, error) {
	return body.TopicConfig{}, context.Canceled
}

func (m *fakeMeta) Subscription(string, string) (body.SubscriptionData, bool) {
	return body.SubscriptionData{}, false
}

func (m *fakeMeta) Group(string) (body.SubscriptionGroupConfig, bool) {
	return body.SubscriptionGroupConfig{}, false
}

func (m *fakeMeta) createdTopics() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.created...)
}

// fakeProducers holds the connections registered with reqRegister.
type fakeProducers struct {
	mu    sync.Mutex
	conns map[string][]*netio.Conn
}

func (p *fakeProducers) ProducerConns(group string) []*netio.Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.conns[group]
}

func (p *fakeProducers) add(group string, c *netio.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns[group] = append(p.conns[group], c)
}

// shared is what survives a broker restart in a test: the store directory,
// offsets, topics and the clock.
type shared struct {
	dir     string
	offsets *fakeOffsets
	meta    *fakeMeta
	clock   *fakeClock
}

func newShared(t *testing.T) *shared {
	return &shared{
		dir: t.TempDir(), offsets: &fakeOffsets{m: map[string]int64{}}, meta: newFakeMeta(),
		clock: &fakeClock{t: time.UnixMilli(1_700_000_000_000)},
	}
}

// broker is the data plane over a real store plus the transaction service,
// served on 127.0.0.1:0, with one producer client that records the checks
// it receives.
type broker struct {
	t         *testing.T
	sh        *shared
	cfg       config.Broker
	st        *store.Store
	qr        *queue.Registry
	w         *writer.Writer
	snd       *send.Sender
	tx        *transaction.Service
	producers *fakeProducers
	srv       *netio.Server
	addr      string
	cl        *netio.Client
	down      bool

	mu     sync.Mutex
	checks []*remoting.Command
}

func startBroker(t *testing.T, sh *shared, cfg config.Broker) *broker {
	t.Helper()
	b := &broker{t: t, sh: sh, cfg: cfg, producers: &fakeProducers{conns: map[string][]*netio.Conn{}}}
	var err error
	if b.st, err = store.Open(store.Config{RootDir: sh.dir, CommitLogFileSize: 1 << 20, CQFileSize: 20 * 1000}); err != nil {
		t.Fatal(err)
	}
	sys := testkit.ActorSystem(t)
	if b.qr, err = queue.Spawn(sys, queue.Config{Broker: cfg, Store: b.st, Topics: sh.meta, Subscriptions: sh.meta}); err != nil {
		t.Fatal(err)
	}
	if b.w, err = writer.Spawn(sys, writer.Config{Broker: cfg, Store: b.st, Dispatcher: b.qr, LogicsTimestamp: b.qr.FlushedTimestamp}); err != nil {
		t.Fatal(err)
	}
	if b.snd, err = send.Spawn(sys, send.Config{Broker: cfg, Topics: sh.meta, Groups: sh.meta, Writer: b.w}); err != nil {
		t.Fatal(err)
	}
	if b.tx, err = transaction.Spawn(sys, transaction.Config{
		Broker: cfg, CommitLog: b.st.CommitLog, Queues: b.qr, Writer: b.w, Offsets: sh.offsets,
		Producers: b.producers, Topics: sh.meta, Logger: zerolog.Nop(), Now: sh.clock.Now,
	}); err != nil {
		t.Fatal(err)
	}
	r := &netkit.Router{Handlers: map[int32]func(*netio.Conn, *remoting.Command){
		reqRegister: func(c *netio.Conn, cmd *remoting.Command) {
			b.producers.add(cmd.ExtFields["group"], c)
			_ = c.Write(remoting.NewResponse(cmd, remoting.RespSuccess, ""))
		},
	}}
	for _, hs := range []map[int32]func(*netio.Conn, *remoting.Command){b.snd.Handlers(), b.tx.Handlers()} {
		maps.Copy(r.Handlers, hs)
	}
	b.srv = netio.NewServer(netio.ServerConfig{Addr: "127.0.0.1:0", EventLoops: 1, Logger: zerolog.Nop()}, r)
	if err := b.srv.Start(); err != nil {
		t.Fatal(err)
	}
	b.addr = b.srv.Addr()
	b.cl = netio.NewClient(netio.ClientConfig{OnRequest: func(_ string, cmd *remoting.Command) *remoting.Command {
		if cmd.Code == remoting.ReqCheckTransactionState {
			b.mu.Lock()
			b.checks = append(b.checks, cmd)
			b.mu.Unlock()
		}
		return nil
	}})
	t.Cleanup(b.stop)
	return b
}

// stop shuts down in the broker's order: listener, send, transactions
// (before the writer), writer, queues, store.
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
	if err := b.tx.Stop(ctx); err != nil {
		b.t.Errorf("transaction stop: %v", err)
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

// register makes the test client a live producer of group.
func (b *broker) register(group string) {
	b.t.Helper()
	if resp := b.invoke(remoting.NewRequest(reqRegister, map[string]string{"group": group}, nil)); resp.Code != remoting.RespSuccess {
		b.t.Fatalf("register: %d %s", resp.Code, resp.Remark)
	}
}

// half is what the producer learns from a half send.
type half struct {
	uniq        string
	queueOffset int64 // tranStateTableOffset
	physOffset  int64 // commitLogOffset
}

// sendHalf sends a prepared message as the Go client does (sysFlag 4,
// TRAN_MSG, PGROUP, UNIQ_KEY), born now on the fake clock, and waits until
// the half queue holds it (dispatched just after the answer), so that the
// next scan sees it.
func (b *broker) sendHalf(bodyText, uniq string, extra map[string]string) half {
	b.t.Helper()
	props := map[string]string{
		message.PropertyTranMsg: "true", message.PropertyProducerGroup: testGroup,
		message.PropertyUniqKey: uniq, message.PropertyTags: "tagA",
	}
	maps.Copy(props, extra)
	resp := b.invoke(remoting.NewRequest(remoting.ReqSendMessage, map[string]string{
		"producerGroup": testGroup, "topic": testTopic, "defaultTopic": body.DefaultTopic, "defaultTopicQueueNums": "4",
		"queueId": "2", "sysFlag": "4", "bornTimestamp": strconv.FormatInt(b.sh.clock.Now().UnixMilli(), 10),
		"flag": "0", "properties": message.FormatProperties(props), "reconsumeTimes": "0",
		"unitMode": "false", "maxReconsumeTimes": "0", "batch": "false",
	}, []byte(bodyText)))
	if resp.Code != remoting.RespSuccess {
		b.t.Fatalf("half send: %d %s", resp.Code, resp.Remark)
	}
	if resp.ExtFields["transactionId"] != uniq {
		b.t.Fatalf("send response transactionId %q, want %q", resp.ExtFields["transactionId"], uniq)
	}
	_, phys, err := message.ParseOffsetMsgID(resp.ExtFields["msgId"])
	if err != nil {
		b.t.Fatal(err)
	}
	qo, _ := strconv.ParseInt(resp.ExtFields["queueOffset"], 10, 64)
	b.waitRecords(halfKey, int(qo)+1)
	return half{uniq: uniq, queueOffset: qo, physOffset: phys}
}

// sendPlain sends an ordinary message and returns its commit-log offset.
func (b *broker) sendPlain(bodyText string) int64 {
	b.t.Helper()
	resp := b.invoke(remoting.NewRequest(remoting.ReqSendMessage, map[string]string{
		"producerGroup": testGroup, "topic": testTopic, "defaultTopic": body.DefaultTopic, "defaultTopicQueueNums": "4",
		"queueId": "2", "sysFlag": "0", "bornTimestamp": "1700000000000", "flag": "0",
		"properties":     message.FormatProperties(map[string]string{message.PropertyProducerGroup: testGroup}),
		"reconsumeTimes": "0", "unitMode": "false", "maxReconsumeTimes": "0", "batch": "false",
	}, []byte(bodyText)))
	if resp.Code != remoting.RespSuccess {
		b.t.Fatalf("send: %d %s", resp.Code, resp.Remark)
	}
	_, phys, _ := message.ParseOffsetMsgID(resp.ExtFields["msgId"])
	return phys
}

// end sends END_TRANSACTION for h (or a check's offsets) and returns the
// response.
func (b *broker) end(h half, outcome int32, fromCheck bool) *remoting.Command {
	b.t.Helper()
	return b.invoke(endRequest(testGroup, h.queueOffset, h.physOffset, outcome, fromCheck, h.uniq))
}

func endRequest(group string, queueOffset, physOffset int64, outcome int32, fromCheck bool, uniq string) *remoting.Command {
	return remoting.NewRequest(remoting.ReqEndTransaction, map[string]string{
		"producerGroup": group, "tranStateTableOffset": strconv.FormatInt(queueOffset, 10),
		"commitLogOffset": strconv.FormatInt(physOffset, 10), "commitOrRollback": strconv.Itoa(int(outcome)),
		"fromTransactionCheck": strconv.FormatBool(fromCheck), "msgId": uniq, "transactionId": uniq,
	}, nil)
}

// scan runs one check scan (transaction.Scan) and waits until the half
// queue holds the halfRecords records the test expects after it: the copies
// the scan stored are dispatched to the consume queue just after the writer
// answers, and the next scan must see them.
func (b *broker) scan(halfRecords int) {
	b.t.Helper()
	if err := transaction.Scan(b.tx, testkit.Timeout); err != nil {
		b.t.Fatalf("scan: %v", err)
	}
	if n := len(b.waitRecords(halfKey, halfRecords)); n != halfRecords {
		b.t.Fatalf("after the scan the half queue holds %d records, want %d", n, halfRecords)
	}
}

// records returns the records of queue k, in queue order.
func (b *broker) records(k store.QueueKey) []message.Message {
	b.t.Helper()
	var out []message.Message
	units, err := b.qr.ReadUnits(k, 0, make([]consumequeue.Unit, 0, 1000))
	if err != nil {
		b.t.Fatal(err)
	}
	for _, u := range units {
		m, err := b.st.CommitLog.ReadMessage(u.CommitLogOffset)
		if err != nil {
			b.t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// waitRecords waits until queue k holds at least n records (consume-queue
// units are dispatched just after the writer answers) and returns them.
func (b *broker) waitRecords(k store.QueueKey, n int) []message.Message {
	b.t.Helper()
	testkit.Eventually(b.t, strconv.Itoa(n)+" records in "+k.Topic, func() bool { return len(b.records(k)) >= n })
	return b.records(k)
}

// delivered returns the bodies stored in the real topic's queue 2, once
// there are at least n.
func (b *broker) delivered(n int) []string {
	b.t.Helper()
	var out []string
	for _, m := range b.waitRecords(realKey(), n) {
		out = append(out, string(m.Body))
	}
	return out
}

// checksFor returns the checks received so far whose body carries UNIQ_KEY
// uniq, decoded, in the order the broker sent them (their copies' queue
// offsets: the client may run its request handlers concurrently).
func (b *broker) checksFor(uniq string) []check {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []check
	for _, cmd := range b.checks {
		m, _, err := message.DecodeRecord(cmd.Body, true)
		if err != nil {
			b.t.Fatalf("check body: %v", err)
		}
		if u, _ := message.PropertyValue(m.Properties, message.PropertyUniqKey); u == uniq {
			out = append(out, check{cmd: cmd, msg: m})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].msg.QueueOffset < out[j].msg.QueueOffset })
	return out
}

// waitChecks waits until n checks for uniq arrived and returns them.
func (b *broker) waitChecks(uniq string, n int) []check {
	b.t.Helper()
	testkit.Eventually(b.t, strconv.Itoa(n)+" checks of "+uniq, func() bool { return len(b.checksFor(uniq)) >= n })
	return b.checksFor(uniq)
}

// halfTimes lists TRANSACTION_CHECK_TIMES of the half records whose
// UNIQ_KEY is uniq, in queue order ("" where absent).
func (b *broker) halfTimes(uniq string) string {
	b.t.Helper()
	var times []string
	for _, m := range b.records(halfKey) {
		if u, _ := message.PropertyValue(m.Properties, message.PropertyUniqKey); u == uniq {
			v, _ := message.PropertyValue(m.Properties, message.PropertyTransactionCheckTimes)
			times = append(times, v)
		}
	}
	return fmt.Sprint(times)
}

// check is one CHECK_TRANSACTION_STATE received.
type check struct {
	cmd *remoting.Command
	msg message.Message
}

// half returns the offsets the producer answers a check with.
func (c check) half() half {
	qo, _ := strconv.ParseInt(c.cmd.ExtFields["tranStateTableOffset"], 10, 64)
	phys, _ := strconv.ParseInt(c.cmd.ExtFields["commitLogOffset"], 10, 64)
	return half{uniq: c.cmd.ExtFields["msgId"], queueOffset: qo, physOffset: phys}
}

func (c check) times() string {
	v, _ := message.PropertyValue(c.msg.Properties, message.PropertyTransactionCheckTimes)
	return v
}
