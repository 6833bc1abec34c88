package queue

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/commitlog"
	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/valyala/bytebufferpool"
)

// response is one answer a fakeConn received; body is a copy.
type response struct {
	cmd  *remoting.Command
	body []byte
}

// fakeConn records answers.
type fakeConn struct{ ch chan response }

func newFakeConn() *fakeConn { return &fakeConn{ch: make(chan response, 1024)} }

func (c *fakeConn) Write(cmd *remoting.Command) error {
	c.ch <- response{cmd: cmd}
	return nil
}

func (c *fakeConn) WriteFrame(frame *bytebufferpool.ByteBuffer) error {
	return c.WriteFrameWithBody(frame, nil, nil)
}

// WriteFrameWithBody decodes the frame (head and parts) as a client would.
func (c *fakeConn) WriteFrameWithBody(head *bytebufferpool.ByteBuffer, parts [][]byte, done func()) error {
	b := append([]byte(nil), head.B...)
	for _, p := range parts {
		b = append(b, p...)
	}
	remoting.ReleaseOutFrame(head)
	if done != nil {
		done()
	}
	cmd, err := remoting.DecodeFrame(b)
	if err != nil {
		panic(fmt.Sprintf("undecodable answer frame: %v", err))
	}
	c.ch <- response{cmd: cmd, body: cmd.Body}
	return nil
}

// next waits for the next answer.
func (c *fakeConn) next(t *testing.T) response {
	t.Helper()
	return testkit.Receive(t, c.ch, "a response")
}

// none asserts that no answer is pending.
func (c *fakeConn) none(t *testing.T) {
	t.Helper()
	select {
	case r := <-c.ch:
		t.Fatalf("unexpected response code %d remark %q", r.cmd.Code, r.cmd.Remark)
	default:
	}
}

// fakeCQ is an in-memory consume queue that fails a Put out of order.
type fakeCQ struct {
	mu     sync.Mutex
	min    int64
	units  []consumequeue.Unit
	errors []error
	// deletedBelow records the last DeleteBelow argument (0: never called).
	deletedBelow int64
	// panicsLeft makes the next Get calls panic, as a storage bug would.
	panicsLeft int
	// flushes records the leastPages of every FlushPages call.
	flushes []int
}

func (q *fakeCQ) Put(off int64, u consumequeue.Unit) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if off != int64(len(q.units)) {
		err := fmt.Errorf("put at %d, max %d", off, len(q.units))
		q.errors = append(q.errors, err)
		return err
	}
	q.units = append(q.units, u)
	return nil
}

func (q *fakeCQ) Get(off int64, dst []consumequeue.Unit) ([]consumequeue.Unit, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.panicsLeft > 0 {
		q.panicsLeft--
		panic("injected consume-queue read fault")
	}
	if off < 0 {
		return dst, consumequeue.ErrOffsetGone
	}
	for i := off; i < int64(len(q.units)) && len(dst) < cap(dst); i++ {
		dst = append(dst, q.units[i])
	}
	return dst, nil
}

func (q *fakeCQ) MinOffset() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.min
}

func (q *fakeCQ) MaxOffset() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return int64(len(q.units))
}

func (q *fakeCQ) FlushPages(leastPages int) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.flushes = append(q.flushes, leastPages)
	return nil
}

func (q *fakeCQ) DeleteBelow(commitLogMin int64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.deletedBelow = commitLogMin
	return nil
}

func (q *fakeCQ) lastDeletedBelow() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.deletedBelow
}

func (q *fakeCQ) putErrors() []error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]error(nil), q.errors...)
}

// fakeLog is an in-memory commit log.
type fakeLog struct {
	mu      sync.Mutex
	data    []byte
	min     int64
	flushed int64 // what FlushedPosition reports; set with flushTo
	// afterRead, when set, runs once right after the next FlushedPosition
	// read (outside mu): a flush that lands just after a reader saw the
	// position.
	afterRead func()
}

var errNotFound = errors.New("fake log: offset not found")

func (l *fakeLog) Read(off int64, size int) (commitlog.Slice, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if off < l.min || off+int64(size) > int64(len(l.data)) {
		return commitlog.Slice{}, errNotFound
	}
	return commitlog.Slice{B: append([]byte(nil), l.data[off:off+int64(size)]...)}, nil
}

func (l *fakeLog) MinOffset() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.min
}

func (l *fakeLog) WrotePosition() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(len(l.data))
}

func (l *fakeLog) FlushedPosition() int64 {
	l.mu.Lock()
	v, after := l.flushed, l.afterRead
	l.afterRead = nil
	l.mu.Unlock()
	if after != nil {
		after()
	}
	return v
}

// flushTo makes the log durable up to pos (the syncer's role).
func (l *fakeLog) flushTo(pos int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushed = pos
}

var testHost = netip.MustParseAddrPort("127.0.0.1:10911")

// append encodes a record of key with tags and body and returns its unit.
func (l *fakeLog) append(key store.QueueKey, queueOffset int64, tags, bodyText string, storeTs int64) Unit {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := message.Message{
		QueueID: key.QueueID, QueueOffset: queueOffset, PhysicalOffset: int64(len(l.data)),
		BornHost: testHost, StoreHost: testHost, StoreTimestamp: storeTs,
		Body: []byte(bodyText), Topic: key.Topic,
	}
	if tags != "" {
		m.Properties = message.SetProperty("", message.PropertyTags, tags)
	}
	phys := int64(len(l.data))
	l.data = message.AppendRecord(l.data, &m)
	return Unit{QueueOffset: queueOffset, PhysOffset: phys, Size: int32(int64(len(l.data)) - phys),
		TagsCode: message.TagsHashCode(tags), StoreTimestamp: storeTs}
}

