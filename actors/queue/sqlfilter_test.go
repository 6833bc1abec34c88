package queue

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// propMsg is a message to send with user properties.
type propMsg struct {
	name  string
	props map[string]string
}

// sendProps appends one message per m, with body "body-<offset>-<name>" and
// the given properties, and dispatches them (the writer's role).
func (h *harness) sendProps(t *testing.T, k store.QueueKey, msgs ...propMsg) {
	t.Helper()
	units := make([]Unit, 0, len(msgs))
	for _, m := range msgs {
		off := h.next[k]
		h.next[k] = off + 1
		h.log.mu.Lock()
		rec := message.Message{
			QueueID: k.QueueID, QueueOffset: off, PhysicalOffset: int64(len(h.log.data)),
			BornHost: testHost, StoreHost: testHost, StoreTimestamp: 1,
			Body: []byte("body-" + strconv.FormatInt(off, 10) + "-" + m.name), Topic: k.Topic,
			Properties: message.FormatProperties(m.props),
		}
		phys := int64(len(h.log.data))
		h.log.data = message.AppendRecord(h.log.data, &rec)
		size := int32(int64(len(h.log.data)) - phys)
		h.log.mu.Unlock()
		units = append(units, Unit{QueueOffset: off, PhysOffset: phys, Size: size,
			TagsCode: message.TagsHashCode(m.props[message.PropertyTags]), StoreTimestamp: 1})
	}
	h.r.Dispatch(k, units)
	want := h.next[k]
	testkit.Eventually(t, "dispatch", func() bool {
		q := h.queue(k)
		return q != nil && q.MaxOffset() == want
	})
}

// sqlHarness has SQL92 subscriptions registered by heartbeat: gSQL with the
// issue's example selector, gBad with one that does not compile.
func sqlHarness(t *testing.T, enabled bool, mutate func(*Config)) *harness {
	return newHarness(t, func(c *Config) {
		c.Broker.EnablePropertyFilter = enabled
		subs := c.Subscriptions.(fakeSubs)
		subs["gSQL@"+testTopic] = body.SubscriptionData{Topic: testTopic, SubString: "a BETWEEN 3 AND 7 AND b = 'x'", ExpressionType: "SQL92"}
		subs["gBad@"+testTopic] = body.SubscriptionData{Topic: testTopic, SubString: "a >", ExpressionType: "SQL92"}
		if mutate != nil {
			mutate(c)
		}
	})
}

// sendNumbered sends a=1..10 with b alternating x (odd) and y (even), then
// one message without a ("noA", b=x): offsets 0..10.
func sendNumbered(t *testing.T, h *harness) {
	var msgs []propMsg
	for i := 1; i <= 10; i++ {
		b := "x"
		if i%2 == 0 {
			b = "y"
		}
		msgs = append(msgs, propMsg{name: fmt.Sprintf("a%d%s", i, b), props: map[string]string{"a": strconv.Itoa(i), "b": b}})
	}
	msgs = append(msgs, propMsg{name: "noA", props: map[string]string{"b": "x", message.PropertyTags: "T"}})
	h.sendProps(t, q0, msgs...)
}

// sqlPullCmd is pullCmd with an SQL92 expression type.
func sqlPullCmd(group string, offset int64, sysFlag int32, sub string) *remoting.Command {
	cmd := pullCmd(group, 0, offset, sysFlag, 0, sub)
	cmd.ExtFields["expressionType"] = "SQL92"
	return cmd
}

