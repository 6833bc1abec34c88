package e2e

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/primitive"
)

// queryMsg sends QUERY_MESSAGE (12) as the Java client and mqadmin do.
func queryMsg(t *testing.T, b *broker, topic, key string, maxNum int, begin, end int64, unique bool) rawResponse {
	t.Helper()
	ext := map[string]string{
		"topic": topic, "key": key, "maxNum": strconv.Itoa(maxNum),
		"beginTimestamp": strconv.FormatInt(begin, 10), "endTimestamp": strconv.FormatInt(end, 10),
	}
	if unique {
		ext["_UNIQUE_KEY_QUERY"] = "true"
	}
	resp, err := rawInvoke(b.addr, rawRequest{code: 12, ext: ext})
	if err != nil {
		t.Fatalf("QUERY_MESSAGE %s#%s: %v", topic, key, err)
	}
	return resp
}

// viewMsg sends VIEW_MESSAGE_BY_ID (33) for a commit-log offset.
func viewMsg(t *testing.T, b *broker, offset int64) rawResponse {
	t.Helper()
	resp, err := rawInvoke(b.addr, rawRequest{code: 33, ext: map[string]string{"offset": strconv.FormatInt(offset, 10)}})
	if err != nil {
		t.Fatalf("VIEW_MESSAGE_BY_ID %d: %v", offset, err)
	}
	return resp
}

// decodeRecords decodes a query or view body with the Go client's own
// decoder, checking that the records' sizes add up to the body.
func decodeRecords(t *testing.T, body []byte) []*primitive.MessageExt {
	t.Helper()
	msgs := primitive.DecodeMessage(body)
	total := 0
	for _, m := range msgs {
		total += int(m.StoreSize)
	}
	if total != len(body) {
		t.Fatalf("records of %d bytes in a %d-byte body", total, len(body))
	}
	return msgs
}

func bodiesOf(msgs []*primitive.MessageExt) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, string(m.Body))
	}
	return out
}

// queryBodies queries key and returns the bodies found (nil on
// QUERY_NOT_FOUND; any other code fails the test).
func queryBodies(t *testing.T, b *broker, topic, key string, maxNum int, begin, end int64) []string {
	t.Helper()
	resp := queryMsg(t, b, topic, key, maxNum, begin, end, false)
	switch resp.code {
	case 0:
		return bodiesOf(decodeRecords(t, resp.body))
	case 22:
		return nil
	}
	t.Fatalf("QUERY_MESSAGE %s#%s: code %d %q", topic, key, resp.code, resp.remark)
	return nil
}

func sendWithKeys(t *testing.T, p rocketmq.Producer, topic, body string, keys ...string) *primitive.SendResult {
	t.Helper()
	msg := primitive.NewMessage(topic, []byte(body))
	msg.WithKeys(keys)
	res, err := p.SendSync(context.Background(), msg)
	if err != nil || res.Status != primitive.SendOK {
		t.Fatalf("SendSync %q: %v %v", body, res, err)
	}
	return res
}

