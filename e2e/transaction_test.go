package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
)

// txOpts gives a broker short transaction timers: half messages are checked
// once older than 1 s, scans run every 500 ms, at most 3 checks.
func txOpts() brokerOpts {
	o := defaultBrokerOpts()
	o.extra = map[string]string{
		"transactionTimeOut":       "1000",
		"transactionCheckInterval": "500",
		"transactionCheckMax":      "3",
	}
	return o
}

// txListener answers by message body: local is the outcome of the local
// transaction, onCheck the answer to a check (UNKNOW when absent). It counts
// the checks per body.
type txListener struct {
	mu      sync.Mutex
	local   map[string]primitive.LocalTransactionState
	onCheck map[string]primitive.LocalTransactionState
	checks  map[string]int
}

func newTxListener(local, onCheck map[string]primitive.LocalTransactionState) *txListener {
	return &txListener{local: local, onCheck: onCheck, checks: map[string]int{}}
}

func (l *txListener) ExecuteLocalTransaction(m *primitive.Message) primitive.LocalTransactionState {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s, ok := l.local[string(m.Body)]; ok {
		return s
	}
	return primitive.UnknowState
}

func (l *txListener) CheckLocalTransaction(m *primitive.MessageExt) primitive.LocalTransactionState {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.checks[string(m.Body)]++
	if s, ok := l.onCheck[string(m.Body)]; ok {
		return s
	}
	return primitive.UnknowState
}

func (l *txListener) checked(body string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.checks[body]
}

func newTxProducer(t *testing.T, ns *namesrv, group string, l primitive.TransactionListener) rocketmq.TransactionProducer {
	t.Helper()
	p, err := rocketmq.NewTransactionProducer(l,
		producer.WithNameServer([]string{ns.addr}),
		producer.WithGroupName(group),
		producer.WithInstanceName(nextInstance("tx")),
		producer.WithRetry(2),
	)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = p.Shutdown()
		}
	})
	return &stoppableTxProducer{TransactionProducer: p, stopped: &stopped}
}

type stoppableTxProducer struct {
	rocketmq.TransactionProducer
	stopped *bool
}

func (s *stoppableTxProducer) Shutdown() error {
	*s.stopped = true
	return s.TransactionProducer.Shutdown()
}

// sendTx sends body in a transaction and checks the half message was stored
// and the local outcome is want.
func sendTx(t *testing.T, p rocketmq.TransactionProducer, topic, body string, want primitive.LocalTransactionState) {
	t.Helper()
	res, err := p.SendMessageInTransaction(context.Background(), primitive.NewMessage(topic, []byte(body)))
	if err != nil {
		t.Fatalf("send %q in a transaction: %v", body, err)
	}
	if res.Status != primitive.SendOK || res.State != want {
		t.Fatalf("send %q: status %v, local state %v (want %v)", body, res.Status, res.State, want)
	}
	if res.TransactionID == "" || res.OffsetMsgID == "" {
		t.Fatalf("send %q: result without transactionId or offsetMsgId: %+v", body, res.SendResult)
	}
}

