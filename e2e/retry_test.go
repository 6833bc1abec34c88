package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
)

// retryLevels makes the first retry (level 3) wait 1 s and every later one
// (levels 4 and up) 2 s.
const retryLevels = "1s 1s 1s 2s 2s 2s 2s 2s 2s 2s 2s 2s 2s 2s 2s 2s 2s 2s"

// storeTimeSlack is what a retry may come before "previous delivery +
// delay" by: the broker's delivery time is a millisecond timestamp.
const storeTimeSlack = 2 * time.Millisecond

func retryBrokerOpts() brokerOpts {
	o := defaultBrokerOpts()
	o.extra = map[string]string{"messageDelayLevel": retryLevels}
	return o
}

// delivery is one message handed to a consumer's handler.
type delivery struct {
	at             time.Time
	reconsumeTimes int32
	msgID          string
	topic          string
}

// deliveryLog records every delivery by body.
type deliveryLog struct {
	mu     sync.Mutex
	byBody map[string][]delivery
}

func newDeliveryLog() *deliveryLog { return &deliveryLog{byBody: map[string][]delivery{}} }

func (l *deliveryLog) add(m *primitive.MessageExt) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.byBody[string(m.Body)] = append(l.byBody[string(m.Body)], delivery{
		at: time.Now(), reconsumeTimes: m.ReconsumeTimes, msgID: m.MsgId, topic: m.Topic,
	})
}

func (l *deliveryLog) of(body string) []delivery {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]delivery(nil), l.byBody[body]...)
}

// waitDeliveries waits until body was delivered n times.
func (l *deliveryLog) waitDeliveries(t *testing.T, timeout time.Duration, body string, n int) {
	t.Helper()
	waitFor(t, timeout, fmt.Sprintf("%d deliveries of %s", n, body), func() bool { return len(l.of(body)) >= n })
}

// createRetryTopic creates %RETRY%<group> before the group's first
// consumer starts. The broker creates it on the consumer's first heartbeat
// too, but the Go client looks the route up before that heartbeat and only
// polls routes again every 30 s, so a new group would get no retries for
// that long.
func createRetryTopic(t *testing.T, b *broker, group string) {
	t.Helper()
	createTopic(t, b, "%RETRY%"+group, 1)
}

// startHandlerConsumer starts a push consumer of every tag of topic, from
// the first offset, whose handle decides the result of each message
// (batches are of one message, the Go default).
func startHandlerConsumer(t *testing.T, ns *namesrv, group, topic string,
	handle func(*primitive.MessageExt) consumer.ConsumeResult, opts ...consumer.Option) rocketmq.PushConsumer {
	t.Helper()
	opts = append([]consumer.Option{
		consumer.WithNameServer([]string{ns.addr}),
		consumer.WithGroupName(group),
		consumer.WithInstance(nextInstance(group)),
		consumer.WithConsumeFromWhere(consumer.ConsumeFromFirstOffset),
	}, opts...)
	c, err := rocketmq.NewPushConsumer(opts...)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Subscribe(topic, consumer.MessageSelector{Type: consumer.TAG, Expression: "*"},
		func(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
			result := consumer.ConsumeSuccess
			for _, m := range msgs {
				if r := handle(m); r != consumer.ConsumeSuccess {
					result = r
				}
			}
			return result, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatalf("start consumer of %s: %v", group, err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = c.Shutdown()
		}
	})
	return &stoppableConsumer{PushConsumer: c, stopped: &stopped}
}

