package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/admin"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
)

// instanceSeq makes every client instance name unique: the Go client shares
// one client per "ip@instance" inside a process (client-quirks A4 item 29).
var instanceSeq atomic.Int64

func nextInstance(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, instanceSeq.Add(1))
}

// newProducer starts a producer of group with a fresh instance name; opts
// are applied after the defaults and so override them.
func newProducer(t *testing.T, ns *namesrv, group string, opts ...producer.Option) rocketmq.Producer {
	t.Helper()
	p, err := rocketmq.NewProducer(append([]producer.Option{
		producer.WithNameServer([]string{ns.addr}),
		producer.WithGroupName(group),
		producer.WithInstanceName(nextInstance("p")),
		producer.WithRetry(2),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Shutdown() })
	return p
}

// received collects messages delivered to push consumers.
type received struct {
	mu     sync.Mutex
	bodies map[string]int         // body → deliveries
	queues map[string]map[int]int // consumer name → queueId → deliveries
	tags   map[string]int
	total  int
	msgs   map[string]*primitive.MessageExt // body → last delivery
}

func newReceived() *received {
	return &received{bodies: map[string]int{}, queues: map[string]map[int]int{}, tags: map[string]int{},
		msgs: map[string]*primitive.MessageExt{}}
}

func (r *received) add(consumerName string, m *primitive.MessageExt) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies[string(m.Body)]++
	if r.queues[consumerName] == nil {
		r.queues[consumerName] = map[int]int{}
	}
	r.queues[consumerName][m.Queue.QueueId]++
	r.tags[m.GetTags()]++
	r.total++
	r.msgs[string(m.Body)] = m
}

func (r *received) message(body string) *primitive.MessageExt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.msgs[body]
}

func (r *received) count(body string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bodies[body]
}

func (r *received) hasAll(bodies []string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range bodies {
		if r.bodies[b] == 0 {
			return false
		}
	}
	return true
}

// waitAll waits until every body was delivered at least once.
func (r *received) waitAll(t *testing.T, bodies []string, timeout time.Duration) {
	t.Helper()
	waitFor(t, timeout, fmt.Sprintf("%d messages delivered", len(bodies)), func() bool { return r.hasAll(bodies) })
}

type consumerOpts struct {
	group      string
	topic      string
	expression string // tag expression, default "*"
	fromFirst  bool
	sql92      bool // expression is an SQL92 selector, not tags
}

func startPushConsumer(t *testing.T, ns *namesrv, name string, o consumerOpts, r *received) rocketmq.PushConsumer {
	t.Helper()
	from := consumer.ConsumeFromLastOffset
	if o.fromFirst {
		from = consumer.ConsumeFromFirstOffset
	}
	c, err := rocketmq.NewPushConsumer(
		consumer.WithNameServer([]string{ns.addr}),
		consumer.WithGroupName(o.group),
		consumer.WithInstance(nextInstance(name)),
		consumer.WithConsumeFromWhere(from),
	)
	if err != nil {
		t.Fatal(err)
	}
	expr := o.expression
	if expr == "" {
		expr = "*"
	}
	selector := consumer.MessageSelector{Type: consumer.TAG, Expression: expr}
	if o.sql92 {
		selector.Type = consumer.SQL92
	}
	err = c.Subscribe(o.topic, selector,
		func(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
			for _, m := range msgs {
				r.add(name, m)
			}
			return consumer.ConsumeSuccess, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatalf("start consumer %s: %v", name, err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = c.Shutdown()
		}
	})
	return &stoppableConsumer{PushConsumer: c, stopped: &stopped}
}

type stoppableConsumer struct {
	rocketmq.PushConsumer
	stopped *bool
}

func (s *stoppableConsumer) Shutdown() error {
	*s.stopped = true
	return s.PushConsumer.Shutdown()
}

// startWithTopic starts a NameServer and a broker and creates topic with the
// given number of queues: the prologue of most tests.
func startWithTopic(t *testing.T, o brokerOpts, topic string, queues int) (*namesrv, *broker) {
	t.Helper()
	ns := startNamesrv(t)
	b := startBroker(t, ns, o)
	createTopic(t, b, topic, queues)
	return ns, b
}

// createTopic creates topic on the broker with the Go admin client and waits
// until the NameServer routes it.
func createTopic(t *testing.T, b *broker, topic string, queues int) {
	t.Helper()
	adm, err := admin.NewAdmin(admin.WithResolver(primitive.NewPassthroughResolver([]string{b.nsAddr})))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	err = adm.CreateTopic(context.Background(),
		admin.WithTopicCreate(topic), admin.WithBrokerAddrCreate(b.addr),
		admin.WithReadQueueNums(queues), admin.WithWriteQueueNums(queues))
	if err != nil {
		t.Fatal(err)
	}
	waitRoute(t, b, topic, queues)
}

// waitRoute waits until the NameServer routes topic with the given write queues.
func waitRoute(t *testing.T, b *broker, topic string, queues int) {
	t.Helper()
	want := `"writeQueueNums":` + strconv.Itoa(queues)
	waitFor(t, 15*time.Second, "route of "+topic, func() bool {
		resp, err := rawInvoke(b.nsAddr, rawRequest{code: 105, ext: map[string]string{"topic": topic}})
		return err == nil && resp.code == 0 && containsAll(string(resp.body), want, b.addr)
	})
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// queueOffsets asks the broker for GET_MAX_OFFSET of each queue.
func maxOffsets(t *testing.T, b *broker, topic string, queues int) []int64 {
	t.Helper()
	out := make([]int64, queues)
	for q := 0; q < queues; q++ {
		resp, err := rawInvoke(b.addr, rawRequest{code: 30, ext: map[string]string{"topic": topic, "queueId": strconv.Itoa(q)}})
		if err != nil || resp.code != 0 {
			t.Fatalf("GET_MAX_OFFSET %s/%d: %v %+v", topic, q, err, resp)
		}
		out[q], _ = strconv.ParseInt(resp.ext["offset"], 10, 64)
	}
	return out
}

// consumerOffsets asks the broker for QUERY_CONSUMER_OFFSET of each queue
// (-1 when the broker has none).
func consumerOffsets(t *testing.T, b *broker, group, topic string, queues int) []int64 {
	t.Helper()
	out := make([]int64, queues)
	for q := 0; q < queues; q++ {
		resp, err := rawInvoke(b.addr, rawRequest{code: 14, ext: map[string]string{
			"consumerGroup": group, "topic": topic, "queueId": strconv.Itoa(q)}})
		if err != nil {
			t.Fatal(err)
		}
		out[q] = -1
		if resp.code == 0 {
			out[q], _ = strconv.ParseInt(resp.ext["offset"], 10, 64)
		}
	}
	return out
}

func sendSync(t *testing.T, p rocketmq.Producer, topic string, bodies []string, tag string) []*primitive.SendResult {
	t.Helper()
	var results []*primitive.SendResult
	for _, body := range bodies {
		msg := primitive.NewMessage(topic, []byte(body))
		if tag != "" {
			msg.WithTag(tag)
		}
		res, err := p.SendSync(context.Background(), msg)
		if err != nil {
			t.Fatalf("SendSync %q: %v", body, err)
		}
		if res.Status != primitive.SendOK {
			t.Fatalf("SendSync %q: status %v", body, res.Status)
		}
		results = append(results, res)
	}
	return results
}

func makeBodies(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%04d", prefix, i)
	}
	return out
}
