package queue

import (
	"strings"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

var q0 = store.QueueKey{Topic: testTopic, QueueID: 0}

// TestPullStatusTable checks wire-protocol.md §13.1 row by row.
func TestPullStatusTable(t *testing.T) {
	q1 := store.QueueKey{Topic: testTopic, QueueID: 1}
	h := newHarness(t, nil, q1) // q1 exists but is empty; q2 does not exist
	h.send(t, q0, "", "", "", "", "", "", "", "", "", "")
	h.queue(q0).mu.Lock()
	h.queue(q0).min = 2 // the first two were deleted by retention
	h.queue(q0).mu.Unlock()

	tests := []struct {
		name     string
		queueID  int32
		offset   int64
		wantCode int32
		wantNext int64
		wantMin  int64
		wantMax  int64
		wantMsgs int
	}{
		{name: "offset too small", queueID: 0, offset: 1, wantCode: remoting.RespPullOffsetMoved, wantNext: 2, wantMin: 2, wantMax: 10},
		{name: "found", queueID: 0, offset: 3, wantCode: remoting.RespSuccess, wantNext: 10, wantMin: 2, wantMax: 10, wantMsgs: 7},
		{name: "overflow one", queueID: 0, offset: 10, wantCode: remoting.RespPullNotFound, wantNext: 10, wantMin: 2, wantMax: 10},
		{name: "overflow badly", queueID: 0, offset: 11, wantCode: remoting.RespPullOffsetMoved, wantNext: 10, wantMin: 2, wantMax: 10},
		{name: "empty queue at 0", queueID: 1, offset: 0, wantCode: remoting.RespPullNotFound, wantNext: 0},
		{name: "empty queue not at 0", queueID: 1, offset: 5, wantCode: remoting.RespPullOffsetMoved, wantNext: 0},
		{name: "no queue at 0", queueID: 2, offset: 0, wantCode: remoting.RespPullNotFound, wantNext: 0},
		{name: "no queue not at 0", queueID: 2, offset: 3, wantCode: remoting.RespPullOffsetMoved, wantNext: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newFakeConn()
			h.r.handlePull(c, pullCmd("g1", tt.queueID, tt.offset, 0, 0, ""))
			r := c.next(t)
			if r.cmd.Code != tt.wantCode || r.cmd.Opaque != 42 || !r.cmd.IsResponse() {
				t.Fatalf("code %d opaque %d flag %d, want code %d", r.cmd.Code, r.cmd.Opaque, r.cmd.Flag, tt.wantCode)
			}
			if got := ext(t, r.cmd, "nextBeginOffset"); got != tt.wantNext {
				t.Errorf("nextBeginOffset %d, want %d", got, tt.wantNext)
			}
			if got := ext(t, r.cmd, "minOffset"); got != tt.wantMin {
				t.Errorf("minOffset %d, want %d", got, tt.wantMin)
			}
			if got := ext(t, r.cmd, "maxOffset"); got != tt.wantMax {
				t.Errorf("maxOffset %d, want %d", got, tt.wantMax)
			}
			if got := ext(t, r.cmd, "suggestWhichBrokerId"); got != 0 {
				t.Errorf("suggestWhichBrokerId %d", got)
			}
			if got := len(bodies(t, r.body)); got != tt.wantMsgs {
				t.Errorf("%d messages, want %d", got, tt.wantMsgs)
			}
		})
	}
}