// TestRetryRedeliversAfterEachLevel: messages whose consumer asks for a
// retry come back with reconsumeTimes 1 then 2, on their own topic, with
// their message id, each no earlier than its level's delay after the
// previous delivery; the others arrive once and never again.
func TestRetryRedeliversAfterEachLevel(t *testing.T) {
	const topic, group = "RetryTopic", "GID_retry"
	ns, b := startWithTopic(t, retryBrokerOpts(), topic, 2)
	createRetryTopic(t, b, group)
	p := newProducer(t, ns, "PG_retry")
	bodies := []string{"ok-0", "fail-0", "ok-1", "fail-1", "ok-2", "fail-2"}
	ids := map[string]string{}
	for i, res := range sendSync(t, p, topic, bodies, "TagR") {
		ids[bodies[i]] = res.MsgID
	}
	log := newDeliveryLog()
	startHandlerConsumer(t, ns, group, topic, func(m *primitive.MessageExt) consumer.ConsumeResult {
		log.add(m)
		switch body := string(m.Body); {
		case strings.HasPrefix(body, "fail-") && m.ReconsumeTimes < 2, body == "marker" && m.ReconsumeTimes < 1:
			return consumer.ConsumeRetryLater
		}
		return consumer.ConsumeSuccess
	})
	for _, body := range bodies {
		if strings.HasPrefix(body, "fail-") {
			log.waitDeliveries(t, 30*time.Second, body, 3)
		}
	}
	// A marker through the retry path, sent after the last third delivery:
	// its retry (level 3) comes after any stray copy the broker might have
	// scheduled at that level for an earlier message.
	ids["marker"] = sendSync(t, p, topic, []string{"marker"}, "TagR")[0].MsgID
	log.waitDeliveries(t, 15*time.Second, "marker", 2)

	levelDelay := []time.Duration{time.Second, 2 * time.Second} // levels 3 and 4
	for _, body := range append(bodies, "marker") {
		got := log.of(body)
		want := 1
		switch {
		case strings.HasPrefix(body, "fail-"):
			want = 3
		case body == "marker":
			want = 2
		}
		if len(got) != want {
			t.Fatalf("%s delivered %d times, want %d: %+v", body, len(got), want, got)
		}
		for i, d := range got {
			if d.reconsumeTimes != int32(i) || d.topic != topic || d.msgID != ids[body] {
				t.Errorf("%s delivery %d: reconsumeTimes %d topic %s id %s, want %d %s %s",
					body, i, d.reconsumeTimes, d.topic, d.msgID, i, topic, ids[body])
			}
			if i > 0 {
				if gap := d.at.Sub(got[i-1].at); gap < levelDelay[i-1]-storeTimeSlack {
					t.Errorf("%s retry %d came %s after the previous delivery, want at least %s", body, i, gap, levelDelay[i-1])
				}
			}
		}
	}
}

