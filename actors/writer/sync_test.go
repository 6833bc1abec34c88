package writer

import (
	"errors"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/queue"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/remoting"
)

// stepLog is fakeLog with each flush under the test's control and run as
// the commit log runs it: a flush covers what was written when it started,
// and a failure is sticky (later flushes fail at once).
type stepLog struct {
	*fakeLog
	started chan int64 // the write position each flush started at
	release chan error // one per flush: nil succeeds, else it fails
}

func (l *stepLog) Flush() (int64, error) {
	l.mu.Lock()
	to, sticky := l.committed, l.flushErr
	l.mu.Unlock()
	if sticky != nil {
		return l.FlushedPosition(), sticky
	}
	l.started <- to
	err := <-l.release
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushes++
	if err != nil {
		l.flushErr = err
		return l.flushed, err
	}
	l.flushed = max(l.flushed, to)
	return l.flushed, nil
}

// newStepHarness is a SYNC_FLUSH writer on a stepLog whose flush timer and
// waiter timeout never fire during a test: every flush is the syncer's own.
func newStepHarness(t *testing.T) (*harness, *stepLog) {
	t.Helper()
	log := &stepLog{fakeLog: &fakeLog{}, started: make(chan int64, 16), release: make(chan error, 16)}
	t.Cleanup(func() { close(log.release) }) // lets a flush still waiting finish
	h := &harness{log: log.fakeLog, disp: &fakeDispatcher{units: map[store.QueueKey][]queue.Unit{}},
		conn: &fakeConn{ch: make(chan *remoting.Command, 64)}}
	cfg := Config{
		Broker: config.Broker{BrokerIP1: "127.0.0.1", ListenPort: 10911, FlushDiskType: config.FlushSync,
			FlushIntervalCommitLog: time.Hour, SyncFlushTimeout: 4 * time.Hour},
		Dispatcher: h.disp,
	}
	w, err := spawn(testkit.ActorSystem(t), cfg, storeDeps{log: log, checkpoint: func(int64, int64) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	h.w = w
	return h, log
}

// TestSyncFlushAnswersAfterCoveringFlush: a waiter is answered only once a
// flush that started after its append (so covers its record) returned, and
// the syncer starts the flush for records appended during the previous one
// by itself, before their batch's waiters are answered.
func TestSyncFlushAnswersAfterCoveringFlush(t *testing.T) {
	h, log := newStepHarness(t)
	h.w.Submit(h.appendReq(1, "", "first"))
	if at := testkit.Receive(t, log.started, "flush 1"); at != log.WrotePosition() {
		t.Fatalf("flush 1 started at %d, first record ends at %d", at, log.WrotePosition())
	}
	endFirst := log.WrotePosition()
	h.w.Submit(h.appendReq(2, "", "second"))
	testkit.Eventually(t, "second appended", func() bool { return len(h.disp.get(testKey)) == 2 })
	h.conn.none(t) // flush 1 has not returned

	log.release <- nil
	if r := h.conn.next(t); r.Opaque != 1 || r.Code != remoting.RespSuccess {
		t.Fatalf("after flush 1: opaque %d code %d", r.Opaque, r.Code)
	}
	if at := testkit.Receive(t, log.started, "flush 2"); at <= endFirst {
		t.Fatalf("flush 2 started at %d, not past the first record's end %d", at, endFirst)
	}
	h.conn.none(t) // the second send waits for flush 2
	log.release <- nil
	if r := h.conn.next(t); r.Opaque != 2 || r.Code != remoting.RespSuccess {
		t.Fatalf("after flush 2: opaque %d code %d", r.Opaque, r.Code)
	}
	if log.FlushedPosition() != log.WrotePosition() {
		t.Fatalf("flushed %d, wrote %d", log.FlushedPosition(), log.WrotePosition())
	}
}

// TestSyncFlushFailureIsSticky: the waiters of a failed flush are answered
// FLUSH_DISK_TIMEOUT (their messages are stored), and so is every later
// send, at once, without another flush reaching the disk.
func TestSyncFlushFailureIsSticky(t *testing.T) {
	h, log := newStepHarness(t)
	h.w.Submit(h.appendReq(1, "", "ok"))
	testkit.Receive(t, log.started, "flush 1")
	log.release <- nil
	if r := h.conn.next(t); r.Code != remoting.RespSuccess {
		t.Fatalf("flushed send: code %d", r.Code)
	}
	h.w.Submit(h.appendReq(2, "", "lost"))
	testkit.Receive(t, log.started, "flush 2")
	log.release <- errors.New("EIO")
	if r := h.conn.next(t); r.Opaque != 2 || r.Code != remoting.RespFlushDiskTimeout || r.ExtFields["msgId"] == "" {
		t.Fatalf("failed flush: opaque %d code %d ext %v", r.Opaque, r.Code, r.ExtFields)
	}
	h.w.Submit(h.appendReq(3, "", "after"))
	if r := h.conn.next(t); r.Opaque != 3 || r.Code != remoting.RespFlushDiskTimeout {
		t.Fatalf("after the failure: opaque %d code %d", r.Opaque, r.Code)
	}
	select {
	case at := <-log.started:
		t.Fatalf("a flush at %d reached the disk after the failure", at)
	default:
	}
}

// TestFlushActorBatchAfterItsFlush: the syncer flushes whatever is
// written, so its flushDone can reach the flush actor before the batchDone
// of the records it covered. Those waiters are answered SUCCESS when their
// batch arrives, later ones wait, and after a failure a new batch's
// waiters are answered FLUSH_DISK_TIMEOUT at once. The flush actor is
// driven directly, its messages in that order.
func TestFlushActorBatchAfterItsFlush(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Broker.FlushDiskType = config.FlushSync }, nil)
	waiter := func(opaque int32, end int64) *Append {
		p := NewAppend(1)
		p.Conn, p.Req, p.Key = h.conn, &remoting.Command{Opaque: opaque}, testKey
		p.phys, p.end = end-100, end
		return p
	}
	f := newFlushActor(h.w, 0, 0)
	f.onFlushed(1000, nil)
	f.onBatch(&batchDone{end: 1200, storeTimestamp: 1, waiters: []*Append{waiter(1, 900), waiter(2, 1200)}})
	if r := h.conn.next(t); r.Opaque != 1 || r.Code != remoting.RespSuccess {
		t.Fatalf("covered waiter: opaque %d code %d", r.Opaque, r.Code)
	}
	h.conn.none(t)
	if len(f.waiters) != 1 || f.waiters[0].end != 1200 {
		t.Fatalf("%d waiters left", len(f.waiters))
	}
	f.onFlushed(1000, errors.New("EIO"))
	if r := h.conn.next(t); r.Opaque != 2 || r.Code != remoting.RespFlushDiskTimeout {
		t.Fatalf("waiter of the failed flush: opaque %d code %d", r.Opaque, r.Code)
	}
	f.onBatch(&batchDone{end: 1300, storeTimestamp: 2, waiters: []*Append{waiter(3, 1300)}})
	if r := h.conn.next(t); r.Opaque != 3 || r.Code != remoting.RespFlushDiskTimeout {
		t.Fatalf("waiter after the failure: opaque %d code %d", r.Opaque, r.Code)
	}
	if len(f.waiters) != 0 {
		t.Fatalf("%d waiters left", len(f.waiters))
	}
}