// TestPullFilter checks tag filtering by the request's subscription and by
// the heartbeat-registered codeSet, including PULL_RETRY_IMMEDIATELY.
func TestPullFilter(t *testing.T) {
	h := newHarness(t, nil)
	h.send(t, q0, "TagA", "TagB", "TagA", "", "TagC")
	h.send(t, q0, "TagB", "TagB")

	tests := []struct {
		name      string
		group     string
		offset    int64
		sysFlag   int32
		sub       string
		wantCode  int32
		wantNext  int64
		wantBody  []string
		wantError bool
	}{
		{name: "request sub TagA", group: "any", sysFlag: pullFlagSubscription, sub: "TagA",
			wantCode: remoting.RespSuccess, wantNext: 7, wantBody: []string{"body-0-TagA", "body-2-TagA"}},
		{name: "request sub A||C with spaces", group: "any", sysFlag: pullFlagSubscription, sub: " TagA || TagC ",
			wantCode: remoting.RespSuccess, wantNext: 7, wantBody: []string{"body-0-TagA", "body-2-TagA", "body-4-TagC"}},
		{name: "request sub star", group: "any", offset: 3, sysFlag: pullFlagSubscription, sub: "*",
			wantCode: remoting.RespSuccess, wantNext: 7, wantBody: []string{"body-3-", "body-4-TagC", "body-5-TagB", "body-6-TagB"}},
		{name: "heartbeat codeSet", group: "gA",
			wantCode: remoting.RespSuccess, wantNext: 7, wantBody: []string{"body-0-TagA", "body-2-TagA"}},
		{name: "nothing matches", group: "gA", offset: 5,
			wantCode: remoting.RespPullRetryImmediately, wantNext: 7},
		{name: "no subscription", group: "nobody", wantCode: remoting.RespSubscriptionNotExist, wantNext: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newFakeConn()
			h.r.handlePull(c, pullCmd(tt.group, 0, tt.offset, tt.sysFlag, 0, tt.sub))
			r := c.next(t)
			if r.cmd.Code != tt.wantCode {
				t.Fatalf("code %d (%s), want %d", r.cmd.Code, r.cmd.Remark, tt.wantCode)
			}
			if got := ext(t, r.cmd, "nextBeginOffset"); got != tt.wantNext {
				t.Errorf("nextBeginOffset %d, want %d", got, tt.wantNext)
			}
			if got := bodies(t, r.body); strings.Join(got, ",") != strings.Join(tt.wantBody, ",") {
				t.Errorf("bodies %q, want %q", got, tt.wantBody)
			}
		})
	}
}

// TestPullLimits checks maxMsgNums, the transfer count cap and the byte cap
// (the first message always goes).
func TestPullLimits(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Broker.MaxTransferCountOnMessage = 4
	})
	h.send(t, q0, "", "", "", "", "", "", "", "")
	size := h.queue(q0).units[0].Size

	tests := []struct {
		name       string
		maxMsgNums string
		bytesMax   int
		wantMsgs   int
	}{
		{name: "maxMsgNums", maxMsgNums: "2", bytesMax: 1 << 20, wantMsgs: 2},
		{name: "transfer count cap", maxMsgNums: "32", bytesMax: 1 << 20, wantMsgs: 4},
		{name: "byte cap", maxMsgNums: "32", bytesMax: int(size)*3 - 1, wantMsgs: 2},
		{name: "first message always", maxMsgNums: "32", bytesMax: 1, wantMsgs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.r.cfg.Broker.MaxTransferBytesOnMessage = tt.bytesMax
			c := newFakeConn()
			cmd := pullCmd("g1", 0, 1, 0, 0, "")
			cmd.ExtFields["maxMsgNums"] = tt.maxMsgNums
			h.r.handlePull(c, cmd)
			r := c.next(t)
			if got := len(bodies(t, r.body)); got != tt.wantMsgs {
				t.Fatalf("%d messages, want %d", got, tt.wantMsgs)
			}
			if got := ext(t, r.cmd, "nextBeginOffset"); got != 1+int64(tt.wantMsgs) {
				t.Errorf("nextBeginOffset %d, want %d", got, 1+tt.wantMsgs)
			}
		})
	}
}

