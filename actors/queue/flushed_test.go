package queue

import (
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/remoting"
)

func syncFlush(c *Config) { c.Broker.FlushDiskType = config.FlushSync }

// unitEnd is where the record of key's unit at off ends in the fake log.
func (h *harness) unitEnd(t *testing.T, key store.QueueKey, off int64) int64 {
	t.Helper()
	q := h.queue(key)
	q.mu.Lock()
	defer q.mu.Unlock()
	u := q.units[off]
	return u.CommitLogOffset + int64(u.Size)
}

// barrier returns once key's queue actor handled everything sent to it
// before (a time lookup goes through its mailbox).
func (h *harness) barrier(t *testing.T, key store.QueueKey) {
	t.Helper()
	c := newFakeConn()
	ext := map[string]string{"topic": key.Topic, "queueId": strconv.Itoa(int(key.QueueID))}
	h.r.handleTimeLookup(c, remoting.NewRequest(remoting.ReqGetEarliestMsgStoreTime, ext, nil), lookupEarliest)
	c.next(t)
}

// answerOf pulls once (no suspension) and returns the answer.
func (h *harness) answerOf(t *testing.T, cmd *remoting.Command) response {
	t.Helper()
	c := newFakeConn()
	h.r.handlePull(c, cmd)
	return c.next(t)
}

// checkPull asserts an answer's code, bodies and offsets.
func checkPull(t *testing.T, r response, code int32, msgs []string, next, maxOff int64) {
	t.Helper()
	if r.cmd.Code != code {
		t.Fatalf("code %d (%s), want %d", r.cmd.Code, r.cmd.Remark, code)
	}
	got := bodies(t, r.body)
	if fmt.Sprint(got) != fmt.Sprint(msgs) {
		t.Fatalf("messages %q, want %q", got, msgs)
	}
	if n := ext(t, r.cmd, "nextBeginOffset"); n != next {
		t.Fatalf("nextBeginOffset %d, want %d", n, next)
	}
	if m := ext(t, r.cmd, "maxOffset"); m != maxOff {
		t.Fatalf("maxOffset %d, want %d", m, maxOff)
	}
}

// pullPaths runs a test on both pull paths: answered on the loop when it
// can be, and always by the queue actor.
var pullPaths = []struct {
	name   string
	mutate func(*Config)
}{
	{"loop", func(*Config) {}},
	{"queue actor", func(c *Config) { c.LoopReadBytes = -1 }},
}

// TestSyncFlushServesOnlyFlushed: on a SYNC_FLUSH broker a pull serves the
// units whose records are flushed and nothing after them; the offsets a
// consumer sees (maxOffset, GET_MAX_OFFSET, a search past every message,
// the nextBeginOffset of PULL_NOT_FOUND and PULL_OFFSET_MOVED) stop at the
// first unflushed unit; the rest is served once the flush covers it.
func TestSyncFlushServesOnlyFlushed(t *testing.T) {
	for _, p := range pullPaths {
		t.Run(p.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { syncFlush(c); p.mutate(c) })
			h.send(t, q0, "", "", "")
			h.log.flushTo(h.unitEnd(t, q0, 0))

			checkPull(t, h.answerOf(t, pullCmd("g1", 0, 0, 0, 0, "")), remoting.RespSuccess, []string{"body-0-"}, 1, 1)
			checkPull(t, h.answerOf(t, pullCmd("g1", 0, 1, 0, 0, "")), remoting.RespPullNotFound, nil, 1, 1)
			checkPull(t, h.answerOf(t, pullCmd("g1", 0, 3, 0, 0, "")), remoting.RespPullNotFound, nil, 3, 1)
			checkPull(t, h.answerOf(t, pullCmd("g1", 0, 9, 0, 0, "")), remoting.RespPullOffsetMoved, nil, 1, 1)
			if got := h.r.ServedMaxOffset(testTopic, 0); got != 1 {
				t.Fatalf("ServedMaxOffset %d, want 1", got)
			}
			if got := h.r.MaxOffset(testTopic, 0); got != 3 {
				t.Fatalf("MaxOffset %d, want 3 (broker-internal readers see every unit)", got)
			}
			c := newFakeConn()
			h.r.handleMaxOffset(c, remoting.NewRequest(remoting.ReqGetMaxOffset, map[string]string{"topic": testTopic, "queueId": "0"}, nil))
			if got := ext(t, c.next(t).cmd, "offset"); got != 1 {
				t.Fatalf("GET_MAX_OFFSET %d, want 1", got)
			}
			if got := h.r.SearchOffset(testTopic, 0, time.Now().Add(time.Hour).UnixMilli()); got != 1 {
				t.Fatalf("SearchOffset past every message %d, want 1", got)
			}

			h.log.flushTo(h.log.WrotePosition())
			checkPull(t, h.answerOf(t, pullCmd("g1", 0, 1, 0, 0, "")), remoting.RespSuccess, []string{"body-1-", "body-2-"}, 3, 3)
		})
	}
}

