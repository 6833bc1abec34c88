package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
)

// delayLevels makes level n wait n seconds, so a test knows every delay.
// Eight levels rather than Java's eighteen keep the clamped message of
// TestDelayLevelsDeliverOnTime (highest level) at 8 s.
const (
	delayLevels     = "1s 2s 3s 4s 5s 6s 7s 8s"
	delayLevelCount = 8
)

// clockSlack is what a delivery may precede "send + delay" by: store
// timestamps have millisecond granularity. (The send time is taken before
// the request leaves, so it never follows the broker's own clock reading;
// the acknowledgement, which does, would be a wrong lower bound under load.)
const clockSlack = 10 * time.Millisecond

func delayBrokerOpts() brokerOpts {
	o := defaultBrokerOpts()
	o.extra = map[string]string{"messageDelayLevel": delayLevels}
	return o
}

// arrival is one delivery to a timed consumer.
type arrival struct {
	msg *primitive.MessageExt
	at  time.Time
}

// arrivals records every delivery with the time the consumer saw it.
type arrivals struct {
	mu     sync.Mutex
	byBody map[string][]arrival
}

func (a *arrivals) add(m *primitive.MessageExt) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.byBody[string(m.Body)] = append(a.byBody[string(m.Body)], arrival{msg: m, at: time.Now()})
}

func (a *arrivals) of(body string) []arrival {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]arrival(nil), a.byBody[body]...)
}

func (a *arrivals) wait(t *testing.T, timeout time.Duration, bodies ...string) {
	t.Helper()
	waitFor(t, timeout, fmt.Sprintf("delivery of %v", bodies), func() bool {
		for _, b := range bodies {
			if len(a.of(b)) == 0 {
				return false
			}
		}
		return true
	})
}

// startTimedConsumer starts a push consumer of every tag of topic that
// reads from the first offset and records arrival times.
func startTimedConsumer(t *testing.T, ns *namesrv, group, topic string) *arrivals {
	t.Helper()
	a := &arrivals{byBody: map[string][]arrival{}}
	c, err := rocketmq.NewPushConsumer(
		consumer.WithNameServer([]string{ns.addr}),
		consumer.WithGroupName(group),
		consumer.WithInstance(nextInstance("delay")),
		consumer.WithConsumeFromWhere(consumer.ConsumeFromFirstOffset),
	)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Subscribe(topic, consumer.MessageSelector{Type: consumer.TAG, Expression: "*"},
		func(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
			for _, m := range msgs {
				a.add(m)
			}
			return consumer.ConsumeSuccess, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Shutdown() })
	return a
}

// newQueueProducer is a producer that sends each message to msg.Queue.
func newQueueProducer(t *testing.T, ns *namesrv, group string) rocketmq.Producer {
	t.Helper()
	return newProducer(t, ns, group, producer.WithQueueSelector(producer.NewManualQueueSelector()))
}

// delayed is one message of a delay test.
type delayed struct {
	body  string
	level int // 0: a plain message
	queue int
	delay time.Duration // what the level means after clamping
}

// send sends d with a tag, keys and a user property derived from its body
// and returns the time just before the request was sent.
func (d delayed) send(t *testing.T, p rocketmq.Producer, topic string) time.Time {
	t.Helper()
	msg := primitive.NewMessage(topic, []byte(d.body))
	msg.Queue = &primitive.MessageQueue{Topic: topic, BrokerName: "broker-e2e", QueueId: d.queue}
	msg.WithTag("Tag" + strconv.Itoa(d.level))
	msg.WithKeys([]string{"key-" + d.body})
	msg.WithProperty("userProp", "value-"+d.body)
	if d.level != 0 {
		msg.WithDelayTimeLevel(d.level)
	}
	sent := time.Now()
	res, err := p.SendSync(context.Background(), msg)
	if err != nil || res.Status != primitive.SendOK {
		t.Fatalf("send %s: %v %v", d.body, res, err)
	}
	return sent
}

// checkDelivered asserts that d arrived exactly once, on its real topic and
// queue, with its tag, keys and user property, without DELAY, and not before
// sent + delay: neither the delivered record's store time nor the arrival.
func (d delayed) checkDelivered(t *testing.T, a *arrivals, topic string, sent time.Time) arrival {
	t.Helper()
	got := a.of(d.body)
	if len(got) != 1 {
		t.Fatalf("%s delivered %d times, want exactly once", d.body, len(got))
	}
	m := got[0].msg
	if m.Topic != topic || m.Queue.QueueId != d.queue {
		t.Errorf("%s arrived on %s/%d, want %s/%d", d.body, m.Topic, m.Queue.QueueId, topic, d.queue)
	}
	if m.GetTags() != "Tag"+strconv.Itoa(d.level) || m.GetKeys() != "key-"+d.body || m.GetProperty("userProp") != "value-"+d.body {
		t.Errorf("%s lost properties: tags %q keys %q userProp %q", d.body, m.GetTags(), m.GetKeys(), m.GetProperty("userProp"))
	}
	if m.GetProperty("DELAY") != "" {
		t.Errorf("%s still carries DELAY=%s", d.body, m.GetProperty("DELAY"))
	}
	if d.level != 0 {
		if m.GetProperty("REAL_TOPIC") != topic || m.GetProperty("REAL_QID") != strconv.Itoa(d.queue) {
			t.Errorf("%s: REAL_TOPIC %q REAL_QID %q", d.body, m.GetProperty("REAL_TOPIC"), m.GetProperty("REAL_QID"))
		}
		earliest := sent.Add(d.delay - clockSlack)
		if stored := time.UnixMilli(m.StoreTimestamp); stored.Before(earliest) {
			t.Errorf("%s delivered %s after it was sent, want at least %s", d.body, stored.Sub(sent), d.delay)
		}
		if got[0].at.Before(earliest) {
			t.Errorf("%s arrived %s after it was sent, want at least %s", d.body, got[0].at.Sub(sent), d.delay)
		}
	}
	return got[0]
}

