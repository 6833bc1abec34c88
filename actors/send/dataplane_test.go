package send_test

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// TestSendPullRoundTrip sends with codes 10 and 310 and pulls the exact
// records back: every field decoded, offsets and ids consistent.
func TestSendPullRoundTrip(t *testing.T) {
	testkit.NoLeaks(t)
	b := startBroker(t, t.TempDir(), testConfig(), newFakeMeta())
	sent := []msg{
		{topic: "TopicTest", queueID: 2, body: "hello", flag: 3,
			props: map[string]string{"TAGS": "TagA", "KEYS": "k1 k2", "UNIQ_KEY": "C0A8000100002A9F0000000000000001"}},
		{topic: "TopicTest", queueID: 2, body: "world", props: map[string]string{"TAGS": "TagB", "WAIT": "true"}},
	}
	var offsets []int64
	for i, m := range sent {
		cmd := sendV1(m)
		if i == 1 {
			cmd = sendV2(m)
		}
		resp := b.invoke(cmd)
		wantCode(t, resp, remoting.RespSuccess)
		if got := extInt(t, resp, "queueOffset"); got != int64(i) {
			t.Fatalf("send %d: queueOffset %d", i, got)
		}
		if resp.ExtFields["queueId"] != "2" || resp.ExtFields["MSG_REGION"] != "DefaultRegion" || resp.ExtFields["TRACE_ON"] != "true" {
			t.Fatalf("send %d: ext %v", i, resp.ExtFields)
		}
		if uk := m.props["UNIQ_KEY"]; resp.ExtFields["transactionId"] != uk {
			t.Fatalf("transactionId %q, want %q", resp.ExtFields["transactionId"], uk)
		}
		host, off, err := message.ParseOffsetMsgID(resp.ExtFields["msgId"])
		if err != nil || host != netip.MustParseAddrPort("127.0.0.1:10911") || len(resp.ExtFields["msgId"]) != 32 {
			t.Fatalf("msgId %q: %v %v", resp.ExtFields["msgId"], host, err)
		}
		offsets = append(offsets, off)
	}

	b.waitServed("TopicTest", 2, 2)
	resp := b.invoke(pull("TopicTest", 2, 0, 4, 0, "*"))
	wantCode(t, resp, remoting.RespSuccess)
	if extInt(t, resp, "nextBeginOffset") != 2 || extInt(t, resp, "maxOffset") != 2 || extInt(t, resp, "minOffset") != 0 {
		t.Fatalf("pull ext %v", resp.ExtFields)
	}
	recs := records(t, resp.Body)
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	for i, r := range recs {
		m := sent[i]
		props := message.ParseProperties(r.Properties)
		if string(r.Body) != m.body || r.Topic != m.topic || r.QueueID != m.queueID || r.QueueOffset != int64(i) ||
			r.PhysicalOffset != offsets[i] || r.Flag != m.flag || r.BornTimestamp != 1700000000000 || r.SysFlag != 0 {
			t.Fatalf("record %d: %+v", i, r)
		}
		if r.StoreHost != netip.MustParseAddrPort("127.0.0.1:10911") || r.BornHost.Addr() != netip.MustParseAddr("127.0.0.1") {
			t.Fatalf("record %d hosts born %v store %v", i, r.BornHost, r.StoreHost)
		}
		if props["CLUSTER"] != "DefaultCluster" || props["TAGS"] != m.props["TAGS"] || len(props) != len(m.props)+1 {
			t.Fatalf("record %d properties %q", i, r.Properties)
		}
		if now := time.Now().UnixMilli(); r.StoreTimestamp <= 0 || r.StoreTimestamp > now {
			t.Fatalf("store timestamp %d", r.StoreTimestamp)
		}
	}

	// Tag filtering end to end: only TagB; then nothing left to match.
	resp = b.invoke(pull("TopicTest", 2, 0, 4, 0, "TagB"))
	wantCode(t, resp, remoting.RespSuccess)
	if recs := records(t, resp.Body); len(recs) != 1 || string(recs[0].Body) != "world" {
		t.Fatalf("filtered %v", recs)
	}
	resp = b.invoke(pull("TopicTest", 2, 0, 4, 0, "TagC"))
	wantCode(t, resp, remoting.RespPullRetryImmediately)
	if extInt(t, resp, "nextBeginOffset") != 2 {
		t.Fatalf("nextBeginOffset %v", resp.ExtFields)
	}
	// Pull without the subscription flag uses the heartbeat subscription.
	b.meta.mu.Lock()
	b.meta.subs["cg@TopicTest"] = body.SubscriptionData{Topic: "TopicTest", SubString: "TagA",
		CodeSet: []int32{int32(message.TagsHashCode("TagA"))}, ExpressionType: "TAG"}
	b.meta.mu.Unlock()
	resp = b.invoke(pull("TopicTest", 2, 0, 0, 0, ""))
	wantCode(t, resp, remoting.RespSuccess)
	if recs := records(t, resp.Body); len(recs) != 1 || string(recs[0].Body) != "hello" {
		t.Fatalf("heartbeat-filtered %v", recs)
	}
}