// TestQueryMessageByKeyAndID: messages sent with keys are found by key
// (exactly those, in send order), by a time range that excludes the older
// ones, by their client id (unique-key query) and by their offset id
// (VIEW_MESSAGE_BY_ID); bad lookups get QUERY_NOT_FOUND and SYSTEM_ERROR
// and the broker keeps serving. All of it holds after a SIGTERM restart and
// after a kill -9 restart.
func TestQueryMessageByKeyAndID(t *testing.T) {
	topic := "QueryTopic"
	// Small index files (15 items each, 2-3 keys per message) make the
	// queries span several files.
	opts := defaultBrokerOpts()
	opts.extra = map[string]string{"maxHashSlotNum": "64", "maxIndexNum": "16"}
	ns, b := startWithTopic(t, opts, topic, 2)
	p := newProducer(t, ns, "PG_query")

	var oldRes []*primitive.SendResult
	for i := 0; i < 3; i++ {
		oldRes = append(oldRes, sendWithKeys(t, p, topic, fmt.Sprintf("old-%d", i), "order-1", "shared"))
	}
	sendWithKeys(t, p, topic, "other", "order-2", "shared")
	oldBodies := []string{"old-0", "old-1", "old-2", "other"}
	var oldMax int64 // the newest store time of the old messages
	waitFor(t, 10*time.Second, "old messages indexed", func() bool {
		resp := queryMsg(t, b, topic, "shared", 32, 0, math.MaxInt64, false)
		if resp.code != 0 {
			return false
		}
		msgs := decodeRecords(t, resp.body)
		for _, m := range msgs {
			oldMax = max(oldMax, m.StoreTimestamp)
		}
		return slices.Equal(bodiesOf(msgs), oldBodies)
	})
	// The index keeps times in whole seconds from its file's begin: newer
	// messages must be stored more than a second after the old ones for a
	// range to tell them apart. This waits out that window, it is no guess.
	time.Sleep(time.Until(time.UnixMilli(oldMax + 2100)))
	var newRes []*primitive.SendResult
	for i := 0; i < 2; i++ {
		newRes = append(newRes, sendWithKeys(t, p, topic, fmt.Sprintf("new-%d", i), "order-1", "shared"))
	}
	newOrder1 := []string{"new-0", "new-1"}
	allOrder1 := append([]string{"old-0", "old-1", "old-2"}, newOrder1...)
	waitFor(t, 10*time.Second, "new messages indexed", func() bool {
		return slices.Equal(queryBodies(t, b, topic, "order-1", 32, 0, math.MaxInt64), allOrder1)
	})

	check := func(stage string) {
		t.Helper()
		for _, tc := range []struct {
			name       string
			topic      string // default topic
			key        string
			maxNum     int
			begin, end int64
			want       []string
		}{
			{name: "by key", key: "order-1", maxNum: 32, begin: 0, end: math.MaxInt64, want: allOrder1},
			{name: "other key", key: "order-2", maxNum: 32, begin: 0, end: math.MaxInt64, want: []string{"other"}},
			{name: "range excludes the old ones", key: "order-1", maxNum: 32, begin: oldMax + 1000, end: math.MaxInt64,
				want: newOrder1},
			{name: "range of the old ones", key: "shared", maxNum: 32, begin: 0, end: oldMax,
				want: []string{"old-0", "old-1", "old-2", "other"}},
			{name: "maxNum keeps the newest", key: "shared", maxNum: 2, begin: 0, end: math.MaxInt64,
				want: []string{"new-0", "new-1"}},
			{name: "key of another topic", topic: "QueryOtherTopic", key: "order-1", maxNum: 32, begin: 0, end: math.MaxInt64},
		} {
			tp := tc.topic
			if tp == "" {
				tp = topic
			}
			if got := queryBodies(t, b, tp, tc.key, tc.maxNum, tc.begin, tc.end); !slices.Equal(got, tc.want) {
				t.Fatalf("%s: %s: got %q, want %q", stage, tc.name, got, tc.want)
			}
		}

		// Unique-key query by the client id (SendResult.MsgID = UNIQ_KEY).
		resp := queryMsg(t, b, topic, oldRes[1].MsgID, 1, 0, math.MaxInt64, true)
		if resp.code != 0 {
			t.Fatalf("%s: unique-key query: code %d %q", stage, resp.code, resp.remark)
		}
		if msgs := decodeRecords(t, resp.body); len(msgs) != 1 || string(msgs[0].Body) != "old-1" || msgs[0].MsgId != oldRes[1].MsgID {
			t.Fatalf("%s: unique-key query returned %q", stage, bodiesOf(msgs))
		}
		if resp.ext["indexLastUpdatePhyoffset"] == "" || resp.ext["indexLastUpdateTimestamp"] == "" {
			t.Fatalf("%s: query response header %v", stage, resp.ext)
		}

		// View by the offset message id, decoded as the client decodes it.
		id, err := primitive.UnmarshalMsgID([]byte(newRes[0].OffsetMsgID))
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%s:%d", id.Addr, id.Port); got != b.addr {
			t.Fatalf("%s: offset msg id names %s, want %s", stage, got, b.addr)
		}
		view := viewMsg(t, b, id.Offset)
		if view.code != 0 {
			t.Fatalf("%s: view %d: code %d %q", stage, id.Offset, view.code, view.remark)
		}
		if msgs := decodeRecords(t, view.body); len(msgs) != 1 || string(msgs[0].Body) != "new-0" ||
			msgs[0].OffsetMsgId != newRes[0].OffsetMsgID || msgs[0].GetKeys() != "order-1 shared" {
			t.Fatalf("%s: view returned %v", stage, msgs)
		}

		// Bad lookups, and the broker keeps serving.
		bogus := viewMsg(t, b, id.Offset+1)
		if want := "can not find message by the offset, " + strconv.FormatInt(id.Offset+1, 10); bogus.code != 1 || bogus.remark != want {
			t.Fatalf("%s: bogus offset: code %d %q, want 1 %q", stage, bogus.code, bogus.remark, want)
		}
		if missing := queryMsg(t, b, topic, "no-such-key", 32, 0, math.MaxInt64, false); missing.code != 22 {
			t.Fatalf("%s: missing key: code %d %q, want 22 QUERY_NOT_FOUND", stage, missing.code, missing.remark)
		}
		if got := queryBodies(t, b, topic, "order-2", 32, 0, math.MaxInt64); !slices.Equal(got, []string{"other"}) {
			t.Fatalf("%s: after bad lookups: %q", stage, got)
		}
	}
	check("running")

	b.stop() // SIGTERM
	b.start()
	check("after SIGTERM restart")

	// A message sent right before a kill -9 is found after the restart,
	// whether or not it was indexed before the kill.
	last := sendWithKeys(t, p, topic, "last", "order-1")
	b.kill()
	b.start()
	newOrder1 = append(newOrder1, "last")
	allOrder1 = append(allOrder1, "last")
	waitFor(t, 10*time.Second, "the last message indexed after kill -9", func() bool {
		return slices.Equal(queryBodies(t, b, topic, "order-1", 32, 0, math.MaxInt64), allOrder1)
	})
	check("after kill -9 restart")
	if got := queryBodies(t, b, topic, last.MsgID, 32, 0, math.MaxInt64); !slices.Equal(got, []string{"last"}) {
		t.Fatalf("the last message by its client id: %q", got)
	}

	// Without its index directory the broker rebuilds the index from the
	// commit log at start.
	b.stop()
	if err := os.RemoveAll(filepath.Join(b.storeAt, "index")); err != nil {
		t.Fatal(err)
	}
	b.start()
	waitFor(t, 10*time.Second, "the index rebuilt", func() bool {
		return slices.Equal(queryBodies(t, b, topic, "order-1", 32, 0, math.MaxInt64), allOrder1)
	})
	check("after rebuilding the index")
}

// TestQueryFindsDelayedMessagesByKey: a delayed message, stored again on its
// real topic by the broker when it comes due (the writer's Put, whose
// records hand the index their keys like sends do), is found by key there,
// as are the plain messages sent beside it.
func TestQueryFindsDelayedMessagesByKey(t *testing.T) {
	topic := "DelayQueryTopic"
	ns, b := startWithTopic(t, delayBrokerOpts(), topic, 4)
	p := newQueueProducer(t, ns, "PG_delay_query")
	c := startTimedConsumer(t, ns, "CG_delay_query", topic)
	msgs := []delayed{{body: "plain", queue: 0}, {body: "late", level: 1, queue: 1}, {body: "plain2", queue: 2}}
	for _, m := range msgs {
		m.send(t, p, topic)
	}
	for _, m := range msgs {
		c.wait(t, 30*time.Second, m.body)
	}
	for _, m := range msgs {
		waitFor(t, 10*time.Second, m.body+" found by its key", func() bool {
			return slices.Equal(queryBodies(t, b, topic, "key-"+m.body, 32, 0, 1<<62), []string{m.body})
		})
	}
}
