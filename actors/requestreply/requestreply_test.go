package requestreply

import (
	"bytes"
	"context"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/clients"
	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/actors/writer"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/internal/testkit/netkit"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/rs/zerolog"
)

const replyTopic = "C_REPLY_TOPIC"

// fakeWriter records a copy of each Put, taken when it completes (the
// writer encodes the record before done runs; the request the message
// aliases is released after), and completes it with result: at once, or
// once hold is closed when one is set.
type fakeWriter struct {
	mu     sync.Mutex
	puts   []*message.Message
	result writer.PutResult
	hold   chan struct{}
}

func (f *fakeWriter) Put(m *message.Message, _ int64, _ bool, done func(writer.PutResult)) {
	complete := func() {
		c := *m
		c.Topic, c.Properties, c.Body = strings.Clone(m.Topic), strings.Clone(m.Properties), bytes.Clone(m.Body)
		f.mu.Lock()
		f.puts = append(f.puts, &c)
		res := f.result
		f.mu.Unlock()
		done(res)
	}
	f.mu.Lock()
	hold := f.hold
	f.mu.Unlock()
	if hold == nil {
		complete()
		return
	}
	go func() {
		<-hold
		complete()
	}()
}

// holdPuts makes later Puts complete only once hold is closed.
func (f *fakeWriter) holdPuts(hold chan struct{}) {
	f.mu.Lock()
	f.hold = hold
	f.mu.Unlock()
}

func (f *fakeWriter) ErrorResponse(req *remoting.Command, err error) *remoting.Command {
	resp := reply.Error(req, err)
	resp.ExtFields = map[string]string{"MSG_REGION": "DefaultRegion", "TRACE_ON": "true"}
	return resp
}

func (f *fakeWriter) StoreHost() netip.AddrPort { return netip.MustParseAddrPort("10.0.0.1:10911") }

func (f *fakeWriter) stored() []*message.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*message.Message(nil), f.puts...)
}

type fakeTopics map[string]body.TopicConfig

func (t fakeTopics) Topic(name string) (body.TopicConfig, bool) { tc, ok := t[name]; return tc, ok }

// producers maps client ids to the server side of their connections; a
// request with code 34 registers the sender under ext clientID.
type producers struct{ m sync.Map }

func (p *producers) ProducerChannel(id string) (clients.Channel, bool) {
	v, ok := p.m.Load(id)
	if !ok {
		return clients.Channel{}, false
	}
	return clients.Channel{ClientID: id, Conn: v.(*netio.Conn)}, true
}

type fixture struct {
	t        *testing.T
	r        *Replier
	w        *fakeWriter
	addr     string
	store    atomic.Bool
	producer *producers
	// handled gets each 324/325 request once its handler has returned.
	handled chan *remoting.Command
}