// TestPullValidation checks the rejections of §6.2 and that every answer
// still carries the four offset fields.
func TestPullValidation(t *testing.T) {
	h := newHarness(t, nil)
	tests := []struct {
		name     string
		mutate   func(*remoting.Command)
		wantCode int32
	}{
		{name: "unknown topic", mutate: func(c *remoting.Command) { c.ExtFields["topic"] = "Nope" }, wantCode: remoting.RespTopicNotExist},
		{name: "topic not readable", mutate: func(c *remoting.Command) { c.ExtFields["topic"] = "WriteOnly" }, wantCode: remoting.RespNoPermission},
		{name: "queue id too large", mutate: func(c *remoting.Command) { c.ExtFields["queueId"] = "4" }, wantCode: remoting.RespInvalidParameter},
		{name: "negative queue id", mutate: func(c *remoting.Command) { c.ExtFields["queueId"] = "-1" }, wantCode: remoting.RespInvalidParameter},
		{name: "missing group", mutate: func(c *remoting.Command) { delete(c.ExtFields, "consumerGroup") }, wantCode: remoting.RespSystemError},
		{name: "subscription not latest", mutate: func(c *remoting.Command) {
			c.ExtFields["consumerGroup"] = "gA"
			c.ExtFields["subVersion"] = "6"
		}, wantCode: remoting.RespSubscriptionNotLatest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newFakeConn()
			cmd := pullCmd("g1", 0, 0, pullFlagCommitOffset, 0, "")
			tt.mutate(cmd)
			h.r.handlePull(c, cmd)
			r := c.next(t)
			if r.cmd.Code != tt.wantCode {
				t.Fatalf("code %d (%s), want %d", r.cmd.Code, r.cmd.Remark, tt.wantCode)
			}
			for _, k := range []string{"nextBeginOffset", "minOffset", "maxOffset", "suggestWhichBrokerId"} {
				ext(t, r.cmd, k)
			}
		})
	}
	h.offs.mu.Lock()
	defer h.offs.mu.Unlock()
	if len(h.offs.commits) != 0 {
		t.Fatalf("rejected pulls committed offsets: %v", h.offs.commits)
	}
}

// TestPullCommitOffset checks the commit-offset piggyback (sysFlag bit 0).
func TestPullCommitOffset(t *testing.T) {
	h := newHarness(t, nil)
	c := newFakeConn()
	h.r.handlePull(c, pullCmd("g1", 0, 0, 0, 0, ""))
	h.r.handlePull(c, pullCmd("g1", 3, 0, pullFlagCommitOffset, 0, ""))
	c.next(t)
	c.next(t)
	h.offs.mu.Lock()
	defer h.offs.mu.Unlock()
	want := []commit{{group: "g1", topic: testTopic, queueID: 3, offset: 7}}
	if len(h.offs.commits) != 1 || h.offs.commits[0] != want[0] {
		t.Fatalf("commits %v, want %v", h.offs.commits, want)
	}
}

// TestFilterFromSubscription checks the heartbeat subscription forms.
func TestFilterFromSubscription(t *testing.T) {
	a, b := int32(message.TagsHashCode("A")), int32(message.TagsHashCode("B"))
	tests := []struct {
		name    string
		sd      body.SubscriptionData
		matchA  bool
		matchB  bool
		matchNo bool
	}{
		{name: "star", sd: body.SubscriptionData{SubString: "*"}, matchA: true, matchB: true, matchNo: true},
		{name: "empty", sd: body.SubscriptionData{}, matchA: true, matchB: true, matchNo: true},
		{name: "codeSet", sd: body.SubscriptionData{SubString: "A", CodeSet: []int32{a}}, matchA: true},
		{name: "tagsSet only", sd: body.SubscriptionData{SubString: "A || B", TagsSet: []string{"A", "B"}}, matchA: true, matchB: true},
		{name: "expression only", sd: body.SubscriptionData{SubString: "B"}, matchB: true},
		{name: "sql92 passes every tags code", sd: body.SubscriptionData{SubString: "a > 5", ExpressionType: "SQL92"}, matchA: true, matchB: true, matchNo: true},
	}
	var cache sqlCache
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := filterFromSubscription(&tt.sd, &cache)
			if err != nil {
				t.Fatal(err)
			}
			if f.match(int64(a)) != tt.matchA || f.match(int64(b)) != tt.matchB || f.match(0) != tt.matchNo {
				t.Fatalf("A %v B %v none %v", f.match(int64(a)), f.match(int64(b)), f.match(0))
			}
		})
	}
}

// TestDispatchOrder sends many dispatches to new queues while pulls make the
// registry spawn their actors: no unit may be Put out of order.
func TestDispatchOrder(t *testing.T) {
	h := newHarness(t, nil)
	c := newFakeConn()
	const rounds = 200
	for i := 0; i < rounds; i++ {
		for qid := int32(0); qid < 4; qid++ {
			k := store.QueueKey{Topic: testTopic, QueueID: qid}
			off := h.next[k]
			h.next[k] = off + 1
			h.r.Dispatch(k, []Unit{h.log.append(k, off, "", "x", 1)})
			if i%7 == 0 {
				h.r.handlePull(c, pullCmd("g1", qid, 0, 0, 0, ""))
			}
		}
	}
	for qid := int32(0); qid < 4; qid++ {
		k := store.QueueKey{Topic: testTopic, QueueID: qid}
		testkit.Eventually(t, "all units", func() bool { q := h.queue(k); return q != nil && q.MaxOffset() == rounds })
		if errs := h.queue(k).putErrors(); len(errs) > 0 {
			t.Fatalf("queue %d: out-of-order puts: %v", qid, errs[0])
		}
	}
}