// delayOffsets asks the broker for GET_ALL_DELAY_OFFSET (45) and returns its
// offset table.
func delayOffsets(t *testing.T, b *broker) map[int]int64 {
	t.Helper()
	resp, err := rawInvoke(b.addr, rawRequest{code: 45})
	if err != nil || resp.code != 0 {
		t.Fatalf("GET_ALL_DELAY_OFFSET: %v %+v", err, resp)
	}
	var w struct {
		OffsetTable map[int]int64 `json:"offsetTable"`
	}
	if err := json.Unmarshal(resp.body, &w); err != nil {
		t.Fatalf("GET_ALL_DELAY_OFFSET body %q: %v", resp.body, err)
	}
	return w.OffsetTable
}

// wantDelayOffsets is the table of every level with the given non-zero
// entries.
func wantDelayOffsets(nonZero map[int]int64) map[int]int64 {
	w := map[int]int64{}
	for n := 1; n <= delayLevelCount; n++ {
		w[n] = nonZero[n]
	}
	return w
}

func sumOffsets(offsets []int64) int64 {
	var s int64
	for _, o := range offsets {
		s += o
	}
	return s
}

// TestDelayLevelsDeliverOnTime sends messages with levels 1–3, one above the
// highest level (clamped to 8) and plain ones: the plain ones arrive first,
// each delayed one arrives exactly once, on its real topic and queue, not
// before its delay, in the order of the delays; the progress shows in
// GET_ALL_DELAY_OFFSET.
func TestDelayLevelsDeliverOnTime(t *testing.T) {
	topic := "DelayTopic"
	ns, b := startWithTopic(t, delayBrokerOpts(), topic, 4)
	p := newQueueProducer(t, ns, "PG_delay")
	a := startTimedConsumer(t, ns, "CG_delay", topic)
	warmup := delayed{body: "warmup", queue: 0}
	warmup.send(t, p, topic)
	a.wait(t, 20*time.Second, warmup.body)

	msgs := []delayed{
		{body: "level-3", level: 3, queue: 0, delay: 3 * time.Second},
		{body: "level-1", level: 1, queue: 1, delay: time.Second},
		{body: "level-2", level: 2, queue: 2, delay: 2 * time.Second},
		{body: "level-40-clamped", level: 40, queue: 3, delay: delayLevelCount * time.Second},
		{body: "plain-a", queue: 0},
		{body: "plain-b", queue: 3},
	}
	sent := map[string]time.Time{}
	for _, m := range msgs {
		sent[m.body] = m.send(t, p, topic)
	}
	for _, m := range msgs {
		a.wait(t, 30*time.Second, m.body)
	}
	marker := delayed{body: "marker", queue: 1}
	marker.send(t, p, topic)
	a.wait(t, 10*time.Second, marker.body)

	at := map[string]time.Time{}
	for _, m := range msgs {
		at[m.body] = m.checkDelivered(t, a, topic, sent[m.body]).at
	}
	order := []string{"plain-a", "level-1", "level-2", "level-3", "level-40-clamped"}
	for i := 1; i < len(order); i++ {
		if !at[order[i-1]].Before(at[order[i]]) {
			t.Errorf("%s arrived at %s, not before %s at %s", order[i-1], at[order[i-1]], order[i], at[order[i]])
		}
	}
	if !at["plain-b"].Before(at["level-1"]) {
		t.Errorf("plain-b arrived after level-1")
	}
	// Exactly one record per message in the real topic: warmup, six, marker.
	if got := sumOffsets(maxOffsets(t, b, topic, 4)); got != 8 {
		t.Errorf("%d records in %s, want 8", got, topic)
	}
	want := wantDelayOffsets(map[int]int64{1: 1, 2: 1, 3: 1, delayLevelCount: 1})
	if got := delayOffsets(t, b); !maps.Equal(got, want) {
		t.Errorf("GET_ALL_DELAY_OFFSET %v, want %v", got, want)
	}
}