func newFixture(t *testing.T, pushTimeout time.Duration) *fixture {
	t.Helper()
	f := &fixture{t: t, w: &fakeWriter{result: writer.PutResult{MsgID: "0A0000010000277F0000000000000064", QueueOffset: 7}}, producer: &producers{}}
	f.store.Store(true)
	r, err := Spawn(testkit.ActorSystem(t), Config{
		Broker:       config.Broker{BrokerPermission: 6, TraceOn: true},
		Topics:       fakeTopics{replyTopic: {TopicName: replyTopic, ReadQueueNums: 1, WriteQueueNums: 1, Perm: 6}},
		Producers:    f.producer,
		Writer:       f.w,
		StoreEnabled: f.store.Load,
		Logger:       zerolog.Nop(),
		PushTimeout:  pushTimeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.r = r
	t.Cleanup(func() { _ = r.Stop(testkit.Context(t)) })
	handlers := r.Handlers()
	f.handled = make(chan *remoting.Command, 16)
	for _, code := range []int32{remoting.ReqSendReplyMessage, remoting.ReqSendReplyMessageV2} {
		h := handlers[code]
		handlers[code] = func(c *netio.Conn, cmd *remoting.Command) {
			h(c, cmd)
			f.handled <- cmd
		}
	}
	handlers[remoting.ReqHeartBeat] = func(c *netio.Conn, cmd *remoting.Command) {
		f.producer.m.Store(cmd.ExtFields["clientID"], c)
		_ = c.Write(remoting.NewResponse(cmd, remoting.RespSuccess, ""))
	}
	f.addr = netkit.Serve(t, &netkit.Router{Handlers: handlers})
	return f
}

// requester connects a client that answers pushes with answer (nil: never)
// and registers it as clientID.
func (f *fixture) requester(clientID string, answer func(*remoting.Command) *remoting.Command) <-chan *remoting.Command {
	pushes := make(chan *remoting.Command, 4)
	c := netkit.Client(f.t, netio.ClientConfig{OnRequest: func(_ string, cmd *remoting.Command) *remoting.Command {
		pushes <- cmd
		return answer(cmd)
	}})
	resp := netkit.Invoke(f.t, c, f.addr, remoting.NewRequest(remoting.ReqHeartBeat, map[string]string{"clientID": clientID}, nil))
	if resp.Code != remoting.RespSuccess {
		f.t.Fatalf("register: %+v", resp)
	}
	return pushes
}

func (f *fixture) send(cmd *remoting.Command) *remoting.Command {
	f.t.Helper()
	return netkit.Invoke(f.t, netkit.Client(f.t, netio.ClientConfig{}), f.addr, cmd)
}

func replyCmd(code int32, props, body string) *remoting.Command {
	ext := map[string]string{
		"producerGroup": "PG", "topic": replyTopic, "defaultTopic": "TBW102", "defaultTopicQueueNums": "4",
		"queueId": "-1", "sysFlag": "0", "bornTimestamp": "1700000000000", "flag": "3", "properties": props,
		"reconsumeTimes": "0", "unitMode": "false",
	}
	if code == remoting.ReqSendReplyMessageV2 {
		ext = map[string]string{"a": "PG", "b": replyTopic, "c": "TBW102", "d": "4", "e": "-1", "f": "0",
			"g": "1700000000000", "h": "3", "i": props, "j": "0", "k": "true"}
	}
	return remoting.NewRequest(code, ext, []byte(body))
}

func props(kv ...string) string {
	var sb strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		sb.WriteString(kv[i] + "\x01" + kv[i+1] + "\x02")
	}
	return sb.String()
}

func ok(cmd *remoting.Command) *remoting.Command {
	return remoting.NewResponse(cmd, remoting.RespSuccess, "")
}

func TestReplyPushedToRequesterAndStored(t *testing.T) {
	for _, code := range []int32{remoting.ReqSendReplyMessage, remoting.ReqSendReplyMessageV2} {
		f := newFixture(t, 5*time.Second)
		pushes := f.requester("10.0.0.9@req", ok)
		p := props(message.PropertyCorrelationID, "corr-1", message.PropertyReplyToClient, "10.0.0.9@req", message.PropertyTags, "T")
		resp := f.send(replyCmd(code, p, "the answer"))
		if resp.Code != remoting.RespSuccess || resp.ExtFields["msgId"] != f.w.result.MsgID || resp.ExtFields["queueId"] != "0" ||
			resp.ExtFields["queueOffset"] != "7" || resp.ExtFields["MSG_REGION"] != "DefaultRegion" || resp.ExtFields["TRACE_ON"] != "true" {
			t.Fatalf("code %d: response %d %s %v", code, resp.Code, resp.Remark, resp.ExtFields)
		}
		push := testkit.Receive(t, pushes, "the push")
		e := push.ExtFields
		if push.Code != remoting.ReqPushReplyMessageToClient || string(push.Body) != "the answer" || e["topic"] != replyTopic ||
			e["producerGroup"] != "PG" || e["queueId"] != "-1" || e["flag"] != "3" || e["bornTimestamp"] != "1700000000000" ||
			e["storeHost"] != "10.0.0.1:10911" || !strings.HasPrefix(e["bornHost"], "127.0.0.1:") || e["storeTimestamp"] == "" ||
			e["unitMode"] != strconv.FormatBool(code == remoting.ReqSendReplyMessageV2) {
			t.Fatalf("push %+v body %q", e, push.Body)
		}
		if v, _ := message.PropertyValue(e["properties"], message.PropertyPushReplyTime); v != e["storeTimestamp"] {
			t.Fatalf("PUSH_REPLY_TIME %q, want the push time %s", v, e["storeTimestamp"])
		}
		stored := f.w.stored()
		if len(stored) != 1 || stored[0].Topic != replyTopic || string(stored[0].Body) != "the answer" || stored[0].Properties != p ||
			stored[0].QueueID != 0 || stored[0].Flag != 3 {
			t.Fatalf("stored %+v", stored)
		}
	}
}

func TestReplyFailures(t *testing.T) {
	// Every requester here answers: the push timeout must outlast a round
	// trip on a loaded machine (TestReplyToSilentRequester times one out).
	f := newFixture(t, testkit.Timeout)
	f.requester("10.0.0.9@refuses", func(cmd *remoting.Command) *remoting.Command {
		return remoting.NewResponse(cmd, remoting.RespSystemError, "no")
	})
	for _, c := range []struct {
		name   string
		cmd    *remoting.Command
		code   int32
		remark string
		stored bool
	}{
		{"no REPLY_TO_CLIENT", replyCmd(324, props("CORRELATION_ID", "x"), "b"), 1, "properties[REPLY_TO_CLIENT] is null", true},
		{"unknown client", replyCmd(324, props("REPLY_TO_CLIENT", "1.1.1.1@gone"), "b"), 1, "channel of <1.1.1.1@gone> not found", true},
		{"requester refuses", replyCmd(324, props("REPLY_TO_CLIENT", "10.0.0.9@refuses"), "b"), 1, "code 1 no", true},
		{"missing header field", remoting.NewRequest(324, map[string]string{"topic": replyTopic}, nil), 1, "producerGroup", false},
		{"unknown topic", func() *remoting.Command {
			c := replyCmd(324, props("REPLY_TO_CLIENT", "x"), "b")
			c.ExtFields["topic"] = "Nope"
			return c
		}(), 17, "not exist", false},
		{"queue out of range", func() *remoting.Command {
			c := replyCmd(324, props("REPLY_TO_CLIENT", "x"), "b")
			c.ExtFields["queueId"] = "1"
			return c
		}(), 29, "illegal", false},
	} {
		before := len(f.w.stored())
		resp := f.send(c.cmd)
		if resp.Code != c.code || !strings.Contains(resp.Remark, c.remark) || resp.ExtFields["MSG_REGION"] == "" {
			t.Errorf("%s: %d %q %v, want %d containing %q", c.name, resp.Code, resp.Remark, resp.ExtFields, c.code, c.remark)
		}
		// A stored reply carries its offsets even when the push failed (Java).
		if stored := len(f.w.stored()) - before; stored != map[bool]int{true: 1}[c.stored] ||
			(c.stored && resp.ExtFields["queueOffset"] != "7") {
			t.Errorf("%s: %d stored, response %v", c.name, stored, resp.ExtFields)
		}
	}
}

// TestReplyToSilentRequester: a push the requester never answers fails the
// reply at the push timeout; the reply is stored all the same (Java).
func TestReplyToSilentRequester(t *testing.T) {
	f := newFixture(t, 200*time.Millisecond)
	silent := f.requester("10.0.0.9@silent", func(*remoting.Command) *remoting.Command { return nil })
	resp := f.send(replyCmd(324, props("REPLY_TO_CLIENT", "10.0.0.9@silent"), "b"))
	if resp.Code != 1 || !strings.Contains(resp.Remark, "timed out") || resp.ExtFields["queueOffset"] != "7" || resp.ExtFields["MSG_REGION"] == "" {
		t.Fatalf("reply to a silent requester: %d %q %v, want 1 containing \"timed out\" with the stored offsets", resp.Code, resp.Remark, resp.ExtFields)
	}
	if n := len(f.w.stored()); n != 1 {
		t.Fatalf("%d replies stored, want 1", n)
	}
	testkit.Receive(t, silent, "the push the silent requester never answers")
}

func TestReplyNotStoredWhenDisabled(t *testing.T) {
	f := newFixture(t, 5*time.Second)
	f.store.Store(false)
	pushes := f.requester("10.0.0.9@req", ok)
	resp := f.send(replyCmd(325, props("REPLY_TO_CLIENT", "10.0.0.9@req"), "b"))
	if resp.Code != 0 || resp.ExtFields["msgId"] != "0" || resp.ExtFields["queueOffset"] != "0" || resp.ExtFields["queueId"] != "0" {
		t.Fatalf("response %d %v", resp.Code, resp.ExtFields)
	}
	testkit.Receive(t, pushes, "the push")
	if n := len(f.w.stored()); n != 0 {
		t.Fatalf("%d replies stored with storeReplyMessageEnable=false", n)
	}
}

func TestReplierStopRefusesNewReplies(t *testing.T) {
	f := newFixture(t, 5*time.Second)
	if err := f.r.Stop(testkit.Context(t)); err != nil {
		t.Fatal(err)
	}
	resp := f.send(replyCmd(324, props("REPLY_TO_CLIENT", "x"), "b"))
	if resp.Code != remoting.RespServiceNotAvailable {
		t.Fatalf("after Stop: %d %s", resp.Code, resp.Remark)
	}
}

// TestReplierStopEndsPushesInFlight: Stop does not wait for a requester
// that never answers (the push timeout here is an hour): the push in
// flight ends at once, the reply is still stored and its responder is
// answered SYSTEM_ERROR with the stored offsets before Stop returns.
func TestReplierStopEndsPushesInFlight(t *testing.T) {
	f := newFixture(t, time.Hour)
	silent := f.requester("10.0.0.9@silent", func(*remoting.Command) *remoting.Command { return nil })
	answered := make(chan *remoting.Command, 1)
	c := netkit.Client(t, netio.ClientConfig{})
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
		defer cancel()
		resp, err := c.Invoke(ctx, f.addr, replyCmd(324, props("REPLY_TO_CLIENT", "10.0.0.9@silent"), "b"))
		if err != nil {
			t.Errorf("reply: %v", err)
		}
		answered <- resp
	}()
	testkit.Receive(t, silent, "the push")
	if err := f.r.Stop(testkit.Context(t)); err != nil {
		t.Fatalf("stop with a push in flight: %v", err)
	}
	resp := testkit.Receive(t, answered, "the responder's answer")
	if resp == nil || resp.Code != remoting.RespSystemError || resp.ExtFields["queueOffset"] != "7" {
		t.Fatalf("answer %+v, want SYSTEM_ERROR with the stored offset", resp)
	}
	if n := len(f.w.stored()); n != 1 {
		t.Fatalf("%d replies stored, want 1", n)
	}
}

