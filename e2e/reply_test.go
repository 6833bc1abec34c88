package e2e

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
)

// Request-reply (wire-protocol.md §16, client-quirks A6): a Go requester's
// Request gets the reply a responder sends to <cluster>_REPLY_TOPIC, pushed
// by the broker as PUSH_REPLY_MESSAGE_TO_CLIENT on the requester's own
// connection.

const replyTopic = "E2ECluster_REPLY_TOPIC"

var offsetMsgID = regexp.MustCompile(`^[0-9A-F]{32}$`)

// startResponder subscribes topic and hands every request message to fn.
func startResponder(t *testing.T, ns *namesrv, group, topic string, fn func(*primitive.MessageExt)) {
	t.Helper()
	c, err := rocketmq.NewPushConsumer(consumer.WithNameServer([]string{ns.addr}), consumer.WithGroupName(group),
		consumer.WithInstance(nextInstance("responder")), consumer.WithConsumeFromWhere(consumer.ConsumeFromFirstOffset))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Subscribe(topic, consumer.MessageSelector{Type: consumer.TAG, Expression: "*"},
		func(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
			for _, m := range msgs {
				fn(m)
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
}

// request runs Request in the background and delivers its outcome.
type requestResult struct {
	msg *primitive.Message
	err error
}

func requestAsync(p rocketmq.Producer, msg *primitive.Message, timeout time.Duration) <-chan requestResult {
	out := make(chan requestResult, 1)
	go func() {
		m, err := p.Request(context.Background(), timeout, msg)
		out <- requestResult{m, err}
	}()
	return out
}

func waitResult(t *testing.T, ch <-chan requestResult, what string) requestResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(20 * time.Second):
		t.Fatalf("no outcome of %s", what)
		return requestResult{}
	}
}

// nextRequest waits for the next request message the hand responder got.
func nextRequest(t *testing.T, ch <-chan *primitive.MessageExt) *primitive.MessageExt {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(20 * time.Second):
		t.Fatal("no request message reached the hand responder")
		return nil
	}
}

// replyFrame is a hand-built SEND_REPLY_MESSAGE (324, full names) or _V2
// (325, short keys) carrying props and body.
func replyFrame(code int, props map[string]string, body string) rawRequest {
	var sb strings.Builder
	for k, v := range props {
		sb.WriteString(k + "\x01" + v + "\x02")
	}
	full := map[string]string{
		"producerGroup": "PG_hand_reply", "topic": replyTopic, "defaultTopic": "TBW102", "defaultTopicQueueNums": "4",
		"queueId": "0", "sysFlag": "0", "bornTimestamp": strconv.FormatInt(time.Now().UnixMilli(), 10), "flag": "0",
		"properties": sb.String(), "reconsumeTimes": "0", "unitMode": "false",
	}
	ext := full
	if code == 325 {
		short := map[string]string{}
		for long, key := range map[string]string{"producerGroup": "a", "topic": "b", "defaultTopic": "c", "defaultTopicQueueNums": "d",
			"queueId": "e", "sysFlag": "f", "bornTimestamp": "g", "flag": "h", "properties": "i", "reconsumeTimes": "j", "unitMode": "k"} {
			short[key] = full[long]
		}
		ext = short
	}
	return rawRequest{code: code, ext: ext, body: []byte(body)}
}

// replyProps copies what a responder must echo from the request message.
func replyProps(req *primitive.MessageExt) map[string]string {
	return map[string]string{
		"CORRELATION_ID":  req.GetProperty("CORRELATION_ID"),
		"REPLY_TO_CLIENT": req.GetProperty("REPLY_TO_CLIENT"),
		"TTL":             req.GetProperty("TTL"),
		"MSG_TYPE":        "reply",
	}
}