// readDelayOffsetFile reads <store>/config/delayOffset.json.
func readDelayOffsetFile(t *testing.T, b *broker) map[int]int64 {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(b.storeAt, "config", "delayOffset.json"))
	if err != nil {
		t.Fatal(err)
	}
	var w struct {
		OffsetTable map[int]int64 `json:"offsetTable"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		t.Fatalf("delayOffset.json %q: %v", data, err)
	}
	return w.OffsetTable
}

// TestDelayedMessageSurvivesRestart stops the broker with SIGTERM while a
// level-8 message waits: delayOffset.json holds the progress (the level-1
// message delivered before is not delivered again) and the waiting message
// arrives exactly once after the restart, not before its delay.
func TestDelayedMessageSurvivesRestart(t *testing.T) {
	topic := "DelayRestartTopic"
	ns, b := startWithTopic(t, delayBrokerOpts(), topic, 2)
	p := newQueueProducer(t, ns, "PG_delay_restart")
	early := delayed{body: "level-1", level: 1, queue: 0, delay: time.Second}
	earlySent := early.send(t, p, topic)
	waitFor(t, 10*time.Second, "level-1 delivered", func() bool { return sumOffsets(maxOffsets(t, b, topic, 2)) == 1 })

	late := delayed{body: "level-8", level: 8, queue: 1, delay: 8 * time.Second}
	lateAck := late.send(t, p, topic)
	b.stop() // SIGTERM long before level-8 is due
	if got, want := readDelayOffsetFile(t, b), wantDelayOffsets(map[int]int64{1: 1}); !maps.Equal(got, want) {
		t.Fatalf("delayOffset.json after SIGTERM %v, want %v", got, want)
	}
	b.start()

	a := startTimedConsumer(t, ns, "CG_delay_restart", topic)
	a.wait(t, 20*time.Second, early.body, late.body)
	marker := delayed{body: "marker", queue: 0}
	marker.send(t, p, topic)
	a.wait(t, 10*time.Second, marker.body)
	early.checkDelivered(t, a, topic, earlySent)
	late.checkDelivered(t, a, topic, lateAck)
	if got := sumOffsets(maxOffsets(t, b, topic, 2)); got != 3 {
		t.Errorf("%d records in %s, want 3 (level-1, level-8, marker)", got, topic)
	}
	want := wantDelayOffsets(map[int]int64{1: 1, 8: 1})
	if got := delayOffsets(t, b); !maps.Equal(got, want) {
		t.Errorf("GET_ALL_DELAY_OFFSET %v, want %v", got, want)
	}
}

// TestDelayedMessageSurvivesKill9 kills the broker (kill -9) while a level-6
// message waits and before any delay offset was persisted (the interval is
// longer than the test): after the restart the level-6 message arrives once,
// not before its delay, and the level-1 message delivered before the crash
// is delivered again (at least once), not earlier than its own delay.
func TestDelayedMessageSurvivesKill9(t *testing.T) {
	topic := "DelayKillTopic"
	o := delayBrokerOpts()
	o.extra["flushDelayOffsetInterval"] = "600000"
	ns, b := startWithTopic(t, o, topic, 2)
	p := newQueueProducer(t, ns, "PG_delay_kill")
	early := delayed{body: "level-1", level: 1, queue: 0, delay: time.Second}
	earlySent := early.send(t, p, topic)
	waitFor(t, 10*time.Second, "level-1 delivered", func() bool { return sumOffsets(maxOffsets(t, b, topic, 2)) == 1 })

	late := delayed{body: "level-6", level: 6, queue: 1, delay: 6 * time.Second}
	lateAck := late.send(t, p, topic)
	b.kill()
	b.start()

	a := startTimedConsumer(t, ns, "CG_delay_kill", topic)
	a.wait(t, 20*time.Second, early.body, late.body)
	waitFor(t, 10*time.Second, "level-1 delivered again", func() bool { return len(a.of(early.body)) == 2 })
	marker := delayed{body: "marker", queue: 0}
	marker.send(t, p, topic)
	a.wait(t, 10*time.Second, marker.body)
	late.checkDelivered(t, a, topic, lateAck)
	for _, got := range a.of(early.body) {
		if stored := time.UnixMilli(got.msg.StoreTimestamp); stored.Before(earlySent.Add(early.delay - clockSlack)) {
			t.Errorf("level-1 delivered %s after it was sent", stored.Sub(earlySent))
		}
	}
	if got := len(a.of(early.body)); got != 2 {
		t.Errorf("level-1 delivered %d times, want twice (before the crash and again after it)", got)
	}
	if got := sumOffsets(maxOffsets(t, b, topic, 2)); got != 4 {
		t.Errorf("%d records in %s, want 4 (level-1 twice, level-6, marker)", got, topic)
	}
	want := wantDelayOffsets(map[int]int64{1: 1, 6: 1})
	if got := delayOffsets(t, b); !maps.Equal(got, want) {
		t.Errorf("GET_ALL_DELAY_OFFSET %v, want %v", got, want)
	}
}