// TestReplyRequestReleasedAtItsEnd: a 324/325 request is a pooled frame
// (its header strings and Body alias the frame's buffer). An admitted
// reply's request is released after its answer, not before the store
// completes; a refused one after its error answer. Race builds poison a
// released frame (Code -1, buffer overwritten), so a release before the
// held store completes stores garbage (and races the copy), and a request
// never released keeps its code.
func TestReplyRequestReleasedAtItsEnd(t *testing.T) {
	f := newFixture(t, 5*time.Second)
	hold := make(chan struct{})
	f.w.holdPuts(hold)
	pushes := f.requester("10.0.0.9@req", ok)
	p := props(message.PropertyReplyToClient, "10.0.0.9@req", message.PropertyTags, "T")
	answered := make(chan *remoting.Command, 1)
	c := netkit.Client(t, netio.ClientConfig{})
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
		defer cancel()
		resp, err := c.Invoke(ctx, f.addr, replyCmd(remoting.ReqSendReplyMessageV2, p, "held answer"))
		if err != nil {
			t.Errorf("reply: %v", err)
		}
		answered <- resp
	}()
	if push := testkit.Receive(t, pushes, "the push"); string(push.Body) != "held answer" {
		t.Fatalf("pushed body %q", push.Body)
	}
	refused := replyCmd(remoting.ReqSendReplyMessage, p, "refused")
	refused.ExtFields["topic"] = "Nope"
	if resp := f.send(refused); resp.Code != 17 {
		t.Fatalf("unknown topic: %d %s", resp.Code, resp.Remark)
	}
	close(hold)
	if resp := testkit.Receive(t, answered, "the answer"); resp == nil || resp.Code != remoting.RespSuccess || resp.ExtFields["queueOffset"] != "7" {
		t.Fatalf("answer %+v", resp)
	}
	stored := f.w.stored()
	if len(stored) != 1 || stored[0].Topic != replyTopic || string(stored[0].Body) != "held answer" || stored[0].Properties != p {
		t.Fatalf("stored %+v, want the reply as sent", stored)
	}
	// Stop returns once every admitted reply left the gate, which its
	// worker does after the release: the reads below follow it.
	if err := f.r.Stop(testkit.Context(t)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		cmd := testkit.Receive(t, f.handled, "a handled request")
		if raceEnabled && cmd.Code != -1 {
			t.Errorf("request (code %d) not released at its end", cmd.Code)
		}
	}
}