// TestPullSQL92 filters pulls by SQL92 selectors from the heartbeat
// registration and from the request, checking bodies and nextBeginOffset.
func TestPullSQL92(t *testing.T) {
	h := sqlHarness(t, true, nil)
	sendNumbered(t, h)

	tests := []struct {
		name       string
		cmd        *remoting.Command
		maxMsgNums string
		wantCode   int32
		wantNext   int64
		wantBody   []string
	}{
		{name: "registered selector", cmd: sqlPullCmd("gSQL", 0, 0, ""),
			wantCode: remoting.RespSuccess, wantNext: 11, wantBody: []string{"body-2-a3x", "body-4-a5x", "body-6-a7x"}},
		{name: "registered selector, Go's TAG pull", cmd: pullCmd("gSQL", 0, 0, pullFlagSuspend, 0, ""),
			wantCode: remoting.RespSuccess, wantNext: 11, wantBody: []string{"body-2-a3x", "body-4-a5x", "body-6-a7x"}},
		{name: "registered selector from offset 5", cmd: sqlPullCmd("gSQL", 5, 0, ""),
			wantCode: remoting.RespSuccess, wantNext: 11, wantBody: []string{"body-6-a7x"}},
		{name: "maxMsgNums stops the scan", cmd: sqlPullCmd("gSQL", 0, 0, ""), maxMsgNums: "2",
			wantCode: remoting.RespSuccess, wantNext: 5, wantBody: []string{"body-2-a3x", "body-4-a5x"}},
		{name: "nothing left to match", cmd: sqlPullCmd("gSQL", 7, 0, ""),
			wantCode: remoting.RespPullRetryImmediately, wantNext: 11},
		{name: "request selector", cmd: sqlPullCmd("any", 0, pullFlagSubscription, "a IS NULL OR b IN ('y') AND a > 8"),
			wantCode: remoting.RespSuccess, wantNext: 11, wantBody: []string{"body-9-a10y", "body-10-noA"}},
		{name: "request selector on system property", cmd: sqlPullCmd("any", 0, pullFlagSubscription, "TAGS = 'T'"),
			wantCode: remoting.RespSuccess, wantNext: 11, wantBody: []string{"body-10-noA"}},
		{name: "request selector matches none", cmd: sqlPullCmd("any", 0, pullFlagSubscription, "a > 100"),
			wantCode: remoting.RespPullRetryImmediately, wantNext: 11},
		{name: "request tags next to SQL", cmd: pullCmd("any", 0, 0, pullFlagSubscription, 0, "T"),
			wantCode: remoting.RespSuccess, wantNext: 11, wantBody: []string{"body-10-noA"}},
		{name: "bad request selector", cmd: sqlPullCmd("any", 0, pullFlagSubscription, "a > > 1"),
			wantCode: remoting.RespSubscriptionParseFailed, wantNext: 0},
		{name: "empty request selector", cmd: sqlPullCmd("any", 3, pullFlagSubscription, ""),
			wantCode: remoting.RespSubscriptionParseFailed, wantNext: 3},
		{name: "bad registered selector", cmd: pullCmd("gBad", 0, 0, 0, 0, ""),
			wantCode: remoting.RespSubscriptionParseFailed, wantNext: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.maxMsgNums != "" {
				tt.cmd.ExtFields["maxMsgNums"] = tt.maxMsgNums
			}
			c := newFakeConn()
			h.r.handlePull(c, tt.cmd)
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
	// The broker keeps serving after the rejections.
	c := newFakeConn()
	h.r.handlePull(c, pullCmd("g1", 0, 10, 0, 0, ""))
	if r := c.next(t); r.cmd.Code != remoting.RespSuccess || len(bodies(t, r.body)) != 1 {
		t.Fatalf("tag pull after rejections: code %d (%s)", r.cmd.Code, r.cmd.Remark)
	}
}

// TestPullSQL92Disabled: with enablePropertyFilter=false an SQL92 pull is
// SYSTEM_ERROR with Java's remark, also when its selector does not compile
// (Java's pull path keeps a compile failure to itself and checks the
// switch next); tag pulls are served.
func TestPullSQL92Disabled(t *testing.T) {
	h := sqlHarness(t, false, nil)
	sendNumbered(t, h)
	const remark = "The broker does not support consumer to filter message by SQL92"
	tests := []struct {
		name       string
		cmd        *remoting.Command
		wantCode   int32
		wantRemark string
	}{
		{name: "request selector", cmd: sqlPullCmd("any", 0, pullFlagSubscription, "a > 1"), wantCode: remoting.RespSystemError, wantRemark: remark},
		{name: "registered selector", cmd: pullCmd("gSQL", 0, 0, 0, 0, ""), wantCode: remoting.RespSystemError, wantRemark: remark},
		{name: "bad selector", cmd: sqlPullCmd("any", 0, pullFlagSubscription, "a >"), wantCode: remoting.RespSystemError, wantRemark: remark},
		{name: "tags still served", cmd: pullCmd("g1", 0, 0, 0, 0, ""), wantCode: remoting.RespSuccess},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newFakeConn()
			h.r.handlePull(c, tt.cmd)
			r := c.next(t)
			if r.cmd.Code != tt.wantCode || tt.wantRemark != "" && r.cmd.Remark != tt.wantRemark {
				t.Fatalf("code %d remark %q, want %d %q", r.cmd.Code, r.cmd.Remark, tt.wantCode, tt.wantRemark)
			}
		})
	}
}

