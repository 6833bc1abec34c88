package transaction_test

import (
	"bufio"
	"io"
	"net"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// TestCommitStoresRealMessageOnce: a commit stores the half message once in
// its real topic and queue, as §15 step 4 builds it, then an op record; a
// second END of any outcome changes nothing.
func TestCommitStoresRealMessageOnce(t *testing.T) {
	b := startBroker(t, newShared(t), testConfig())
	h := b.sendHalf("tx-commit", "UNIQ-1", map[string]string{"KEYS": "k1"})
	if got := b.delivered(0); len(got) != 0 {
		t.Fatalf("half message visible in the real topic: %v", got)
	}
	halves := b.waitRecords(halfKey, 1)
	if len(halves) != 1 || halves[0].QueueOffset != h.queueOffset || halves[0].PhysicalOffset != h.physOffset {
		t.Fatalf("half queue %+v, send answered %+v", halves, h)
	}

	if resp := b.end(h, message.TransactionCommit, false); resp.Code != remoting.RespSuccess {
		t.Fatalf("commit: %d %s", resp.Code, resp.Remark)
	}
	real := b.waitRecords(realKey(), 1)
	if len(real) != 1 {
		t.Fatalf("real topic holds %d records, want 1", len(real))
	}
	m := real[0]
	if string(m.Body) != "tx-commit" || m.QueueID != 2 || m.Topic != testTopic {
		t.Fatalf("committed message %s/%d %q", m.Topic, m.QueueID, m.Body)
	}
	if message.TransactionType(m.SysFlag) != message.TransactionCommit || m.PreparedTransactionOffset != h.physOffset {
		t.Fatalf("sysFlag %#x, prepared offset %d, want COMMIT and %d", m.SysFlag, m.PreparedTransactionOffset, h.physOffset)
	}
	props := message.ParseProperties(m.Properties)
	for _, gone := range []string{message.PropertyRealTopic, message.PropertyRealQueueID, message.PropertyTranMsg} {
		if v, ok := props[gone]; ok {
			t.Errorf("committed message keeps %s=%s", gone, v)
		}
	}
	for k, want := range map[string]string{message.PropertyUniqKey: "UNIQ-1", message.PropertyProducerGroup: testGroup, "KEYS": "k1", message.PropertyTags: "tagA"} {
		if props[k] != want {
			t.Errorf("committed message %s=%q, want %q", k, props[k], want)
		}
	}
	ops := b.waitRecords(opKey, 1)
	if len(ops) != 1 || string(ops[0].Body) != strconv.FormatInt(h.queueOffset, 10) {
		t.Fatalf("op records %+v", ops)
	}
	if tags, _ := message.PropertyValue(ops[0].Properties, message.PropertyTags); tags != "d" {
		t.Fatalf("op record TAGS %q", tags)
	}

	for _, outcome := range []int32{message.TransactionCommit, message.TransactionRollback} {
		if resp := b.end(h, outcome, true); resp.Code != remoting.RespSystemError {
			t.Fatalf("second END (%d): %d %s, want SYSTEM_ERROR", outcome, resp.Code, resp.Remark)
		}
	}
	if n, ops := len(b.records(realKey())), len(b.records(opKey)); n != 1 || ops != 1 {
		t.Fatalf("after duplicate ENDs: %d real records, %d op records; want 1 and 1", n, ops)
	}
}

// TestRollbackWritesOpOnly: a rollback stores nothing in the real topic;
// a commit after it is refused.
func TestRollbackWritesOpOnly(t *testing.T) {
	b := startBroker(t, newShared(t), testConfig())
	h := b.sendHalf("tx-rollback", "UNIQ-2", nil)
	if resp := b.end(h, message.TransactionRollback, false); resp.Code != remoting.RespSuccess {
		t.Fatalf("rollback: %d %s", resp.Code, resp.Remark)
	}
	if resp := b.end(h, message.TransactionCommit, true); resp.Code != remoting.RespSystemError {
		t.Fatalf("commit after rollback: %d %s, want SYSTEM_ERROR", resp.Code, resp.Remark)
	}
	if got := b.delivered(0); len(got) != 0 {
		t.Fatalf("rolled back message stored: %v", got)
	}
	if ops := b.waitRecords(opKey, 1); len(ops) != 1 || string(ops[0].Body) != strconv.FormatInt(h.queueOffset, 10) {
		t.Fatalf("op records %+v", ops)
	}
}

// TestCommitWithDelayLevelIsScheduled: a committed message with DELAY goes
// to SCHEDULE_TOPIC_XXXX like a sent one.
func TestCommitWithDelayLevelIsScheduled(t *testing.T) {
	b := startBroker(t, newShared(t), testConfig())
	h := b.sendHalf("tx-delay", "UNIQ-3", map[string]string{message.PropertyDelay: "2"})
	if resp := b.end(h, message.TransactionCommit, false); resp.Code != remoting.RespSuccess {
		t.Fatalf("commit: %d %s", resp.Code, resp.Remark)
	}
	sched := b.waitRecords(schedKey(1), 1)
	if len(sched) != 1 || string(sched[0].Body) != "tx-delay" {
		t.Fatalf("schedule queue 1: %+v", sched)
	}
	props := message.ParseProperties(sched[0].Properties)
	if props[message.PropertyRealTopic] != testTopic || props[message.PropertyRealQueueID] != "2" {
		t.Fatalf("scheduled message REAL_TOPIC/REAL_QID %q/%q", props[message.PropertyRealTopic], props[message.PropertyRealQueueID])
	}
	if got := b.delivered(0); len(got) != 0 {
		t.Fatalf("delayed commit delivered at once: %v", got)
	}
}

// TestEndRefusesWhatIsNotItsHalfMessage: END_TRANSACTION naming anything but
// a half message of the group gets SYSTEM_ERROR and writes nothing.
func TestEndRefusesWhatIsNotItsHalfMessage(t *testing.T) {
	b := startBroker(t, newShared(t), testConfig())
	plain := b.sendPlain("ordinary")
	h := b.sendHalf("tx-open", "UNIQ-4", nil)
	for _, tc := range []struct {
		name string
		req  *remoting.Command
	}{
		{"ordinary message", endRequest(testGroup, 0, plain, message.TransactionCommit, false, "x")},
		{"offset inside a record", endRequest(testGroup, h.queueOffset, h.physOffset+7, message.TransactionCommit, false, "x")},
		{"offset past the end", endRequest(testGroup, h.queueOffset, 1<<40, message.TransactionCommit, false, "x")},
		{"negative offset", endRequest(testGroup, h.queueOffset, -5, message.TransactionRollback, false, "x")},
		{"other group", endRequest("PG_other", h.queueOffset, h.physOffset, message.TransactionCommit, false, "x")},
		{"wrong queue offset", endRequest(testGroup, h.queueOffset+1, h.physOffset, message.TransactionCommit, false, "x")},
		{"missing commitLogOffset", remoting.NewRequest(remoting.ReqEndTransaction, map[string]string{
			"producerGroup": testGroup, "tranStateTableOffset": "0", "commitOrRollback": "8"}, nil)},
		{"malformed offset", remoting.NewRequest(remoting.ReqEndTransaction, map[string]string{
			"producerGroup": testGroup, "tranStateTableOffset": "0", "commitLogOffset": "12x", "commitOrRollback": "8"}, nil)},
	} {
		if resp := b.invoke(tc.req); resp.Code != remoting.RespSystemError {
			t.Errorf("%s: code %d %s, want SYSTEM_ERROR", tc.name, resp.Code, resp.Remark)
		}
	}
	if n, ops := len(b.delivered(1)), len(b.records(opKey)); n != 1 || ops != 0 {
		t.Fatalf("after refused ENDs: %d real records (the ordinary one), %d op records; want 1 and 0", n, ops)
	}
	// The half message is still open and can be committed.
	if resp := b.end(h, message.TransactionCommit, false); resp.Code != remoting.RespSuccess {
		t.Fatalf("commit: %d %s", resp.Code, resp.Remark)
	}
	if got := b.delivered(2); !reflect.DeepEqual(got, []string{"ordinary", "tx-open"}) {
		t.Fatalf("delivered %v", got)
	}
}

// TestEndWithoutOutcomeIsNotAnswered: commitOrRollback 0 (UNKNOW) and
// unknown values get no response and change nothing. On one connection the
// loop handles frames in order and would answer them at once, so the first
// response read being the later commit's shows that they got none.
func TestEndWithoutOutcomeIsNotAnswered(t *testing.T) {
	b := startBroker(t, newShared(t), testConfig())
	h := b.sendHalf("tx-unknown", "UNIQ-5", nil)
	conn, err := net.DialTimeout("tcp", b.addr, testkit.Timeout)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(testkit.Timeout))
	var frames []byte
	for i, outcome := range []int32{message.TransactionNotType, 4, 99, message.TransactionCommit} {
		req := endRequest(testGroup, h.queueOffset, h.physOffset, outcome, false, h.uniq)
		req.Opaque = int32(i + 1)
		frames = remoting.AppendFrame(frames, req)
	}
	if _, err := conn.Write(frames); err != nil {
		t.Fatal(err)
	}
	resp := readFrame(t, bufio.NewReader(conn))
	if resp.Opaque != 4 || resp.Code != remoting.RespSuccess {
		t.Fatalf("first response: opaque %d code %d %s; want the commit's (opaque 4, SUCCESS)", resp.Opaque, resp.Code, resp.Remark)
	}
	if got := b.delivered(1); !reflect.DeepEqual(got, []string{"tx-unknown"}) {
		t.Fatalf("delivered %v", got)
	}
}