// TestLongPollWakeup holds a pull at the queue's end and answers it with
// the message dispatched later.
func TestLongPollWakeup(t *testing.T) {
	h := newHarness(t, nil)
	h.send(t, q0, "TagA")
	c := newFakeConn()
	h.r.handlePull(c, pullCmd("g1", 0, 1, pullFlagSuspend, 20*time.Second, ""))
	testkit.Eventually(t, "held", func() bool { return h.heldCount() == 1 })
	c.none(t)
	h.send(t, q0, "TagB")
	r := c.next(t)
	if r.cmd.Code != remoting.RespSuccess {
		t.Fatalf("code %d (%s)", r.cmd.Code, r.cmd.Remark)
	}
	if got := bodies(t, r.body); len(got) != 1 || got[0] != "body-1-TagB" {
		t.Fatalf("bodies %q", got)
	}
	if got := ext(t, r.cmd, "nextBeginOffset"); got != 2 {
		t.Fatalf("nextBeginOffset %d", got)
	}
}

// TestLongPollAbsentQueue holds a pull of a queue that does not exist yet;
// the queue's first message wakes it.
func TestLongPollAbsentQueue(t *testing.T) {
	h := newHarness(t, nil)
	c := newFakeConn()
	h.r.handlePull(c, pullCmd("g1", 2, 0, pullFlagSuspend, 20*time.Second, ""))
	testkit.Eventually(t, "held", func() bool { return h.heldCount() == 1 })
	k := store.QueueKey{Topic: testTopic, QueueID: 2}
	h.send(t, k, "")
	r := c.next(t)
	if r.cmd.Code != remoting.RespSuccess || len(bodies(t, r.body)) != 1 {
		t.Fatalf("code %d (%s)", r.cmd.Code, r.cmd.Remark)
	}
}

// TestLongPollTimeout answers a held pull PULL_NOT_FOUND at its suspend
// timeout; with long polling off the short polling time applies.
func TestLongPollTimeout(t *testing.T) {
	tests := []struct {
		name        string
		longPolling bool
		suspend     time.Duration
	}{
		{name: "long polling", longPolling: true, suspend: 50 * time.Millisecond},
		{name: "short polling", longPolling: false, suspend: 20 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) {
				c.Broker.LongPollingEnable = tt.longPolling
				c.Broker.ShortPollingTimeMills = 50 * time.Millisecond
			})
			h.send(t, q0, "")
			c := newFakeConn()
			start := time.Now()
			h.r.handlePull(c, pullCmd("g1", 0, 1, pullFlagSuspend, tt.suspend, ""))
			r := c.next(t)
			if r.cmd.Code != remoting.RespPullNotFound {
				t.Fatalf("code %d (%s)", r.cmd.Code, r.cmd.Remark)
			}
			if got := ext(t, r.cmd, "nextBeginOffset"); got != 1 {
				t.Fatalf("nextBeginOffset %d", got)
			}
			if waited := time.Since(start); waited < 50*time.Millisecond-sweepSlack {
				t.Fatalf("answered after %v, before the hold time", waited)
			}
			testkit.Eventually(t, "hold table empty", func() bool { return h.heldCount() == 0 })
		})
	}
}

// TestLongPollFull answers at once when the hold table is full.
func TestLongPollFull(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.HeldPullsMax = 1 })
	c := newFakeConn()
	h.r.handlePull(c, pullCmd("g1", 0, 0, pullFlagSuspend, 20*time.Second, ""))
	testkit.Eventually(t, "held", func() bool { return h.heldCount() == 1 })
	h.r.handlePull(c, pullCmd("g1", 0, 0, pullFlagSuspend, 20*time.Second, ""))
	if r := c.next(t); r.cmd.Code != remoting.RespPullNotFound {
		t.Fatalf("code %d", r.cmd.Code)
	}
	c.none(t)
}
