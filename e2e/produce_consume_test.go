package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"
)

// TestSendModesDeliverEverything sends with every producer mode to a topic the
// producer auto-creates (TBW102 path) and checks a push consumer gets each
// message exactly once.
func TestSendModesDeliverEverything(t *testing.T) {
	ns := startNamesrv(t)
	b := startBroker(t, ns, defaultBrokerOpts())
	p := newProducer(t, ns, "PG_modes")
	topic := "ModesTopic"

	syncBodies := makeBodies("sync", 20)
	results := sendSync(t, p, topic, syncBodies, "")
	for _, r := range results {
		if len(r.OffsetMsgID) != 32 || r.MsgID == "" {
			t.Fatalf("send result ids: %+v", r)
		}
	}
	waitRoute(t, b, topic, 4) // the Go client auto-creates with 4 queues

	asyncBodies := makeBodies("async", 20)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var asyncErrs []error
	for _, body := range asyncBodies {
		wg.Add(1)
		err := p.SendAsync(context.Background(), func(_ context.Context, r *primitive.SendResult, err error) {
			defer wg.Done()
			if err == nil && r.Status != primitive.SendOK {
				err = fmt.Errorf("status %v", r.Status)
			}
			if err != nil {
				mu.Lock()
				asyncErrs = append(asyncErrs, err)
				mu.Unlock()
			}
		}, primitive.NewMessage(topic, []byte(body)))
		if err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if len(asyncErrs) > 0 {
		t.Fatalf("async sends failed: %v", asyncErrs)
	}

	onewayBodies := makeBodies("oneway", 20)
	for _, body := range onewayBodies {
		if err := p.SendOneWay(context.Background(), primitive.NewMessage(topic, []byte(body))); err != nil {
			t.Fatal(err)
		}
	}

	var batchBodies []string
	for batch := 0; batch < 2; batch++ {
		bodies := makeBodies(fmt.Sprintf("batch%d", batch), 10)
		msgs := make([]*primitive.Message, len(bodies))
		for i, body := range bodies {
			msgs[i] = primitive.NewMessage(topic, []byte(body))
		}
		res, err := p.SendSync(context.Background(), msgs...)
		if err != nil || res.Status != primitive.SendOK {
			t.Fatalf("batch send: %v %+v", err, res)
		}
		batchBodies = append(batchBodies, bodies...)
	}

	all := append(append(append(append([]string{}, syncBodies...), asyncBodies...), onewayBodies...), batchBodies...)
	r := newReceived()
	startPushConsumer(t, ns, "c", consumerOpts{group: "CG_modes", topic: topic, fromFirst: true}, r)
	r.waitAll(t, all, 60*time.Second)
	for _, body := range all {
		if n := r.count(body); n != 1 {
			t.Errorf("%s delivered %d times, want 1", body, n)
		}
	}
	if r.total != len(all) {
		t.Errorf("delivered %d messages, want %d", r.total, len(all))
	}
}

// TestPushConsumerGroupSplitsQueues runs two push consumers of one group on a
// 4-queue topic: every message is delivered and the queues are split 2/2.
func TestPushConsumerGroupSplitsQueues(t *testing.T) {
	topic := "SplitTopic"
	ns, b := startWithTopic(t, defaultBrokerOpts(), topic, 4)
	p := newProducer(t, ns, "PG_split")

	r := newReceived()
	startPushConsumer(t, ns, "a", consumerOpts{group: "CG_split", topic: topic}, r)
	startPushConsumer(t, ns, "b", consumerOpts{group: "CG_split", topic: topic}, r)
	waitFor(t, 30*time.Second, "two consumers in the group", func() bool {
		resp, err := rawInvoke(b.addr, rawRequest{code: 38, ext: map[string]string{"consumerGroup": "CG_split"}})
		return err == nil && resp.code == 0 && len(decodeIDList(t, resp.body)) == 2
	})

	// Rebalancing is asynchronous in the client: probe with one message per
	// queue until a round lands two queues on each consumer.
	split := func() (map[int]string, bool) {
		r.mu.Lock()
		defer r.mu.Unlock()
		owner := map[int]string{}
		for name, qs := range r.queues {
			for q := range qs {
				if prev, ok := owner[q]; ok && prev != name {
					return nil, false
				}
				owner[q] = name
			}
		}
		return owner, len(owner) == 4 && len(r.queues) == 2 && len(r.queues["a"]) == 2 && len(r.queues["b"]) == 2
	}
	deadline := time.Now().Add(60 * time.Second)
	for round := 0; ; round++ {
		r.mu.Lock()
		r.queues = map[string]map[int]int{}
		r.mu.Unlock()
		bodies := makeBodies(fmt.Sprintf("probe%d", round), 4)
		sendSync(t, p, topic, bodies, "")
		r.waitAll(t, bodies, 30*time.Second)
		if _, ok := split(); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("queues never split 2/2 between the consumers: %v", r.queues)
		}
	}

	bodies := makeBodies("split", 40)
	sendSync(t, p, topic, bodies, "")
	r.waitAll(t, bodies, 30*time.Second)
	owner, ok := split()
	if !ok {
		t.Fatalf("queues not split 2/2 after the probe settled: %v", r.queues)
	}
	for _, body := range bodies {
		if n := r.count(body); n != 1 {
			t.Errorf("%s delivered %d times, want 1", body, n)
		}
	}
	qs := make([]int, 0, 4)
	for q := range owner {
		qs = append(qs, q)
	}
	sort.Ints(qs)
	if fmt.Sprint(qs) != "[0 1 2 3]" {
		t.Fatalf("queues covered %v, want [0 1 2 3]", qs)
	}
}