// TestSyncFlushServedMaxOverFillers: fillers (the gap a failed Put left)
// point at no record; the served max offset treats them as the unit after
// them, so fillers before an unflushed unit never let a pull (or a consumer
// starting at the max offset) pass it, and fillers between flushed units
// do not stop it.
func TestSyncFlushServedMaxOverFillers(t *testing.T) {
	tests := []struct {
		name        string
		flushedUpTo int64 // queue offset of the last unit flushed
		wantMsgs    []string
		wantServed  int64
	}{
		{name: "fillers before an unflushed unit", flushedUpTo: 0, wantMsgs: []string{"body-0-"}, wantServed: 1},
		{name: "fillers between flushed units", flushedUpTo: 3, wantMsgs: []string{"body-0-", "body-3-"}, wantServed: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, syncFlush)
			h.send(t, q0, "")
			q := h.queue(q0)
			q.mu.Lock()
			q.units = append(q.units, consumequeue.Unit{Size: consumequeue.FillerSize}, consumequeue.Unit{Size: consumequeue.FillerSize})
			q.mu.Unlock()
			h.next[q0] = 3
			h.send(t, q0, "", "") // units 3 and 4
			h.log.flushTo(h.unitEnd(t, q0, tt.flushedUpTo))
			if got := h.r.ServedMaxOffset(testTopic, 0); got != tt.wantServed {
				t.Fatalf("ServedMaxOffset %d, want %d", got, tt.wantServed)
			}
			checkPull(t, h.answerOf(t, pullCmd("g1", 0, 0, 0, 0, "")), remoting.RespSuccess, tt.wantMsgs, tt.wantServed, tt.wantServed)
		})
	}
}

// TestAsyncFlushServesUnflushed: an ASYNC_FLUSH broker serves units as soon
// as they are dispatched, flushed or not.
func TestAsyncFlushServesUnflushed(t *testing.T) {
	for _, p := range pullPaths {
		t.Run(p.name, func(t *testing.T) {
			h := newHarness(t, p.mutate)
			h.send(t, q0, "", "", "")
			checkPull(t, h.answerOf(t, pullCmd("g1", 0, 0, 0, 0, "")), remoting.RespSuccess,
				[]string{"body-0-", "body-1-", "body-2-"}, 3, 3)
			if got := h.r.ServedMaxOffset(testTopic, 0); got != 3 {
				t.Fatalf("ServedMaxOffset %d, want 3", got)
			}
		})
	}
}

// TestSyncFlushWakesHeldPull: a held pull whose unit is dispatched but not
// flushed stays held, and the flush's WakeFlushed answers it, whether the
// pull came before the dispatch or after it.
func TestSyncFlushWakesHeldPull(t *testing.T) {
	tests := []struct {
		name       string
		pullFirst  bool
		pathMutate func(*Config)
	}{
		{name: "pull held before the dispatch", pullFirst: true},
		{name: "pull after the dispatch", pullFirst: false},
		{name: "pull after the dispatch, loop answers off", pullFirst: false, pathMutate: func(c *Config) { c.LoopReadBytes = -1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) {
				syncFlush(c)
				if tt.pathMutate != nil {
					tt.pathMutate(c)
				}
			})
			h.send(t, q0, "")
			h.log.flushTo(h.log.WrotePosition())
			c := newFakeConn()
			if tt.pullFirst {
				h.r.handlePull(c, pullCmd("g1", 0, 1, pullFlagSuspend, 20*time.Second, ""))
				testkit.Eventually(t, "the pull held", func() bool { return h.heldCount() == 1 })
				h.send(t, q0, "A")
			} else {
				h.send(t, q0, "A")
				h.r.handlePull(c, pullCmd("g1", 0, 1, pullFlagSuspend, 20*time.Second, ""))
			}
			h.barrier(t, q0)
			c.none(t)
			if n := h.heldCount(); n != 1 {
				t.Fatalf("%d pulls held, want 1", n)
			}

			h.r.WakeFlushed() // a flush that does not cover the unit answers nothing
			h.barrier(t, q0)
			c.none(t)

			h.log.flushTo(h.log.WrotePosition())
			h.r.WakeFlushed()
			checkPull(t, c.next(t), remoting.RespSuccess, []string{"body-1-A"}, 2, 2)
			testkit.Eventually(t, "nothing held", func() bool { return h.heldCount() == 0 })
		})
	}
}

