package e2e

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/primitive"
)

// propMessage is a message body with user properties.
type propMessage struct {
	body  string
	props map[string]string
}

func sendWithProps(t *testing.T, p rocketmq.Producer, topic string, msgs ...propMessage) {
	t.Helper()
	for _, m := range msgs {
		msg := primitive.NewMessage(topic, []byte(m.body))
		for k, v := range m.props {
			msg.WithProperty(k, v)
		}
		res, err := p.SendSync(context.Background(), msg)
		if err != nil || res.Status != primitive.SendOK {
			t.Fatalf("SendSync %q: %v %s", m.body, err, statusString(res))
		}
	}
}

// recordBodies walks a pull body (V1 records, IPv4 hosts) and returns the
// message bodies, independently of the product's codec.
func recordBodies(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	for len(b) > 0 {
		if len(b) < 88 {
			t.Fatalf("truncated record: %d bytes", len(b))
		}
		size := int(binary.BigEndian.Uint32(b[0:]))
		bodyLen := int(binary.BigEndian.Uint32(b[84:]))
		if size < 88+bodyLen || size > len(b) {
			t.Fatalf("record size %d, body %d, have %d", size, bodyLen, len(b))
		}
		out = append(out, string(b[88:88+bodyLen]))
		b = b[size:]
	}
	return out
}

// rawPull pulls queue 0 of topic from offset 0 like a Go push consumer
// (no subscription in the request: the heartbeat-registered one applies),
// or with sub as an SQL92 subscription in the request when sub is not "".
func rawPull(t *testing.T, b *broker, group, topic, sub string) rawResponse {
	t.Helper()
	ext := map[string]string{
		"consumerGroup": group, "topic": topic, "queueId": "0", "queueOffset": "0", "maxMsgNums": "32",
		"sysFlag": "0", "commitOffset": "0", "suspendTimeoutMillis": "0", "subVersion": "0", "expressionType": "TAG",
	}
	if sub != "" {
		ext["sysFlag"], ext["subscription"], ext["expressionType"] = "4", sub, "SQL92"
	}
	resp, err := rawInvoke(b.addr, rawRequest{code: 11, ext: ext})
	if err != nil {
		t.Fatalf("raw pull: %v", err)
	}
	return resp
}

