package send_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/actormq/actormq/actors/send"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// sendAsync sends cmd from its own goroutine; the answer (or nil on a
// transport error, reported) arrives on the returned channel.
func (b *broker) sendAsync(cmd *remoting.Command) <-chan *remoting.Command {
	ch := make(chan *remoting.Command, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
		defer cancel()
		resp, err := b.cl.Invoke(ctx, b.addr, cmd)
		if err != nil {
			b.t.Errorf("send: %v", err)
		}
		ch <- resp
	}()
	return ch
}

// queueSends freezes TopicTest's actor in a turn (sending "first" to queue
// 0), then sends cmds one after the other so that they wait in its inbox in
// that order: the next turn takes them together. It returns the first
// send's answer channel, the others' and the release.
func (b *broker) queueSends(meta *fakeMeta, cmds []*remoting.Command) (first <-chan *remoting.Command, rest []<-chan *remoting.Command, release func()) {
	b.t.Helper()
	entered, release := meta.hold("TopicTest")
	first = b.sendAsync(sendV1(msg{topic: "TopicTest", queueID: 0, body: "first"}))
	testkit.Receive(b.t, entered, "a frozen turn")
	for i, cmd := range cmds {
		rest = append(rest, b.sendAsync(cmd))
		testkit.Eventually(b.t, "a send queued in the inbox", func() bool { return send.InboxLen(b.snd, "TopicTest") == i+1 })
	}
	return first, rest, release
}

// TestTurnTakesQueuedSends: sends that queue up while the topic actor is
// busy are encoded in one turn into one writer batch (single and batch
// messages, diverted ones with their own queue); a send that fails there is
// answered alone and the rest are stored with consecutive queue offsets.
func TestTurnTakesQueuedSends(t *testing.T) {
	testkit.NoLeaks(t)
	meta := newFakeMeta()
	b := startBroker(t, t.TempDir(), testConfig(), meta)
	wantCode(t, b.invoke(sendV1(msg{topic: "TopicTest", queueID: 0, body: "warm"})), remoting.RespSuccess)

	cmds := []*remoting.Command{
		sendV2(msg{topic: "TopicTest", queueID: 0, body: "a", props: map[string]string{message.PropertyTags: "TagA"}}),
		sendV1(msg{topic: "TopicTest", queueID: 99, body: "bad queue"}),
		sendBatch("TopicTest", 0, []message.BatchItem{{Body: []byte("b1")}, {Body: []byte("b2")}}),
		sendV1(msg{topic: "TopicTest", queueID: 0, body: "big", props: map[string]string{"k": strings.Repeat("v", 33000)}}),
		sendV1(msg{topic: "TopicTest", queueID: 0, body: "delayed", props: map[string]string{message.PropertyDelay: "1"}}),
		sendV2(msg{topic: "TopicTest", queueID: 0, body: "c"}),
	}
	first, rest, release := b.queueSends(meta, cmds)
	release()
	wantCode(t, testkit.Receive(t, first, "the first answer"), remoting.RespSuccess)
	var offsets []int64
	for i, ch := range rest {
		resp := testkit.Receive(t, ch, "an answer")
		switch i {
		case 1:
			wantCode(t, resp, remoting.RespInvalidParameter)
		case 3:
			wantCode(t, resp, remoting.RespMessageIllegal)
		default:
			wantCode(t, resp, remoting.RespSuccess)
			if extInt(t, resp, "queueId") != 0 {
				t.Errorf("send %d answered queueId %s", i, resp.ExtFields["queueId"])
			}
			if i != 4 { // the delayed one went to SCHEDULE_TOPIC_XXXX
				offsets = append(offsets, extInt(t, resp, "queueOffset"))
			} else {
				checkDelayed(t, b, resp)
			}
			if i == 2 && len(strings.Split(resp.ExtFields["msgId"], ",")) != 2 {
				t.Errorf("batch msgId %q", resp.ExtFields["msgId"])
			}
		}
	}
	// warm = 0 and first = 1; then a, the batch (two offsets) and c.
	if want := []int64{2, 3, 5}; !slices.Equal(offsets, want) {
		t.Fatalf("queue offsets %v, want %v", offsets, want)
	}
	b.waitServed("TopicTest", 0, 6)
	resp := b.invoke(pull("TopicTest", 0, 0, 4, 0, "*"))
	wantCode(t, resp, remoting.RespSuccess)
	var bodies []string
	for _, m := range records(t, resp.Body) {
		bodies = append(bodies, string(m.Body))
		if m.Properties == "" || !strings.Contains(m.Properties, "CLUSTER\x01DefaultCluster\x02") {
			t.Errorf("%q stored with properties %q", m.Body, m.Properties)
		}
	}
	if want := []string{"warm", "first", "a", "b1", "b2", "c"}; !slices.Equal(bodies, want) {
		t.Fatalf("stored %v, want %v", bodies, want)
	}
}

