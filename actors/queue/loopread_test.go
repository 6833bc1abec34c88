package queue

import (
	"strconv"
	"sync"
	"testing"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/remoting"
)

// stallQueue keeps key's queue actor busy until the returned resume runs (at
// the latest at cleanup): a watch the queue has passed runs its fn on the
// actor at once, and this fn waits. A pull answered while the actor is
// stalled was answered on the loop.
func (h *harness) stallQueue(t *testing.T, key store.QueueKey) (resume func()) {
	t.Helper()
	started, release := make(chan struct{}), make(chan struct{})
	h.r.Watch(key, -1, func() {
		close(started)
		<-release
	})
	testkit.Receive(t, started, "the queue actor stalled")
	var once sync.Once
	resume = func() { once.Do(func() { close(release) }) }
	t.Cleanup(resume)
	return resume
}

// TestPullOnLoop checks which pulls the gnet loop answers itself
// (loopread.go) and that every other one is answered by the queue actor
// with the same outcome as before.
func TestPullOnLoop(t *testing.T) {
	tests := []struct {
		name     string
		mutate   func(*Config)
		cmd      func() *remoting.Command
		onLoop   bool
		wantCode int32
		wantMsgs int
	}{
		{name: "recent messages", cmd: func() *remoting.Command { return pullCmd("g1", 0, 0, 0, 0, "") },
			onLoop: true, wantCode: remoting.RespSuccess, wantMsgs: 3},
		{name: "tag filter matching within want units", cmd: func() *remoting.Command { return pullCmd("gA", 0, 0, 0, 0, "") },
			onLoop: true, wantCode: remoting.RespSuccess, wantMsgs: 1},
		{name: "tag filter matching nothing within want units", cmd: func() *remoting.Command {
			c := pullCmd("gA", 0, 0, 0, 0, "")
			c.ExtFields["maxMsgNums"] = "1" // want 1: the first unit (TagB) does not match
			return c
		}, wantCode: remoting.RespSuccess, wantMsgs: 1},
		{name: "nothing at the offset", cmd: func() *remoting.Command { return pullCmd("g1", 0, 3, 0, 0, "") },
			wantCode: remoting.RespPullNotFound},
		{name: "offset below the queue", mutate: nil, cmd: func() *remoting.Command { return pullCmd("g1", 0, -1, 0, 0, "") },
			wantCode: remoting.RespPullOffsetMoved},
		{name: "records older than LoopReadBytes", mutate: func(c *Config) { c.LoopReadBytes = 1 },
			cmd: func() *remoting.Command { return pullCmd("g1", 0, 0, 0, 0, "") }, wantCode: remoting.RespSuccess, wantMsgs: 3},
		{name: "loop answers off", mutate: func(c *Config) { c.LoopReadBytes = -1 },
			cmd: func() *remoting.Command { return pullCmd("g1", 0, 0, 0, 0, "") }, wantCode: remoting.RespSuccess, wantMsgs: 3},
		{name: "SQL92 selector", mutate: func(c *Config) { c.Broker.EnablePropertyFilter = true },
			cmd: func() *remoting.Command {
				c := pullCmd("any", 0, 0, pullFlagSubscription, 0, "a IS NULL")
				c.ExtFields["expressionType"] = "SQL92"
				return c
			}, wantCode: remoting.RespSuccess, wantMsgs: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.mutate)
			h.send(t, q0, "TagB", "TagA", "TagB")
			resume := h.stallQueue(t, q0)
			c := newFakeConn()
			h.r.handlePull(c, tt.cmd())
			var r response
			if tt.onLoop {
				select {
				case r = <-c.ch:
				default:
					t.Fatal("not answered on the loop")
				}
			} else {
				c.none(t)
				resume()
				r = c.next(t)
			}
			if r.cmd.Code != tt.wantCode || r.cmd.Opaque != 42 || !r.cmd.IsResponse() {
				t.Fatalf("code %d (%s) opaque %d flag %d, want code %d", r.cmd.Code, r.cmd.Remark, r.cmd.Opaque, r.cmd.Flag, tt.wantCode)
			}
			if got := len(bodies(t, r.body)); got != tt.wantMsgs {
				t.Fatalf("%d messages, want %d", got, tt.wantMsgs)
			}
			for _, k := range []string{"nextBeginOffset", "minOffset", "maxOffset", "suggestWhichBrokerId"} {
				ext(t, r.cmd, k)
			}
		})
	}
}

// TestPullOnLoopCounts: messages pulled on the loop count in the statistics
// like those the queue actor answers.
func TestPullOnLoopCounts(t *testing.T) {
	h := newHarness(t, nil)
	h.send(t, q0, "", "", "")
	c := newFakeConn()
	h.r.handlePull(c, pullCmd("g1", 0, 1, 0, 0, ""))
	if r := c.next(t); len(bodies(t, r.body)) != 2 {
		t.Fatalf("%d messages", len(bodies(t, r.body)))
	}
	cnt := h.r.Counters()
	if cnt.Gets() != 2 || cnt.GroupGet(GroupTopic{Group: "g1", Topic: testTopic}) != 2 {
		t.Fatalf("gets %d, group g1 %d; want 2 and 2", cnt.Gets(), cnt.GroupGet(GroupTopic{Group: "g1", Topic: testTopic}))
	}
}

// TestPullAnswerAllocatesNothing: a pull answered with a message from a real
// commit log and consume queue costs no allocation once pools are warm: the
// request is pooled, the header map goes back to the decoder's pool, the
// answer's header is encoded from the stack into a pooled frame and the body
// is the mapped record itself. On a SYNC_FLUSH broker with the queue's
// newest unit not flushed, finding the served max (flushed.go) reads units
// into the scan's buffer.
func TestPullAnswerAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops pooled items at random under the race detector")
	}
	for _, tt := range []struct {
		name      string
		flushType config.FlushType
	}{{"async flush", config.FlushAsync}, {"sync flush, newest unit not flushed", config.FlushSync}} {
		t.Run(tt.name, func(t *testing.T) {
			p := newPullBench(t, tt.flushType)
			p.store(t, 0)
			p.flush()
			p.store(t, 1)
			testkit.Eventually(t, "the units stored", func() bool { return p.cq.MaxOffset() == 2 })
			want := 2
			if tt.flushType == config.FlushSync {
				want = 1
			}
			conn := &benchConn{codes: make(chan int32, 1)}
			ext := map[string]string{
				"consumerGroup": "CG_bench", "topic": p.key.Topic, "queueId": "0", "queueOffset": "0",
				"maxMsgNums": "32", "sysFlag": strconv.Itoa(int(pullFlagSuspend | pullFlagSubscription)),
				"commitOffset": "0", "suspendTimeoutMillis": "20000", "subscription": "*", "subVersion": "0",
				"expressionType": "TAG",
			}
			cmd := remoting.NewRequest(remoting.ReqPullMessage, ext, nil)
			pull := func() {
				cmd.ExtFields = ext // the handler hands the map back (a caller-built one is not recycled)
				p.r.handlePull(conn, cmd)
				if code := <-conn.codes; code != remoting.RespSuccess {
					t.Fatalf("answered %d", code)
				}
			}
			pull()
			if got := p.r.ServedMaxOffset(p.key.Topic, 0); got != int64(want) {
				t.Fatalf("served max offset %d, want %d", got, want)
			}
			if n := testing.AllocsPerRun(100, pull); n != 0 {
				t.Fatalf("a pull allocates %.2f times", n)
			}
		})
	}
}