// TestSyncFlushWakeupRacingTheRegistration: a flush (and its WakeFlushed)
// that lands after the queue actor read the flushed position but before it
// registered for a wake-up still answers the held pull: the actor sees the
// position moved when it registers.
func TestSyncFlushWakeupRacingTheRegistration(t *testing.T) {
	h := newHarness(t, syncFlush)
	h.send(t, q0, "")
	h.log.flushTo(h.log.WrotePosition())
	c := newFakeConn()
	h.r.handlePull(c, pullCmd("g1", 0, 1, pullFlagSuspend, 20*time.Second, ""))
	testkit.Eventually(t, "the pull held", func() bool { return h.heldCount() == 1 })
	// The dispatch's Put reads the position once before registering; the
	// flush lands right after that read.
	h.log.mu.Lock()
	h.log.afterRead = func() {
		h.log.flushTo(h.log.WrotePosition())
		h.r.WakeFlushed()
	}
	h.log.mu.Unlock()
	h.send(t, q0, "A")
	checkPull(t, c.next(t), remoting.RespSuccess, []string{"body-1-A"}, 2, 2)
}

// TestSyncFlushNoLostWakeup tails a SYNC_FLUSH queue with suspending pulls
// while one goroutine dispatches small batches (the writer) and another
// flushes whatever was written and calls WakeFlushed (the flush actor), so
// flushes race pulls being held: every pull must be answered by a flush
// that covers its offset (a lost wake-up leaves it held past the test's
// bound), and the consumer gets every message once, in order.
func TestSyncFlushNoLostWakeup(t *testing.T) {
	const total = 1000
	h := newHarness(t, syncFlush)
	h.send(t, q0, "")
	h.log.flushTo(h.log.WrotePosition())
	produced := h.dispatchSmallBatches(total)
	stop, flusherDone := make(chan struct{}), make(chan struct{})
	go func() { // the flush actor's role
		defer close(flusherDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if w := h.log.WrotePosition(); w > h.log.FlushedPosition() {
				h.log.flushTo(w)
				h.r.WakeFlushed()
			}
			runtime.Gosched()
		}
	}()
	defer func() {
		close(stop)
		<-flusherDone
	}()
	h.tail(t, total)
	testkit.Receive(t, produced, "the producer done")
	testkit.Eventually(t, "nothing held", func() bool { return h.heldCount() == 0 })
}

// TestPullSkipsRecordOfAnotherUnit: a unit whose record names another
// topic, queue id or queue offset (a flipped bit outside the body, which
// BODYCRC does not cover) is skipped, never served; the records around it
// are.
func TestPullSkipsRecordOfAnotherUnit(t *testing.T) {
	tests := []struct {
		name   string
		key    store.QueueKey
		offset int64
	}{
		{name: "topic", key: store.QueueKey{Topic: "TopicTesu", QueueID: 0}, offset: 1},
		{name: "queue id", key: store.QueueKey{Topic: testTopic, QueueID: 2}, offset: 1},
		{name: "queue offset", key: q0, offset: 7},
	}
	for _, tt := range tests {
		for _, p := range pullPaths {
			t.Run(tt.name+"/"+p.name, func(t *testing.T) {
				h := newHarness(t, p.mutate)
				h.send(t, q0, "")
				now := time.Now().UnixMilli()
				bad := h.log.append(tt.key, tt.offset, "", "bad", now)
				bad.QueueOffset = 1
				good := h.log.append(q0, 2, "", "body-2-", now)
				h.r.Dispatch(q0, []Unit{bad, good})
				testkit.Eventually(t, "dispatch", func() bool { return h.queue(q0).MaxOffset() == 3 })
				checkPull(t, h.answerOf(t, pullCmd("g1", 0, 0, 0, 0, "")), remoting.RespSuccess, []string{"body-0-", "body-2-"}, 3, 3)
				checkPull(t, h.answerOf(t, pullCmd("g1", 0, 1, 0, 0, "")), remoting.RespSuccess, []string{"body-2-"}, 3, 3)
			})
		}
	}
}