// checkClientConfig sends CHECK_CLIENT_CONFIG (46) as Java consumers do
// before subscribing with SQL92.
func checkClientConfig(t *testing.T, b *broker, group, topic, selector string) rawResponse {
	t.Helper()
	body, err := json.Marshal(map[string]any{"clientId": "127.0.0.1@raw", "group": group,
		"subscriptionData": map[string]any{"topic": topic, "subString": selector, "expressionType": "SQL92",
			"classFilterMode": false, "tagsSet": []string{}, "codeSet": []int{}, "subVersion": 1}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := rawInvoke(b.addr, rawRequest{code: 46, body: body})
	if err != nil {
		t.Fatalf("CHECK_CLIENT_CONFIG: %v", err)
	}
	return resp
}

// checkExactly fails unless r received exactly want, each once.
func checkExactly(t *testing.T, name string, r *received, want []string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var got []string
	for b, n := range r.bodies {
		got = append(got, b)
		if n != 1 {
			t.Errorf("%s: %q delivered %d times", name, b, n)
		}
	}
	slices.Sort(got)
	w := slices.Sorted(slices.Values(want))
	if !slices.Equal(got, w) {
		t.Fatalf("%s received\n %q\nwant\n %q", name, got, w)
	}
}

// TestSQL92Filter subscribes two Go push consumers with SQL92 selectors and
// checks that each receives exactly its matching messages, once; raw pulls
// show that the broker filtered (the Go client does not re-check SQL92), a
// bad selector answers SUBSCRIPTION_PARSE_FAILED and the broker keeps
// serving.
func TestSQL92Filter(t *testing.T) {
	topic := "SqlTopic"
	o := defaultBrokerOpts()
	o.extra = map[string]string{"enablePropertyFilter": "true"}
	// One queue: the sentinels, sent last, prove earlier messages were
	// filtered rather than late.
	ns, b := startWithTopic(t, o, topic, 1)
	p := newProducer(t, ns, "PG_sql")

	const sel1, sel2 = "a BETWEEN 3 AND 7 AND b = 'x'", "a IS NULL OR b IN ('y')"
	if resp := checkClientConfig(t, b, "CG_sql1", topic, sel1); resp.code != 0 {
		t.Fatalf("CHECK_CLIENT_CONFIG %q: %d %s", sel1, resp.code, resp.remark)
	}
	r1, r2 := newReceived(), newReceived()
	startPushConsumer(t, ns, "sql1", consumerOpts{group: "CG_sql1", topic: topic, expression: sel1, sql92: true, fromFirst: true}, r1)
	startPushConsumer(t, ns, "sql2", consumerOpts{group: "CG_sql2", topic: topic, expression: sel2, sql92: true, fromFirst: true}, r2)

	var msgs []propMessage
	var want1, want2 []string
	for i := 1; i <= 10; i++ {
		bv := "x"
		if i%2 == 0 {
			bv = "y"
		}
		m := propMessage{body: fmt.Sprintf("sql-a%02d-%s", i, bv), props: map[string]string{"a": strconv.Itoa(i), "b": bv}}
		msgs = append(msgs, m)
		if i >= 3 && i <= 7 && bv == "x" {
			want1 = append(want1, m.body)
		}
		if bv == "y" {
			want2 = append(want2, m.body)
		}
	}
	msgs = append(msgs,
		propMessage{body: "sql-noA-x", props: map[string]string{"b": "x"}},
		propMessage{body: "sql-noA-z", props: map[string]string{"b": "z"}},
		propMessage{body: "sql-word", props: map[string]string{"a": "five", "b": "x"}},
		propMessage{body: "sql-none"},
		propMessage{body: "sql-end1", props: map[string]string{"a": "5", "b": "x"}}, // sel1 only
		propMessage{body: "sql-end2", props: map[string]string{"b": "y"}},           // sel2 only
	)
	want1 = append(want1, "sql-end1")
	want2 = append(want2, "sql-noA-x", "sql-noA-z", "sql-none", "sql-end2")
	sendWithProps(t, p, topic, msgs...)

	r1.waitAll(t, want1, 30*time.Second)
	r2.waitAll(t, want2, 30*time.Second)
	checkExactly(t, "CG_sql1", r1, want1)
	checkExactly(t, "CG_sql2", r2, want2)

	// The broker filtered: a pull as Go sends it (no subscription, TAG)
	// answers only what the group's registered selector matches.
	for group, want := range map[string][]string{"CG_sql1": want1, "CG_sql2": want2} {
		resp := rawPull(t, b, group, topic, "")
		if resp.code != 0 {
			t.Fatalf("raw pull %s: %d %s", group, resp.code, resp.remark)
		}
		if got := recordBodies(t, resp.body); !slices.Equal(got, want) {
			t.Errorf("raw pull %s returned\n %q\nwant\n %q", group, got, want)
		}
		if next := resp.ext["nextBeginOffset"]; next != strconv.Itoa(len(msgs)) {
			t.Errorf("raw pull %s: nextBeginOffset %s, want %d", group, next, len(msgs))
		}
	}
	// A selector in the request (pull consumers). For sql-word, b = 'y' is
	// FALSE, so a > 8 (which cannot convert "five") is never evaluated.
	resp := rawPull(t, b, "CG_raw", topic, "b = 'y' AND a > 8 OR a = 'five'")
	if got := recordBodies(t, resp.body); resp.code != 0 || !slices.Equal(got, []string{"sql-a10-y", "sql-word"}) {
		t.Fatalf("raw pull with selector: %d %s %q", resp.code, resp.remark, got)
	}
	// Bad selectors are refused without harm.
	for _, bad := range []string{"a >", "a BETWEEN 7 AND 3", "a = 'x", "a IN (1)"} {
		if resp := rawPull(t, b, "CG_raw", topic, bad); resp.code != 23 {
			t.Errorf("raw pull %q: code %d %s, want 23 SUBSCRIPTION_PARSE_FAILED", bad, resp.code, resp.remark)
		}
		if resp := checkClientConfig(t, b, "CG_raw", topic, bad); resp.code != 23 {
			t.Errorf("CHECK_CLIENT_CONFIG %q: code %d %s, want 23", bad, resp.code, resp.remark)
		}
	}

	// Still serving: later messages reach the right consumer only.
	sendWithProps(t, p, topic,
		propMessage{body: "sql-after1", props: map[string]string{"a": "6", "b": "x"}},
		propMessage{body: "sql-after2", props: map[string]string{"b": "y"}})
	r1.waitAll(t, []string{"sql-after1"}, 30*time.Second)
	r2.waitAll(t, []string{"sql-after2"}, 30*time.Second)
	checkExactly(t, "CG_sql1", r1, append(want1, "sql-after1"))
	checkExactly(t, "CG_sql2", r2, append(want2, "sql-after2"))
}

// TestSQL92FilterDisabled: with enablePropertyFilter=false (the default) an
// SQL92 pull, registered or in the request (even with a selector that does
// not compile), and CHECK_CLIENT_CONFIG answer SYSTEM_ERROR with Java's
// remark, while sends and tag pulls keep working.
func TestSQL92FilterDisabled(t *testing.T) {
	topic := "SqlOffTopic"
	ns, b := startWithTopic(t, defaultBrokerOpts(), topic, 1)
	p := newProducer(t, ns, "PG_sqloff")
	startPushConsumer(t, ns, "sqloff", consumerOpts{group: "CG_sqloff", topic: topic, expression: "a > 1", sql92: true, fromFirst: true}, newReceived())
	sendWithProps(t, p, topic, propMessage{body: "off-1", props: map[string]string{"a": "2"}})

	const remark = "The broker does not support consumer to filter message by SQL92"
	for _, sel := range []string{"a > 1", "a >"} { // compiling or not, as Java
		if resp := rawPull(t, b, "CG_raw", topic, sel); resp.code != 1 || resp.remark != remark {
			t.Fatalf("raw pull with selector %q: %d %q, want 1 %q", sel, resp.code, resp.remark, remark)
		}
	}
	// The push consumer's heartbeat registered its selector: its pulls fail.
	waitFor(t, 15*time.Second, "registered SQL92 pull answered SYSTEM_ERROR", func() bool {
		resp := rawPull(t, b, "CG_sqloff", topic, "")
		return resp.code == 1 && resp.remark == remark
	})
	if resp := checkClientConfig(t, b, "CG_sqloff", topic, "a > 1"); resp.code != 1 || !strings.Contains(resp.remark, "SQL92") {
		t.Fatalf("CHECK_CLIENT_CONFIG: %d %q, want 1", resp.code, resp.remark)
	}

	sendWithProps(t, p, topic, propMessage{body: "off-2", props: map[string]string{"a": "3"}})
	resp, err := rawInvoke(b.addr, rawRequest{code: 11, ext: map[string]string{
		"consumerGroup": "CG_raw", "topic": topic, "queueId": "0", "queueOffset": "0", "maxMsgNums": "32",
		"sysFlag": "4", "subscription": "*", "commitOffset": "0", "suspendTimeoutMillis": "0", "subVersion": "0", "expressionType": "TAG"}})
	if err != nil || resp.code != 0 {
		t.Fatalf("tag pull: %v %+v", err, resp)
	}
	if got := recordBodies(t, resp.body); !slices.Equal(got, []string{"off-1", "off-2"}) {
		t.Fatalf("tag pull returned %q", got)
	}
}