// TestPullSQL92ScanBudget: a selective selector scans at most
// FilterUnitsMax units per pull and moves the client past the units it
// scanned, until it reaches the one match.
func TestPullSQL92ScanBudget(t *testing.T) {
	h := sqlHarness(t, true, func(c *Config) { c.FilterUnitsMax = 50 })
	var msgs []propMsg
	for i := range 120 {
		msgs = append(msgs, propMsg{name: "miss" + strconv.Itoa(i), props: map[string]string{"a": "1", "b": "x"}})
	}
	msgs = append(msgs, propMsg{name: "hit", props: map[string]string{"a": "4", "b": "x"}})
	h.sendProps(t, q0, msgs...)

	var off int64
	for _, want := range []struct {
		code int32
		next int64
	}{
		{remoting.RespPullRetryImmediately, 50},
		{remoting.RespPullRetryImmediately, 100},
		{remoting.RespSuccess, 121},
	} {
		c := newFakeConn()
		h.r.handlePull(c, sqlPullCmd("gSQL", off, 0, ""))
		r := c.next(t)
		if r.cmd.Code != want.code || ext(t, r.cmd, "nextBeginOffset") != want.next {
			t.Fatalf("pull at %d: code %d next %s, want %d %d", off, r.cmd.Code, r.cmd.ExtFields["nextBeginOffset"], want.code, want.next)
		}
		off = want.next
	}
}

// TestLongPollSQL92 holds an SQL92 pull at the queue's end: a message that
// does not match wakes it with PULL_RETRY_IMMEDIATELY past that message,
// and the re-sent pull is answered by the next matching one.
func TestLongPollSQL92(t *testing.T) {
	h := sqlHarness(t, true, nil)
	sendNumbered(t, h)
	c := newFakeConn()
	h.r.handlePull(c, pullCmd("gSQL", 0, 11, pullFlagSuspend, 20*time.Second, ""))
	testkit.Eventually(t, "held", func() bool { return h.heldCount() == 1 })
	c.none(t)
	h.sendProps(t, q0, propMsg{name: "miss", props: map[string]string{"a": "4", "b": "y"}})
	r := c.next(t)
	if r.cmd.Code != remoting.RespPullRetryImmediately || ext(t, r.cmd, "nextBeginOffset") != 12 {
		t.Fatalf("woken by a non-match: code %d next %s", r.cmd.Code, r.cmd.ExtFields["nextBeginOffset"])
	}
	h.r.handlePull(c, pullCmd("gSQL", 0, 12, pullFlagSuspend, 20*time.Second, ""))
	testkit.Eventually(t, "held again", func() bool { return h.heldCount() == 1 })
	h.sendProps(t, q0, propMsg{name: "hit", props: map[string]string{"a": "4", "b": "x"}})
	r = c.next(t)
	if got := bodies(t, r.body); r.cmd.Code != remoting.RespSuccess || len(got) != 1 || got[0] != "body-12-hit" {
		t.Fatalf("woken by a match: code %d bodies %q", r.cmd.Code, got)
	}
}