// TestDenseOffsetsConcurrentProducers: concurrent producers on four queues
// get every queue offset exactly once, and the pulls return every message
// in offset order.
func TestDenseOffsetsConcurrentProducers(t *testing.T) {
	testkit.NoLeaks(t)
	b := startBroker(t, t.TempDir(), testConfig(), newFakeMeta())
	const producers, perProducer = 8, 40
	type result struct {
		queueID int32
		offset  int64
		body    string
	}
	results := make(chan result, producers*perProducer)
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perProducer; i++ {
				m := msg{topic: "TopicTest", queueID: int32((p + i) % 4), body: fmt.Sprintf("p%d-%d", p, i)}
				ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
				resp, err := b.cl.Invoke(ctx, b.addr, sendV1(m))
				cancel()
				if err != nil || resp.Code != remoting.RespSuccess {
					t.Errorf("send %s: %v %v", m.body, err, resp)
					return
				}
				// Not extInt: t.Fatalf must not run off the test goroutine.
				off, err := strconv.ParseInt(resp.ExtFields["queueOffset"], 10, 64)
				if err != nil {
					t.Errorf("send %s: queueOffset: %v", m.body, err)
					return
				}
				results <- result{queueID: m.queueID, offset: off, body: m.body}
			}
		}()
	}
	wg.Wait()
	close(results)
	byQueue := map[int32]map[int64]string{}
	for r := range results {
		if byQueue[r.queueID] == nil {
			byQueue[r.queueID] = map[int64]string{}
		}
		if prev, dup := byQueue[r.queueID][r.offset]; dup {
			t.Fatalf("queue %d offset %d given to %s and %s", r.queueID, r.offset, prev, r.body)
		}
		byQueue[r.queueID][r.offset] = r.body
	}
	total := 0
	for qid := int32(0); qid < 4; qid++ {
		got := byQueue[qid]
		total += len(got)
		b.waitServed("TopicTest", qid, int64(len(got)))
		var pulled []message.Message
		for off := int64(0); off < int64(len(got)); {
			resp := b.invoke(pull("TopicTest", qid, off, 4, 0, "*"))
			wantCode(t, resp, remoting.RespSuccess)
			recs := records(t, resp.Body)
			pulled = append(pulled, recs...)
			off = extInt(t, resp, "nextBeginOffset")
		}
		for off, r := range pulled {
			if r.QueueOffset != int64(off) || string(r.Body) != got[int64(off)] {
				t.Fatalf("queue %d offset %d: record %d %q, sent %q", qid, off, r.QueueOffset, r.Body, got[int64(off)])
			}
		}
		if b.qr.MaxOffset("TopicTest", qid) != int64(len(got)) {
			t.Fatalf("queue %d MaxOffset %d, %d sent", qid, b.qr.MaxOffset("TopicTest", qid), len(got))
		}
	}
	if total != producers*perProducer {
		t.Fatalf("%d results", total)
	}
}