// expectExactly checks that the topic's only queue holds exactly bodies
// (and nothing else ever stored there) and that each was delivered once.
func expectExactly(t *testing.T, b *broker, r *received, topic string, bodies ...string) {
	t.Helper()
	if max := maxOffsets(t, b, topic, 1); max[0] != int64(len(bodies)) {
		t.Fatalf("%s holds %d messages, want %d (%v)", topic, max[0], len(bodies), bodies)
	}
	for _, body := range bodies {
		if n := r.count(body); n != 1 {
			t.Fatalf("%q delivered %d times, want once", body, n)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.total != len(bodies) {
		t.Fatalf("delivered %d messages %v, want %v", r.total, r.bodies, bodies)
	}
}

// TestTransactionCommitAndRollback: a local commit is delivered exactly
// once, a local rollback never (the marker committed after it on the same
// connection is the last message of the queue).
func TestTransactionCommitAndRollback(t *testing.T) {
	topic := "TxTopic"
	ns, b := startWithTopic(t, txOpts(), topic, 1)
	r := newReceived()
	startPushConsumer(t, ns, "c", consumerOpts{group: "CG_tx", topic: topic, fromFirst: true}, r)
	l := newTxListener(map[string]primitive.LocalTransactionState{
		"commit-1": primitive.CommitMessageState, "rollback-1": primitive.RollbackMessageState,
		"marker": primitive.CommitMessageState,
	}, nil)
	p := newTxProducer(t, ns, "PG_tx", l)
	sendTx(t, p, topic, "commit-1", primitive.CommitMessageState)
	sendTx(t, p, topic, "rollback-1", primitive.RollbackMessageState)
	sendTx(t, p, topic, "marker", primitive.CommitMessageState)
	r.waitAll(t, []string{"commit-1", "marker"}, 30*time.Second)
	expectExactly(t, b, r, topic, "commit-1", "marker")
}

// TestTransactionCheckBack: half messages left UNKNOW are checked by the
// broker; the listener's commit is delivered once, its rollback never, and
// neither is checked again (a later transaction's check comes from a scan
// that passed both).
func TestTransactionCheckBack(t *testing.T) {
	topic := "TxCheckTopic"
	ns, b := startWithTopic(t, txOpts(), topic, 1)
	r := newReceived()
	startPushConsumer(t, ns, "c", consumerOpts{group: "CG_txcheck", topic: topic, fromFirst: true}, r)
	l := newTxListener(nil, map[string]primitive.LocalTransactionState{
		"check-commit": primitive.CommitMessageState, "check-rollback": primitive.RollbackMessageState,
		"late-marker": primitive.CommitMessageState,
	})
	p := newTxProducer(t, ns, "PG_txcheck", l)
	sendTx(t, p, topic, "check-commit", primitive.UnknowState)
	sendTx(t, p, topic, "check-rollback", primitive.UnknowState)
	r.waitAll(t, []string{"check-commit"}, 30*time.Second)
	waitFor(t, 30*time.Second, "check of check-rollback", func() bool { return l.checked("check-rollback") > 0 })

	sendTx(t, p, topic, "late-marker", primitive.UnknowState)
	r.waitAll(t, []string{"late-marker"}, 30*time.Second)
	expectExactly(t, b, r, topic, "check-commit", "late-marker")
	for _, body := range []string{"check-commit", "check-rollback", "late-marker"} {
		if n := l.checked(body); n != 1 {
			t.Fatalf("%q checked %d times, want once", body, n)
		}
	}
}

// TestTransactionCheckMax: a listener that always answers UNKNOW is checked
// exactly transactionCheckMax (3) times; the message is never delivered and
// never checked again.
func TestTransactionCheckMax(t *testing.T) {
	topic := "TxMaxTopic"
	ns, b := startWithTopic(t, txOpts(), topic, 1)
	r := newReceived()
	startPushConsumer(t, ns, "c", consumerOpts{group: "CG_txmax", topic: topic, fromFirst: true}, r)
	l := newTxListener(nil, map[string]primitive.LocalTransactionState{"marker": primitive.CommitMessageState})
	p := newTxProducer(t, ns, "PG_txmax", l)
	sendTx(t, p, topic, "never", primitive.UnknowState)
	waitFor(t, 30*time.Second, "3 checks", func() bool { return l.checked("never") >= 3 })

	// The marker's check comes from a scan that passed the last copy of
	// "never" after its third check: the one that discards it.
	sendTx(t, p, topic, "marker", primitive.UnknowState)
	r.waitAll(t, []string{"marker"}, 30*time.Second)
	if n := l.checked("never"); n != 3 {
		t.Fatalf("checked %d times, want 3", n)
	}
	expectExactly(t, b, r, topic, "marker")
}

// TestTransactionCheckSurvivesRestart: a half message left UNKNOW when the
// broker stops (SIGTERM, or kill -9) is checked after the restart by the
// group's producer, and its commit is delivered once.
func TestTransactionCheckSurvivesRestart(t *testing.T) {
	for _, tc := range []struct {
		name string
		stop func(*broker)
	}{
		{"sigterm", func(b *broker) { b.stop() }},
		{"kill9", func(b *broker) { b.kill() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topic := "TxRestartTopic"
			o := txOpts()
			o.extra["transactionTimeOut"] = "600000" // no check before the stop
			ns, b := startWithTopic(t, o, topic, 1)
			before := newTxListener(nil, nil)
			p1 := newTxProducer(t, ns, "PG_txrestart", before)
			sendTx(t, p1, topic, "survivor", primitive.UnknowState)
			tc.stop(b)
			if err := p1.Shutdown(); err != nil {
				t.Fatal(err)
			}
			// The restarted broker checks half messages older than 1 s. A
			// round without the group's producer, which registers only with
			// marker-1, is not counted in the first 30 s after the start.
			setBrokerProperty(t, b, "transactionTimeOut", "1000")
			b.start()

			r := newReceived()
			startPushConsumer(t, ns, "c", consumerOpts{group: "CG_txrestart", topic: topic, fromFirst: true}, r)
			after := newTxListener(nil, map[string]primitive.LocalTransactionState{
				"survivor": primitive.CommitMessageState, "marker-1": primitive.CommitMessageState,
				"marker-2": primitive.CommitMessageState,
			})
			// The producer of the restarted application. It heartbeats
			// only to brokers of the topics it has sent to: marker-1
			// makes the broker know it.
			p2 := newTxProducer(t, ns, "PG_txrestart", after)
			sendTx(t, p2, topic, "marker-1", primitive.UnknowState)
			r.waitAll(t, []string{"survivor", "marker-1"}, 30*time.Second)
			// marker-2's check comes from a scan that passed the others.
			sendTx(t, p2, topic, "marker-2", primitive.UnknowState)
			r.waitAll(t, []string{"marker-2"}, 30*time.Second)
			expectExactly(t, b, r, topic, "survivor", "marker-1", "marker-2")
			if n := before.checked("survivor"); n != 0 {
				t.Fatalf("checked %d times before the stop", n)
			}
			if n := after.checked("survivor"); n != 1 {
				t.Fatalf("checked %d times after the restart, want once", n)
			}
		})
	}
}

// TestEndTransactionBadInput: END_TRANSACTION naming an ordinary message, a
// garbage offset or a half message of another group gets SYSTEM_ERROR and
// stores nothing; the broker keeps serving.
func TestEndTransactionBadInput(t *testing.T) {
	topic := "TxBadTopic"
	ns, b := startWithTopic(t, txOpts(), topic, 1)
	plain := newProducer(t, ns, "PG_txbad_plain")
	res := sendSync(t, plain, topic, []string{"ordinary"}, "")[0]
	id, err := primitive.UnmarshalMsgID([]byte(res.OffsetMsgID))
	if err != nil {
		t.Fatal(err)
	}
	end := func(group string, queueOffset, commitLogOffset int64) rawRequest {
		return rawRequest{code: 37, ext: map[string]string{
			"producerGroup": group, "tranStateTableOffset": strconv.FormatInt(queueOffset, 10),
			"commitLogOffset": strconv.FormatInt(commitLogOffset, 10), "commitOrRollback": "8",
			"fromTransactionCheck": "false", "msgId": res.MsgID, "transactionId": res.MsgID,
		}}
	}
	for _, tc := range []struct {
		name string
		req  rawRequest
	}{
		{"ordinary message", end("PG_txbad_plain", res.QueueOffset, id.Offset)},
		{"inside a record", end("PG_txbad_plain", res.QueueOffset, id.Offset+3)},
		{"garbage offset", end("PG_txbad_plain", 0, 987654321)},
		{"negative offset", end("PG_txbad_plain", 0, -1)},
		{"missing fields", rawRequest{code: 37, ext: map[string]string{"producerGroup": "PG_txbad_plain"}}},
	} {
		resp, err := rawInvoke(b.addr, tc.req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if resp.code != 1 {
			t.Fatalf("%s: code %d %q, want SYSTEM_ERROR (1)", tc.name, resp.code, resp.remark)
		}
	}

	r := newReceived()
	startPushConsumer(t, ns, "c", consumerOpts{group: "CG_txbad", topic: topic, fromFirst: true}, r)
	sendSync(t, plain, topic, []string{"marker"}, "")
	r.waitAll(t, []string{"ordinary", "marker"}, 30*time.Second)
	expectExactly(t, b, r, topic, "ordinary", "marker")
	if got := fmt.Sprint(maxOffsets(t, b, "RMQ_SYS_TRANS_OP_HALF_TOPIC", 1)); got != "[0]" {
		t.Fatalf("op queue max offset %s, want [0]", got)
	}
}

// setBrokerProperty sets key in b's broker.properties for its next start.
func setBrokerProperty(t *testing.T, b *broker, key, value string) {
	t.Helper()
	file, err := os.ReadFile(b.conf)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, line := range strings.Split(strings.TrimSpace(string(file)), "\n") {
		if !strings.HasPrefix(line, key+"=") {
			lines = append(lines, line)
		}
	}
	lines = append(lines, key+"="+value)
	if err := os.WriteFile(b.conf, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}