// fakeTopics serves fixed topic configs.
type fakeTopics map[string]body.TopicConfig

func (f fakeTopics) Topic(name string) (body.TopicConfig, bool) {
	tc, ok := f[name]
	return tc, ok
}

// fakeSubs serves fixed subscriptions keyed by group@topic.
type fakeSubs map[string]body.SubscriptionData

func (f fakeSubs) Subscription(group, topic string) (body.SubscriptionData, bool) {
	sd, ok := f[group+"@"+topic]
	return sd, ok
}

// commit is one piggybacked offset commit.
type commit struct {
	group, topic string
	queueID      int32
	offset       int64
}

type fakeCommitter struct {
	mu      sync.Mutex
	commits []commit
}

func (f *fakeCommitter) Commit(group, topic string, queueID int32, offset int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.commits = append(f.commits, commit{group, topic, queueID, offset})
}

// harness is a registry over fake storage.
type harness struct {
	r      *Registry
	log    *fakeLog
	queues map[store.QueueKey]*fakeCQ // every queue opened, guarded by mu
	mu     sync.Mutex
	offs   *fakeCommitter
	next   map[store.QueueKey]int64
}

const testTopic = "TopicTest"

func newHarness(t *testing.T, mutate func(*Config), existing ...store.QueueKey) *harness {
	t.Helper()
	h := &harness{log: &fakeLog{}, queues: map[store.QueueKey]*fakeCQ{}, offs: &fakeCommitter{},
		next: map[store.QueueKey]int64{}}
	deps := storeDeps{log: h.log, queues: map[store.QueueKey]cqueue{}}
	for _, k := range existing {
		q := &fakeCQ{}
		h.queues[k] = q
		deps.queues[k] = q
	}
	deps.open = func(k store.QueueKey) (cqueue, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		q := &fakeCQ{}
		h.queues[k] = q
		return q, nil
	}
	cfg := Config{
		Broker: config.Broker{LongPollingEnable: true, BrokerPermission: 6, BrokerIP1: "127.0.0.1"},
		Topics: fakeTopics{
			testTopic:   {TopicName: testTopic, ReadQueueNums: 4, WriteQueueNums: 4, Perm: 6},
			"WriteOnly": {TopicName: "WriteOnly", ReadQueueNums: 4, WriteQueueNums: 4, Perm: 2},
		},
		Subscriptions: fakeSubs{
			"g1@" + testTopic: {Topic: testTopic, SubString: "*", ExpressionType: "TAG"},
			"gA@" + testTopic: {Topic: testTopic, SubString: "TagA", CodeSet: []int32{int32(message.TagsHashCode("TagA"))}, SubVersion: 5},
		},
		Offsets: h.offs,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	r, err := spawn(testkit.ActorSystem(t), cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	h.r = r
	return h
}

func (h *harness) queue(k store.QueueKey) *fakeCQ {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.queues[k]
}

// send appends one message per tag to the fake log and dispatches the units
// (the writer's role). It returns once the queue holds them.
func (h *harness) send(t *testing.T, k store.QueueKey, tags ...string) {
	t.Helper()
	units := make([]Unit, 0, len(tags))
	for _, tag := range tags {
		off := h.next[k]
		h.next[k] = off + 1
		units = append(units, h.log.append(k, off, tag, "body-"+strconv.FormatInt(off, 10)+"-"+tag, time.Now().UnixMilli()))
	}
	h.r.Dispatch(k, units)
	want := h.next[k]
	testkit.Eventually(t, "dispatch", func() bool {
		q := h.queue(k)
		return q != nil && q.MaxOffset() == want
	})
}

// pullCmd builds a PULL_MESSAGE request.
func pullCmd(group string, qid int32, offset int64, sysFlag int32, suspend time.Duration, sub string) *remoting.Command {
	ext := map[string]string{
		"consumerGroup": group, "topic": testTopic, "queueId": strconv.Itoa(int(qid)),
		"queueOffset": strconv.FormatInt(offset, 10), "maxMsgNums": "32", "sysFlag": strconv.Itoa(int(sysFlag)),
		"commitOffset": "7", "suspendTimeoutMillis": strconv.FormatInt(suspend.Milliseconds(), 10),
		"subscription": sub, "subVersion": "0", "expressionType": "TAG",
	}
	cmd := remoting.NewRequest(remoting.ReqPullMessage, ext, nil)
	cmd.Opaque = 42
	return cmd
}

// bodies decodes a pull body into its message bodies.
func bodies(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	for len(b) > 0 {
		m, n, err := message.DecodeRecord(b, true)
		if err != nil {
			t.Fatalf("decode pull body: %v", err)
		}
		out = append(out, string(m.Body))
		b = b[n:]
	}
	return out
}

func ext(t *testing.T, cmd *remoting.Command, key string) int64 {
	t.Helper()
	v, ok := cmd.ExtFields[key]
	if !ok {
		t.Fatalf("response lacks %s: %v", key, cmd.ExtFields)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", key, v, err)
	}
	return n
}

func (h *harness) heldCount() int64 { return h.r.HeldPulls() }