func TestRequestReply(t *testing.T) {
	const topic, handTopic = "RequestTopic", "HandReplyTopic"
	ns, b := startWithTopic(t, defaultBrokerOpts(), topic, 1)
	createTopic(t, b, handTopic, 1)
	requester := newNamedProducer(t, ns, "PG_requester", "requester")
	responder := newProducer(t, ns, "PG_responder")

	// The Go responder replies with the client's helper: the reply's body is
	// lost (quirk A6.39) but its properties travel.
	startResponder(t, ns, "CG_responder", topic, func(m *primitive.MessageExt) {
		if m.GetProperty("REPLY_TO_CLIENT") == "" {
			return // the warm-up message
		}
		reply, err := consumer.CreateReplyMessage(m, []byte("ignored by the Go helper"))
		if err != nil {
			t.Errorf("CreateReplyMessage: %v", err)
			return
		}
		if _, err := responder.SendSync(context.Background(), reply); err != nil {
			t.Errorf("send reply: %v", err)
		}
	})
	// The hand responder only passes the request messages on.
	handRequests := make(chan *primitive.MessageExt, 8)
	startResponder(t, ns, "CG_hand", handTopic, func(m *primitive.MessageExt) { handRequests <- m })

	// The broker pushes replies only to a registered producer. The Go client
	// heartbeats a moment after its first send, and a fast responder can
	// beat that, so the requester sends once and registers first.
	sendSync(t, requester, topic, []string{"warm-up"}, "")
	waitFor(t, 35*time.Second, "the requester registered as a producer", func() bool {
		resp, err := rawInvoke(b.addr, rawRequest{code: 204, ext: map[string]string{"producerGroup": "PG_requester"}})
		return err == nil && resp.code == 0
	})
	msg := primitive.NewMessage(topic, []byte("ping"))
	res := waitResult(t, requestAsync(requester, msg, 15*time.Second), "the Go round trip")
	if res.err != nil {
		t.Fatalf("Request: %v", res.err)
	}
	corr := msg.GetProperty("CORRELATION_ID")
	if corr == "" || res.msg.GetProperty("CORRELATION_ID") != corr || res.msg.GetProperty("MSG_TYPE") != "reply" ||
		res.msg.GetProperty("PUSH_REPLY_TIME") == "" || len(res.msg.Body) != 0 {
		t.Fatalf("reply %+v (properties %v), want correlation id %s, MSG_TYPE reply, PUSH_REPLY_TIME and the Go helper's empty body",
			res.msg, res.msg.GetProperties(), corr)
	}

	// The broker stores the Go reply after pushing it.
	waitFor(t, 10*time.Second, "the Go reply stored", func() bool { return maxOffsets(t, b, replyTopic, 1)[0] == 1 })

	// A hand-built reply with a body, stored as well as pushed.
	storedBefore := int64(1)
	pending := requestAsync(requester, primitive.NewMessage(handTopic, []byte("question")), 15*time.Second)
	req := nextRequest(t, handRequests)
	resp := mustInvoke(t, b.addr, replyFrame(324, replyProps(req), "the answer"))
	expectCode(t, resp, 0, "SEND_REPLY_MESSAGE")
	if !offsetMsgID.MatchString(resp.ext["msgId"]) || resp.ext["queueId"] != "0" ||
		resp.ext["queueOffset"] != strconv.FormatInt(storedBefore, 10) || resp.ext["MSG_REGION"] != "DefaultRegion" {
		t.Fatalf("reply response %+v, want the stored record's msgId and queue offset %d", resp.ext, storedBefore)
	}
	res = waitResult(t, pending, "the hand-built reply")
	if res.err != nil || string(res.msg.Body) != "the answer" || res.msg.GetProperty("CORRELATION_ID") != req.GetProperty("CORRELATION_ID") {
		t.Fatalf("requester got %+v %v", res.msg, res.err)
	}

	// Refusals: no REPLY_TO_CLIENT, and a client that is not connected (V2
	// header). Both are still stored, as in Java.
	resp = mustInvoke(t, b.addr, replyFrame(324, map[string]string{"CORRELATION_ID": "x", "MSG_TYPE": "reply"}, "b"))
	if resp.code != 1 || !strings.Contains(resp.remark, "REPLY_TO_CLIENT") {
		t.Fatalf("reply without REPLY_TO_CLIENT: %d %s", resp.code, resp.remark)
	}
	resp = mustInvoke(t, b.addr, replyFrame(325, map[string]string{"CORRELATION_ID": "x", "REPLY_TO_CLIENT": "10.9.9.9@gone"}, "b"))
	if resp.code != 1 || !strings.Contains(resp.remark, "<10.9.9.9@gone> not found") {
		t.Fatalf("reply to an unknown client: %d %s", resp.code, resp.remark)
	}
	expectCode(t, mustInvoke(t, b.addr, rawRequest{code: 324, ext: map[string]string{"topic": replyTopic}}), 1, "reply with a partial header")

	// With storeReplyMessageEnable switched off at runtime the reply is only
	// pushed: msgId "0", queueOffset 0. The next stored reply (after the
	// switch back) takes the offset right after the refused ones, so the
	// unstored reply took none.
	expectCode(t, mustInvoke(t, b.addr, rawRequest{code: 25, body: []byte("storeReplyMessageEnable=false")}), 0, "UPDATE_BROKER_CONFIG")
	pending = requestAsync(requester, primitive.NewMessage(handTopic, []byte("question 2")), 15*time.Second)
	req = nextRequest(t, handRequests)
	resp = mustInvoke(t, b.addr, replyFrame(325, replyProps(req), "unstored answer"))
	if resp.code != 0 || resp.ext["msgId"] != "0" || resp.ext["queueOffset"] != "0" {
		t.Fatalf("unstored reply response: %d %+v", resp.code, resp.ext)
	}
	res = waitResult(t, pending, "the unstored reply")
	if res.err != nil || string(res.msg.Body) != "unstored answer" {
		t.Fatalf("requester got %+v %v", res.msg, res.err)
	}
	expectCode(t, mustInvoke(t, b.addr, rawRequest{code: 25, body: []byte("storeReplyMessageEnable=true")}), 0, "UPDATE_BROKER_CONFIG")
	resp = mustInvoke(t, b.addr, replyFrame(324, map[string]string{"REPLY_TO_CLIENT": "10.9.9.9@gone"}, "marker"))
	if resp.code != 1 || resp.ext["queueOffset"] != strconv.FormatInt(storedBefore+3, 10) {
		t.Fatalf("marker reply: %d %+v, want stored at offset %d", resp.code, resp.ext, storedBefore+3)
	}
}