// TestSuspendedPull: a held pull is answered by a later send (wakeup), and
// another one PULL_NOT_FOUND at its short suspend timeout.
func TestSuspendedPull(t *testing.T) {
	testkit.NoLeaks(t)
	b := startBroker(t, t.TempDir(), testConfig(), newFakeMeta())
	type answer struct {
		resp *remoting.Command
		err  error
	}
	done := make(chan answer, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
		defer cancel()
		resp, err := b.cl.Invoke(ctx, b.addr, pull("TopicTest", 1, 0, 2|4, 20*time.Second, "*"))
		done <- answer{resp, err}
	}()
	testkit.Eventually(t, "the pull to be held", func() bool { return b.qr.HeldPulls() == 1 })
	wantCode(t, b.invoke(sendV1(msg{topic: "TopicTest", queueID: 1, body: "wake"})), remoting.RespSuccess)
	a := <-done
	if a.err != nil {
		t.Fatal(a.err)
	}
	wantCode(t, a.resp, remoting.RespSuccess)
	if recs := records(t, a.resp.Body); len(recs) != 1 || string(recs[0].Body) != "wake" {
		t.Fatalf("woken pull got %v", recs)
	}

	start := time.Now()
	resp := b.invoke(pull("TopicTest", 1, 1, 2|4, 100*time.Millisecond, "*"))
	wantCode(t, resp, remoting.RespPullNotFound)
	if extInt(t, resp, "nextBeginOffset") != 1 || time.Since(start) < 50*time.Millisecond {
		t.Fatalf("after %v: ext %v", time.Since(start), resp.ExtFields)
	}
}

// TestSyncFlushSends: with SYNC_FLUSH every concurrent send is answered
// SUCCESS and is durable when answered.
func TestSyncFlushSends(t *testing.T) {
	testkit.NoLeaks(t)
	cfg := testConfig()
	cfg.FlushDiskType = config.FlushSync
	b := startBroker(t, t.TempDir(), cfg, newFakeMeta())
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
			defer cancel()
			resp, err := b.cl.Invoke(ctx, b.addr, sendV1(msg{topic: "TopicTest", queueID: int32(i % 4), body: "sync"}))
			if err != nil || resp.Code != remoting.RespSuccess {
				t.Errorf("send %d: %v %v", i, err, resp)
				return
			}
			_, off, err := message.ParseOffsetMsgID(resp.ExtFields["msgId"])
			if err != nil {
				t.Errorf("send %d: msgId %q: %v", i, resp.ExtFields["msgId"], err)
				return
			}
			if flushed := b.st.CommitLog.FlushedPosition(); flushed <= off {
				t.Errorf("answered before durable: flushed %d, record at %d", flushed, off)
			}
		}()
	}
	wg.Wait()
}