// TestTagSubscription subscribes "A || C" and checks only those tags arrive.
func TestTagSubscription(t *testing.T) {
	topic := "TagTopic"
	// One queue: a later sentinel proves earlier messages were filtered, not late.
	ns, b := startWithTopic(t, defaultBrokerOpts(), topic, 1)
	p := newProducer(t, ns, "PG_tags")
	r := newReceived()
	startPushConsumer(t, ns, "c", consumerOpts{group: "CG_tags", topic: topic, expression: "A || C", fromFirst: true}, r)

	var want []string
	for _, tag := range []string{"A", "B", "C", "D"} {
		bodies := makeBodies("tag"+tag, 5)
		sendSync(t, p, topic, bodies, tag)
		if tag == "A" || tag == "C" {
			want = append(want, bodies...)
		}
	}
	sentinel := []string{"sentinel"}
	sendSync(t, p, topic, sentinel, "C")
	r.waitAll(t, append(want, sentinel...), 30*time.Second)
	r.mu.Lock()
	tags, total := fmt.Sprint(r.tags), r.total
	r.mu.Unlock()
	if tags != "map[A:5 C:6]" || total != 11 {
		t.Fatalf("deliveries by tag %s (total %d), want A:5 C:6", tags, total)
	}

	// The Go client also filters tags itself, so ask the broker directly: a
	// pull without a subscription in the request (as Go push consumers send)
	// must be filtered with the group's heartbeat-registered codeSet.
	resp, err := rawInvoke(b.addr, rawRequest{code: 11, ext: map[string]string{
		"consumerGroup": "CG_tags", "topic": topic, "queueId": "0", "queueOffset": "0", "maxMsgNums": "32",
		"sysFlag": "0", "commitOffset": "0", "suspendTimeoutMillis": "0", "subVersion": "0", "expressionType": "TAG"}})
	if err != nil || resp.code != 0 {
		t.Fatalf("raw pull: %v %+v", err, resp)
	}
	for tag, n := range map[string]int{"A": 5, "B": 0, "C": 6, "D": 0} {
		if got := strings.Count(string(resp.body), "TAGS\x01"+tag); got != n {
			t.Errorf("broker returned %d messages tagged %s, want %d", got, tag, n)
		}
	}
}

func decodeIDList(t *testing.T, body []byte) []string {
	t.Helper()
	var v struct {
		ConsumerIDList []string `json:"consumerIdList"`
	}
	if err := jsonUnmarshal(body, &v); err != nil {
		t.Fatalf("consumer id list %q: %v", body, err)
	}
	return v.ConsumerIDList
}