// TestDeadLetterAfterMaxReconsumeTimes: a message its consumer always fails
// is delivered 1 + maxReconsumeTimes (2) times, then stored in
// %DLQ%<group> with its message id and body, readable by a raw pull and by
// a consumer of the DLQ topic, and never delivered to the group again.
func TestDeadLetterAfterMaxReconsumeTimes(t *testing.T) {
	const topic, group = "DLQTopic", "GID_dlq"
	dlq := "%DLQ%" + group
	ns, b := startWithTopic(t, retryBrokerOpts(), topic, 2)
	createRetryTopic(t, b, group)
	p := newProducer(t, ns, "PG_dlq")
	poison := sendSync(t, p, topic, []string{"poison"}, "TagP")[0]
	log := newDeliveryLog()
	startHandlerConsumer(t, ns, group, topic, func(m *primitive.MessageExt) consumer.ConsumeResult {
		log.add(m)
		if string(m.Body) == "poison" || string(m.Body) == "marker" && m.ReconsumeTimes < 2 {
			return consumer.ConsumeRetryLater
		}
		return consumer.ConsumeSuccess
	}, consumer.WithMaxReconsumeTimes(2))
	log.waitDeliveries(t, 30*time.Second, "poison", 3)

	// The dead letter, read back raw once its topic is created (beside the
	// store: the send-back does not wait for it) and routed: one record,
	// same UNIQ_KEY and body.
	waitFor(t, 10*time.Second, "the dead letter stored", func() bool {
		resp, err := rawInvoke(b.addr, rawRequest{code: 30, ext: map[string]string{"topic": dlq, "queueId": "0"}})
		return err == nil && resp.code == 0 && resp.ext["offset"] == "1"
	})
	waitRoute(t, b, dlq, 1)
	resp, err := rawInvoke(b.addr, rawRequest{code: 11, ext: map[string]string{
		"consumerGroup": "GID_probe", "topic": dlq, "queueId": "0", "queueOffset": "0", "maxMsgNums": "32",
		"sysFlag": "4", "commitOffset": "0", "suspendTimeoutMillis": "0", "subscription": "*",
		"subVersion": "0", "expressionType": "TAG",
	}})
	if err != nil || resp.code != 0 {
		t.Fatalf("pull %s: %v %+v", dlq, err, resp)
	}
	recs := primitive.DecodeMessage(resp.body)
	if len(recs) != 1 {
		t.Fatalf("%d records in %s, want 1", len(recs), dlq)
	}
	dead := recs[0]
	if string(dead.Body) != "poison" || dead.GetProperty(primitive.PropertyUniqueClientMessageIdKeyIndex) != poison.MsgID ||
		dead.Topic != dlq || dead.ReconsumeTimes != 3 || dead.GetTags() != "TagP" ||
		dead.GetProperty(primitive.PropertyRetryTopic) != topic || dead.GetProperty("DELAY") != "" {
		t.Fatalf("dead letter %+v (properties %v), want body poison, UNIQ_KEY %s, reconsumeTimes 3, RETRY_TOPIC %s, no DELAY",
			dead, dead.GetProperties(), poison.MsgID, topic)
	}

	// A consumer of the DLQ topic sees the same message id.
	dlqLog := newDeliveryLog()
	startHandlerConsumer(t, ns, "GID_dlq_reader", dlq, func(m *primitive.MessageExt) consumer.ConsumeResult {
		dlqLog.add(m)
		return consumer.ConsumeSuccess
	})
	dlqLog.waitDeliveries(t, 15*time.Second, "poison", 1)
	if d := dlqLog.of("poison")[0]; d.msgID != poison.MsgID || d.topic != dlq {
		t.Fatalf("DLQ consumer saw %+v, want id %s on %s", d, poison.MsgID, dlq)
	}

	// Never again to the group: a marker that fails twice takes the
	// level-3 and level-4 retries after the poison's last delivery; a
	// fourth poison delivery (it would be at level 5, due 2 s after the
	// third) would be due before the marker's last retry.
	sendSync(t, p, topic, []string{"marker"}, "TagP")
	log.waitDeliveries(t, 15*time.Second, "marker", 3)
	if n := len(log.of("poison")); n != 3 {
		t.Fatalf("poison delivered %d times to the group, want 3", n)
	}
	for i, d := range log.of("poison") {
		if d.reconsumeTimes != int32(i) || d.msgID != poison.MsgID || d.topic != topic {
			t.Errorf("poison delivery %d: %+v", i, d)
		}
	}
	if resp, err := rawInvoke(b.addr, rawRequest{code: 30, ext: map[string]string{"topic": dlq, "queueId": "0"}}); err != nil ||
		resp.ext["offset"] != "1" {
		t.Fatalf("DLQ max offset after the marker: %v %+v, want 1", err, resp)
	}
}