// TestSendRejections covers the validation answers of §6.1.
func TestSendRejections(t *testing.T) {
	testkit.NoLeaks(t)
	b := startBroker(t, t.TempDir(), testConfig(), newFakeMeta())
	big := strings.Repeat("x", 5000)
	tests := []struct {
		name       string
		cmd        *remoting.Command
		wantCode   int32
		wantRemark string
	}{
		{name: "oversize body", cmd: sendV1(msg{topic: "TopicTest", body: big}), wantCode: remoting.RespMessageIllegal, wantRemark: "5000"},
		{name: "oversize properties", cmd: sendV1(msg{topic: "TopicTest", body: "x", props: map[string]string{"k": strings.Repeat("v", 33000)}}),
			wantCode: remoting.RespMessageIllegal},
		{name: "unknown topic, no auto-create", cmd: sendV1(msg{topic: "NoSuchTopic", body: "x"}), wantCode: remoting.RespTopicNotExist},
		{name: "illegal topic name", cmd: sendV1(msg{topic: "bad topic!", body: "x"}), wantCode: remoting.RespInvalidParameter},
		{name: "topic too long", cmd: sendV1(msg{topic: strings.Repeat("t", 128), body: "x"}), wantCode: remoting.RespInvalidParameter},
		{name: "system topic", cmd: sendV1(msg{topic: body.ScheduleTopic, body: "x"}), wantCode: remoting.RespNoPermission},
		{name: "topic not writable", cmd: sendV1(msg{topic: "ReadOnly", body: "x"}), wantCode: remoting.RespNoPermission},
		{name: "queue id too large", cmd: sendV1(msg{topic: "TopicTest", queueID: 4, body: "x"}), wantCode: remoting.RespInvalidParameter},
		{name: "missing header field", cmd: func() *remoting.Command {
			c := sendV1(msg{topic: "TopicTest", body: "x"})
			delete(c.ExtFields, "bornTimestamp")
			return c
		}(), wantCode: remoting.RespSystemError},
		{name: "batch to retry topic", cmd: sendBatch("%RETRY%cg", 0, []message.BatchItem{{Body: []byte("x")}}), wantCode: remoting.RespMessageIllegal},
		{name: "batch with delay", cmd: sendBatch("TopicTest", 0, []message.BatchItem{{Body: []byte("x"), Properties: "DELAY\x013\x02"}}),
			wantCode: remoting.RespMessageIllegal},
		{name: "batch with transaction", cmd: sendBatch("TopicTest", 0, []message.BatchItem{{Body: []byte("x"), Properties: "TRAN_MSG\x01true\x02"}}),
			wantCode: remoting.RespMessageIllegal},
		{name: "corrupt batch", cmd: func() *remoting.Command {
			c := sendBatch("TopicTest", 0, []message.BatchItem{{Body: []byte("x")}})
			c.Body = c.Body[:len(c.Body)-1]
			return c
		}(), wantCode: remoting.RespMessageIllegal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := b.invoke(tt.cmd)
			wantCode(t, resp, tt.wantCode)
			if !strings.Contains(resp.Remark, tt.wantRemark) {
				t.Errorf("remark %q lacks %q", resp.Remark, tt.wantRemark)
			}
			if resp.ExtFields["MSG_REGION"] != "DefaultRegion" || resp.ExtFields["TRACE_ON"] != "true" {
				t.Errorf("ext %v", resp.ExtFields)
			}
		})
	}
	if b.qr.MaxOffset("TopicTest", 0) != 0 {
		t.Fatal("a rejected send was stored")
	}
}

// TestDiskFullRefusesSends: while the cleaner reports the disk full, sends
// are refused with SERVICE_NOT_AVAILABLE and nothing is stored; once space
// returns, sends are stored again.
func TestDiskFullRefusesSends(t *testing.T) {
	testkit.NoLeaks(t)
	b := startBroker(t, t.TempDir(), testConfig(), newFakeMeta())
	b.w.SetDiskFull(true)
	resp := b.invoke(sendV1(msg{topic: "TopicTest", body: "x"}))
	wantCode(t, resp, remoting.RespServiceNotAvailable)
	if !strings.Contains(resp.Remark, "disk is full") || resp.ExtFields["MSG_REGION"] != "DefaultRegion" {
		t.Fatalf("remark %q ext %v", resp.Remark, resp.ExtFields)
	}
	if b.qr.MaxOffset("TopicTest", 0) != 0 {
		t.Fatal("a send refused for a full disk was stored")
	}
	b.w.SetDiskFull(false)
	wantCode(t, b.invoke(sendV1(msg{topic: "TopicTest", body: "x"})), remoting.RespSuccess)
}

// TestAutoCreate creates an unknown topic from TBW102 on the first send;
// later sends reuse the topic actor without creating again.
func TestAutoCreate(t *testing.T) {
	testkit.NoLeaks(t)
	meta := newFakeMeta()
	meta.autoCreate = true
	b := startBroker(t, t.TempDir(), testConfig(), meta)
	for i := 0; i < 3; i++ {
		resp := b.invoke(sendV1(msg{topic: "NewTopic", queueID: -1, body: "x"}))
		wantCode(t, resp, remoting.RespSuccess)
		// Negative queue ids go round robin over the write queues.
		if got := extInt(t, resp, "queueId"); got != int64(i%4) {
			t.Fatalf("send %d went to queue %d", i, got)
		}
	}
	meta.mu.Lock()
	defer meta.mu.Unlock()
	if meta.creates != 1 {
		t.Fatalf("%d creations", meta.creates)
	}
}