// TestStopAnswersQueuedSends: Stop lets a topic actor store and answer the
// sends waiting in its inbox before it stops, and refuses new ones.
func TestStopAnswersQueuedSends(t *testing.T) {
	testkit.NoLeaks(t)
	meta := newFakeMeta()
	b := startBroker(t, t.TempDir(), testConfig(), meta)
	wantCode(t, b.invoke(sendV1(msg{topic: "TopicTest", queueID: 1, body: "warm"})), remoting.RespSuccess)
	var cmds []*remoting.Command
	for range 5 {
		cmds = append(cmds, sendV2(msg{topic: "TopicTest", queueID: 1, body: "queued"}))
	}
	first, rest, release := b.queueSends(meta, cmds)
	stopped := make(chan error, 1)
	go func() { stopped <- b.snd.Stop(testkit.Context(t)) }()
	// A send that got in before Stop closed the gate would queue behind the
	// frozen turn and never be answered before release: probe only after.
	testkit.Eventually(t, "Stop closed the gate", func() bool { return send.Stopping(b.snd) })
	wantCode(t, b.invoke(sendV1(msg{topic: "TopicTest", queueID: 1, body: "late"})), remoting.RespServiceNotAvailable)
	release()
	if err := testkit.Receive(t, stopped, "Stop"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, testkit.Receive(t, first, "the first answer"), remoting.RespSuccess)
	for _, ch := range rest {
		wantCode(t, testkit.Receive(t, ch, "a queued answer"), remoting.RespSuccess)
	}
	if n := b.snd.Inflight(); n != 0 {
		t.Fatalf("%d sends still in flight", n)
	}
}

// checkDelayed reads the record a delayed send's answer names: diverted to
// SCHEDULE_TOPIC_XXXX with the properties rebuilt once (one CLUSTER entry).
func checkDelayed(t *testing.T, b *broker, resp *remoting.Command) {
	t.Helper()
	_, off, err := message.ParseOffsetMsgID(resp.ExtFields["msgId"])
	if err != nil {
		t.Fatal(err)
	}
	m, err := b.st.CommitLog.ReadMessage(off)
	if err != nil {
		t.Fatal(err)
	}
	props := message.ParseProperties(m.Properties)
	if m.Topic != body.ScheduleTopic || m.QueueID != 0 || props[message.PropertyRealTopic] != "TopicTest" ||
		props[message.PropertyRealQueueID] != "0" || strings.Count(m.Properties, message.PropertyCluster) != 1 {
		t.Fatalf("delayed record: topic %s queue %d properties %q", m.Topic, m.QueueID, m.Properties)
	}
}

// TestBatchItemsStoredExactly: batch items with and without properties,
// sent alternately (so that pooled Appends carry earlier tag codes), are
// stored with exactly their properties plus CLUSTER, and an item without
// TAGS gets tagsCode 0: a tag-filtered pull returns the tagged items only.
func TestBatchItemsStoredExactly(t *testing.T) {
	testkit.NoLeaks(t)
	b := startBroker(t, t.TempDir(), testConfig(), newFakeMeta())
	const cluster = "CLUSTER\x01DefaultCluster\x02"
	tagged := []message.BatchItem{
		{Flag: 5, Body: []byte("t0"), Properties: "TAGS\x01T1\x02"},
		{Body: []byte("t1"), Properties: "KEYS\x01k1 k2\x02TAGS\x01T1"}, // no trailing separator
		{Body: []byte("t2"), Properties: "TAGS\x01T1\x02UNIQ_KEY\x01U2\x02"},
	}
	plain := []message.BatchItem{{Flag: 7, Body: []byte("p0")}, {Body: []byte("p1")}, {Body: nil}}
	wantProps := []string{"TAGS\x01T1\x02" + cluster, "KEYS\x01k1 k2\x02TAGS\x01T1\x02" + cluster, "TAGS\x01T1\x02UNIQ_KEY\x01U2\x02" + cluster}
	const rounds = 4
	for range rounds {
		wantCode(t, b.invoke(sendBatch("TopicTest", 2, tagged)), remoting.RespSuccess)
		wantCode(t, b.invoke(sendBatch("TopicTest", 2, plain)), remoting.RespSuccess)
	}
	b.waitServed("TopicTest", 2, rounds*int64(len(tagged)+len(plain)))
	pr := b.invoke(pull("TopicTest", 2, 0, 4, 0, "*"))
	wantCode(t, pr, remoting.RespSuccess)
	recs := records(t, pr.Body)
	if len(recs) != rounds*(len(tagged)+len(plain)) {
		t.Fatalf("%d records", len(recs))
	}
	for i, r := range recs {
		var want message.BatchItem
		props := cluster
		if j := i % 6; j < 3 {
			want, props = tagged[j], wantProps[j]
		} else {
			want = plain[j-3]
		}
		if r.QueueOffset != int64(i) || r.Flag != want.Flag || string(r.Body) != string(want.Body) || r.Properties != props {
			t.Fatalf("record %d: queue offset %d flag %d body %q properties %q, want flag %d body %q properties %q",
				i, r.QueueOffset, r.Flag, r.Body, r.Properties, want.Flag, want.Body, props)
		}
	}
	pr = b.invoke(pull("TopicTest", 2, 0, 4, 0, "T1"))
	wantCode(t, pr, remoting.RespSuccess)
	for _, r := range records(t, pr.Body) {
		if r.Body[0] != 't' {
			t.Fatalf("tag filter T1 returned %q (properties %q)", r.Body, r.Properties)
		}
	}
}