// TestSQLCache: a selector is compiled once, errors included, and the cache
// stays bounded.
func TestSQLCache(t *testing.T) {
	var c sqlCache
	e1, err := c.compile("a = 1")
	if err != nil {
		t.Fatal(err)
	}
	if e2, _ := c.compile("a = 1"); e2 != e1 {
		t.Fatalf("compiled twice")
	}
	_, err1 := c.compile("a >")
	_, err2 := c.compile("a >")
	if err1 == nil || err1 != err2 {
		t.Fatalf("errors %v, %v: want one cached error", err1, err2)
	}
	for i := range 3 * sqlCacheMax {
		if _, err := c.compile("a = " + strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
		if n := c.n.Load(); n > sqlCacheMax {
			t.Fatalf("%d entries cached, at most %d", n, sqlCacheMax)
		}
	}
	entries := 0
	c.m.Range(func(_, _ any) bool { entries++; return true })
	if entries > sqlCacheMax {
		t.Fatalf("%d entries in the map, at most %d", entries, sqlCacheMax)
	}
}

// TestCheckClientConfig checks CHECK_CLIENT_CONFIG (46) against Java's
// ClientManageProcessor.checkClientConfig.
func TestCheckClientConfig(t *testing.T) {
	sub := func(expr, typ string) []byte {
		return body.EncodeJSON(map[string]any{"clientId": "c1", "group": "g", "namespace": "",
			"subscriptionData": map[string]any{"topic": testTopic, "subString": expr, "expressionType": typ}})
	}
	tests := []struct {
		name       string
		enabled    bool
		body       []byte
		wantCode   int32
		wantRemark string
	}{
		{name: "no body", enabled: true, wantCode: remoting.RespSuccess},
		{name: "no subscription", enabled: false, body: []byte(`{"clientId":"c1","group":"g"}`), wantCode: remoting.RespSuccess},
		{name: "tags", enabled: false, body: sub("TagA || TagB", "TAG"), wantCode: remoting.RespSuccess},
		{name: "tags without type", enabled: false, body: sub("*", ""), wantCode: remoting.RespSuccess},
		{name: "sql92", enabled: true, body: sub("a BETWEEN 1 AND 3", "SQL92"), wantCode: remoting.RespSuccess},
		{name: "sql92 does not compile", enabled: true, body: sub("a BETWEEN 3 AND 1", "SQL92"), wantCode: remoting.RespSubscriptionParseFailed},
		{name: "sql92 disabled", enabled: false, body: sub("a > 1", "SQL92"), wantCode: remoting.RespSystemError,
			wantRemark: "The broker does not support consumer to filter message by SQL92"},
		{name: "unknown type", enabled: true, body: sub("x", "CLASS"), wantCode: remoting.RespSubscriptionParseFailed},
		{name: "bad JSON", enabled: true, body: []byte(`{"subscriptionData":`), wantCode: remoting.RespSystemError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.Broker.EnablePropertyFilter = tt.enabled })
			c := newFakeConn()
			cmd := remoting.NewRequest(remoting.ReqCheckClientConfig, nil, tt.body)
			cmd.Opaque = 9
			h.r.handleCheckClientConfig(c, cmd)
			r := c.next(t)
			if r.cmd.Code != tt.wantCode || r.cmd.Opaque != 9 || !r.cmd.IsResponse() {
				t.Fatalf("code %d (%s) opaque %d, want %d", r.cmd.Code, r.cmd.Remark, r.cmd.Opaque, tt.wantCode)
			}
			if tt.wantRemark != "" && r.cmd.Remark != tt.wantRemark {
				t.Fatalf("remark %q, want %q", r.cmd.Remark, tt.wantRemark)
			}
		})
	}
}