// TestBatchSend stores a batch with consecutive offsets and comma-joined
// offset ids, one record per item.
func TestBatchSend(t *testing.T) {
	testkit.NoLeaks(t)
	b := startBroker(t, t.TempDir(), testConfig(), newFakeMeta())
	wantCode(t, b.invoke(sendV1(msg{topic: "TopicTest", queueID: 3, body: "before"})), remoting.RespSuccess)
	items := []message.BatchItem{
		{Flag: 1, Body: []byte("b0"), Properties: "TAGS\x01T0\x02"},
		{Flag: 2, Body: []byte("b1"), Properties: "TAGS\x01T1\x02KEYS\x01k\x02"},
		{Flag: 3, Body: []byte("b2")},
	}
	resp := b.invoke(sendBatch("TopicTest", 3, items))
	wantCode(t, resp, remoting.RespSuccess)
	if extInt(t, resp, "queueOffset") != 1 || resp.ExtFields["queueId"] != "3" {
		t.Fatalf("ext %v", resp.ExtFields)
	}
	ids := strings.Split(resp.ExtFields["msgId"], ",")
	if len(ids) != 3 {
		t.Fatalf("msgIds %q", resp.ExtFields["msgId"])
	}
	b.waitServed("TopicTest", 3, 4)
	pr := b.invoke(pull("TopicTest", 3, 1, 4, 0, "*"))
	wantCode(t, pr, remoting.RespSuccess)
	recs := records(t, pr.Body)
	if len(recs) != 3 {
		t.Fatalf("%d records", len(recs))
	}
	for i, r := range recs {
		_, off, err := message.ParseOffsetMsgID(ids[i])
		if err != nil || off != r.PhysicalOffset || r.QueueOffset != int64(1+i) {
			t.Fatalf("item %d: id %s offset %d, record at %d queue offset %d", i, ids[i], off, r.PhysicalOffset, r.QueueOffset)
		}
		props := message.ParseProperties(r.Properties)
		if string(r.Body) != string(items[i].Body) || r.Flag != items[i].Flag || props["CLUSTER"] != "DefaultCluster" {
			t.Fatalf("item %d: %+v", i, r)
		}
	}
	// Tags of batch items are filterable.
	pr = b.invoke(pull("TopicTest", 3, 0, 4, 0, "T1"))
	if recs := records(t, pr.Body); len(recs) != 1 || string(recs[0].Body) != "b1" {
		t.Fatalf("filtered batch %v", recs)
	}
}

// TestRestart: after a clean stop the store reopens, queue offsets continue
// where they were and old messages are still served.
func TestRestart(t *testing.T) {
	testkit.NoLeaks(t)
	dir := t.TempDir()
	meta := newFakeMeta()
	b := startBroker(t, dir, testConfig(), meta)
	for i := 0; i < 5; i++ {
		wantCode(t, b.invoke(sendV1(msg{topic: "TopicTest", queueID: 0, body: fmt.Sprint("m", i)})), remoting.RespSuccess)
	}
	b.stop()
	b = startBroker(t, dir, testConfig(), meta)
	resp := b.invoke(sendV1(msg{topic: "TopicTest", queueID: 0, body: "m5"}))
	wantCode(t, resp, remoting.RespSuccess)
	if got := extInt(t, resp, "queueOffset"); got != 5 {
		t.Fatalf("queueOffset after restart %d", got)
	}
	b.waitServed("TopicTest", 0, 6)
	pr := b.invoke(pull("TopicTest", 0, 0, 4, 0, "*"))
	recs := records(t, pr.Body)
	if len(recs) != 6 || string(recs[5].Body) != "m5" || string(recs[0].Body) != "m0" {
		t.Fatalf("%d records after restart", len(recs))
	}
	mx := b.invoke(remoting.NewRequest(remoting.ReqGetMaxOffset, map[string]string{"topic": "TopicTest", "queueId": "0"}, nil))
	if extInt(t, mx, "offset") != 6 {
		t.Fatalf("max offset %v", mx.ExtFields)
	}
	ts := b.invoke(remoting.NewRequest(remoting.ReqSearchOffsetByTimestamp,
		map[string]string{"topic": "TopicTest", "queueId": "0", "timestamp": "0"}, nil))
	if extInt(t, ts, "offset") != 0 {
		t.Fatalf("search %v", ts.ExtFields)
	}
}