// TestSendBackAndLockBadInput throws bad CONSUMER_SEND_MSG_BACK and
// LOCK/UNLOCK_BATCH_MQ requests at a broker without group auto-creation:
// each gets its code, nothing is stored or created, and the broker keeps
// serving a real consumer group.
func TestSendBackAndLockBadInput(t *testing.T) {
	const topic, group = "BadRetryTopic", "GID_bad"
	o := retryBrokerOpts()
	o.extra["autoCreateSubscriptionGroup"] = "false"
	ns, b := startWithTopic(t, o, topic, 1)
	p := newProducer(t, ns, "PG_bad")
	sent := sendSync(t, p, topic, []string{"first"}, "")[0]
	createGroupRaw(t, b, group)
	offset := commitLogOffset(t, sent.OffsetMsgID)

	call := func(code int, ext map[string]string, body string) rawResponse {
		t.Helper()
		resp, err := rawInvoke(b.addr, rawRequest{code: code, ext: ext, body: []byte(body)})
		if err != nil {
			t.Fatalf("code %d: %v", code, err)
		}
		return resp
	}
	sendBack := func(group string, offset int64) map[string]string {
		return map[string]string{"offset": strconv.FormatInt(offset, 10), "group": group, "delayLevel": "0",
			"originMsgId": sent.MsgID, "originTopic": topic, "unitMode": "false", "maxReconsumeTimes": "16"}
	}
	lockBody := func(group string) string {
		return `{"consumerGroup":"` + group + `","clientId":"10.0.0.9@bad","mqSet":[{"topic":"` + topic +
			`","brokerName":"broker-e2e","queueId":0}]}`
	}
	cases := []struct {
		name   string
		code   int
		ext    map[string]string
		body   string
		want   int
		remark string
	}{
		{"send-back of an offset inside a record", 36, sendBack(group, offset+1), "", 1, "look message by offset failed, " + strconv.FormatInt(offset+1, 10)},
		{"send-back past the end of the log", 36, sendBack(group, 1<<40), "", 1, "look message by offset failed, 1099511627776"},
		{"send-back for a missing group", 36, sendBack("GID_missing", offset), "", 26, ""},
		{"send-back without offset", 36, map[string]string{"group": group, "delayLevel": "0"}, "", 1, ""},
		{"lock for a missing group", 41, nil, lockBody("GID_missing"), 26, ""},
		{"lock with a malformed body", 41, nil, `{"consumerGroup":`, 29, ""},
		{"lock without a client id", 41, nil, `{"consumerGroup":"` + group + `","mqSet":[]}`, 29, ""},
		{"unlock with a malformed body", 42, nil, `not json`, 29, ""},
		{"unlock with no body", 42, nil, "", 29, ""},
	}
	for _, c := range cases {
		resp := call(c.code, c.ext, c.body)
		if resp.code != c.want || c.remark != "" && resp.remark != c.remark {
			t.Errorf("%s: code %d %q, want %d %q", c.name, resp.code, resp.remark, c.want, c.remark)
		}
	}
	// Nothing stored or created: no retry or DLQ topic, no group.
	for _, tp := range []string{"%RETRY%" + group, "%DLQ%" + group, "%RETRY%GID_missing"} {
		if resp := call(351, map[string]string{"topic": tp}, ""); resp.code != 17 {
			t.Errorf("GET_TOPIC_CONFIG %s: code %d, want TOPIC_NOT_EXIST", tp, resp.code)
		}
	}
	if resp := call(352, map[string]string{"group": "GID_missing"}, ""); resp.code != 26 {
		t.Errorf("GET_SUBSCRIPTIONGROUP_CONFIG GID_missing: code %d, want 26", resp.code)
	}

	// The broker keeps serving: a valid send-back of the same message is
	// stored and comes back to a consumer of the group, and a lock of the
	// existing group is granted.
	createRetryTopic(t, b, group)
	log := newDeliveryLog()
	startHandlerConsumer(t, ns, group, topic, func(m *primitive.MessageExt) consumer.ConsumeResult {
		log.add(m)
		return consumer.ConsumeSuccess
	})
	log.waitDeliveries(t, 15*time.Second, "first", 1)
	if resp := call(36, sendBack(group, offset), ""); resp.code != 0 {
		t.Fatalf("valid send-back: code %d %q", resp.code, resp.remark)
	}
	log.waitDeliveries(t, 15*time.Second, "first", 2)
	if d := log.of("first")[1]; d.reconsumeTimes != 1 || d.msgID != sent.MsgID || d.topic != topic {
		t.Fatalf("retried delivery %+v", d)
	}
	resp := call(41, nil, lockBody(group))
	if resp.code != 0 || !strings.Contains(string(resp.body), `"queueId":0`) {
		t.Fatalf("lock of %s: code %d body %s", group, resp.code, resp.body)
	}
}

// createGroupRaw creates a subscription group with Java's defaults through
// UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200), as an operator would.
func createGroupRaw(t *testing.T, b *broker, group string) {
	t.Helper()
	body := `{"groupName":"` + group + `","consumeEnable":true,"consumeFromMinEnable":true,"consumeBroadcastEnable":true,` +
		`"retryQueueNums":1,"retryMaxTimes":16,"brokerId":0,"whichBrokerWhenConsumeSlowly":1,"notifyConsumerIdsChangedEnable":true}`
	resp, err := rawInvoke(b.addr, rawRequest{code: 200, body: []byte(body)})
	if err != nil || resp.code != 0 {
		t.Fatalf("create group %s: %v %+v", group, err, resp)
	}
}

// commitLogOffset decodes the commit-log offset from an IPv4 offset
// message id (the last 16 hex digits).
func commitLogOffset(t *testing.T, offsetMsgID string) int64 {
	t.Helper()
	if len(offsetMsgID) != 32 {
		t.Fatalf("offset message id %q", offsetMsgID)
	}
	n, err := strconv.ParseInt(offsetMsgID[16:], 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