// TestEndOnSlave: a slave answers SLAVE_NOT_AVAILABLE and reads nothing.
func TestEndOnSlave(t *testing.T) {
	cfg := testConfig()
	cfg.BrokerRole = config.RoleSlave
	b := startBroker(t, newShared(t), cfg)
	resp := b.invoke(endRequest(testGroup, 0, 0, message.TransactionCommit, false, "x"))
	if resp.Code != remoting.RespSlaveNotAvailable {
		t.Fatalf("END on a slave: %d %s", resp.Code, resp.Remark)
	}
}

func readFrame(t *testing.T, r *bufio.Reader) *remoting.Command {
	t.Helper()
	prefix, err := r.Peek(4)
	if err != nil {
		t.Fatal(err)
	}
	n, err := remoting.FrameLength(prefix, 16<<20)
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, n)
	if _, err := io.ReadFull(r, frame); err != nil {
		t.Fatal(err)
	}
	cmd, err := remoting.DecodeFrame(frame)
	if err != nil {
		t.Fatal(err)
	}
	return cmd
}

func realKey() store.QueueKey { return store.QueueKey{Topic: testTopic, QueueID: 2} }

func schedKey(q int32) store.QueueKey { return store.QueueKey{Topic: body.ScheduleTopic, QueueID: q} }
