package writer

import (
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/queue"
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/sim/faultfs"
	"github.com/actormq/actormq/storage/commitlog"
	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// storeHarness runs the writer on a real store kept on faultfs.
type storeHarness struct {
	*harness
	fs *faultfs.FS
	st *store.Store
}

func newStoreHarness(t *testing.T, flush config.FlushType) *storeHarness {
	t.Helper()
	return newStoreHarnessProbing(t, flush, 5*time.Millisecond)
}

// newStoreHarnessProbing is newStoreHarness with the disk-full probe
// interval probe.
func newStoreHarnessProbing(t *testing.T, flush config.FlushType, probe time.Duration) *storeHarness {
	t.Helper()
	fs := faultfs.New(1)
	st, err := store.Open(store.Config{RootDir: "/store", CommitLogFileSize: 4096, CQFileSize: 20 * 64, FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := &harness{disp: &fakeDispatcher{units: map[store.QueueKey][]queue.Unit{}},
		conn: &fakeConn{ch: make(chan *remoting.Command, 4096)}}
	w, err := Spawn(testkit.ActorSystem(t), Config{
		Broker: config.Broker{BrokerIP1: "127.0.0.1", ListenPort: 10911, FlushDiskType: flush,
			FlushIntervalCommitLog: 10 * time.Millisecond, SyncFlushTimeout: 5 * time.Second},
		Store: st, Dispatcher: h.disp, DiskFullProbeInterval: probe,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Stop(testkit.Context(t)) })
	h.w = w
	return &storeHarness{harness: h, fs: fs, st: st}
}

// ENOSPC: the failing send and every later one get SERVICE_NOT_AVAILABLE,
// the writer reports DiskFull (the send precheck refuses on it), and once
// space returns the probe makes it writable again, with queue offsets that
// continue without a gap and every stored record whole.
func TestDiskFullRefusesUntilSpaceReturns(t *testing.T) {
	h := newStoreHarness(t, config.FlushSync)
	h.fs.SetCapacity(3 * 4096)
	body := string(make([]byte, 700))
	stored := 0
	for opaque := int32(1); ; opaque++ {
		if opaque > 100 {
			t.Fatal("the disk never filled")
		}
		h.w.Submit(h.appendReq(opaque, "", body))
		r := h.conn.next(t)
		if r.Code == remoting.RespServiceNotAvailable {
			break
		}
		if r.Code != remoting.RespSuccess {
			t.Fatalf("send %d: code %d %s", opaque, r.Code, r.Remark)
		}
		if got := extInt(t, r, "queueOffset"); got != int64(stored) {
			t.Fatalf("queueOffset %d, want %d", got, stored)
		}
		stored++
	}
	if !h.w.DiskFull() {
		t.Fatal("DiskFull is false after ENOSPC")
	}
	// Refused at once, and no probe succeeds while the disk stays full.
	h.w.Submit(h.appendReq(500, "", body))
	if r := h.conn.next(t); r.Code != remoting.RespServiceNotAvailable {
		t.Fatalf("send while full: code %d", r.Code)
	}
	probes := h.fs.Ops()
	testkit.Eventually(t, "a probe", func() bool { return h.fs.Ops() > probes })
	if !h.w.DiskFull() {
		t.Fatal("a probe on a full disk cleared DiskFull")
	}

	h.fs.SetCapacity(0)
	testkit.Eventually(t, "the writer to accept sends again", func() bool { return !h.w.DiskFull() })
	h.w.Submit(h.appendReq(600, "", body))
	r := h.conn.next(t)
	if r.Code != remoting.RespSuccess || extInt(t, r, "queueOffset") != int64(stored) {
		t.Fatalf("send after space returned: code %d queueOffset %s", r.Code, r.ExtFields["queueOffset"])
	}
	units := h.disp.get(testKey)
	if len(units) != stored+1 {
		t.Fatalf("%d units dispatched, want %d", len(units), stored+1)
	}
	for i, u := range units {
		if u.QueueOffset != int64(i) {
			t.Fatalf("unit %d has queue offset %d", i, u.QueueOffset)
		}
		rec, err := h.st.CommitLog.ReadMessage(u.PhysOffset)
		if err != nil || len(rec.Body) != len(body) {
			t.Fatalf("record of unit %d: %v", i, err)
		}
	}
	for _, e := range h.fs.Events() {
		if e.Kind == faultfs.KindUnbackedWrite {
			t.Fatalf("a mapped store had no space behind it: %v", e)
		}
	}
}

// A failed fsync is never answered SUCCESS, and is not retried: waiters get
// FLUSH_DISK_TIMEOUT, later sends SERVICE_NOT_AVAILABLE, and no further
// msync reaches the disk.
func TestFailedFsyncIsFatalForWriting(t *testing.T) {
	h := newStoreHarness(t, config.FlushSync)
	h.w.Submit(h.appendReq(1, "", "before"))
	if r := h.conn.next(t); r.Code != remoting.RespSuccess {
		t.Fatalf("first send: code %d", r.Code)
	}
	h.fs.Inject(faultfs.Rule{Ops: faultfs.OpMsync, Path: "commitlog", Kind: faultfs.KindEIO})
	h.w.Submit(h.appendReq(2, "", "lost fsync"))
	if r := h.conn.next(t); r.Code != remoting.RespFlushDiskTimeout {
		t.Fatalf("send whose fsync failed: code %d, want FLUSH_DISK_TIMEOUT", r.Code)
	}
	for opaque := int32(3); opaque < 6; opaque++ {
		h.w.Submit(h.appendReq(opaque, "", "after"))
		if r := h.conn.next(t); r.Code != remoting.RespServiceNotAvailable {
			t.Fatalf("send after a failed fsync: code %d, want SERVICE_NOT_AVAILABLE", r.Code)
		}
	}
	if _, err := h.st.CommitLog.Flush(); err == nil {
		t.Fatal("Flush succeeded after a failed fsync")
	}
	// The rule stays armed: a retried msync would fail again and be logged.
	if n := len(h.fs.Events()); n != 1 {
		t.Fatalf("%d failed msyncs: the failed fsync was retried", n)
	}
	// The record whose fsync failed must not be readable as durable: the
	// flushed position never passed it.
	if h.st.CommitLog.FlushedPosition() >= h.st.CommitLog.WrotePosition() {
		t.Fatal("the flushed position covers the record whose fsync failed")
	}
}

// ProbeNow (the cleaner's call after it deleted files) makes a commit log
// that found no space writable again at once, without the probe timer
// (an hour here); while the disk stays full it changes nothing.
func TestProbeNowAcceptsSendsOnceSpaceReturns(t *testing.T) {
	h := newStoreHarnessProbing(t, config.FlushSync, time.Hour)
	h.fs.SetCapacity(3 * 4096)
	body := string(make([]byte, 700))
	for opaque := int32(1); ; opaque++ {
		if opaque > 100 {
			t.Fatal("the disk never filled")
		}
		h.w.Submit(h.appendReq(opaque, "", body))
		if r := h.conn.next(t); r.Code == remoting.RespServiceNotAvailable {
			break
		}
	}
	if !h.w.DiskFull() {
		t.Fatal("DiskFull is false after ENOSPC")
	}
	ops := h.fs.Ops()
	h.w.ProbeNow()
	testkit.Eventually(t, "the probe ProbeNow asked for", func() bool { return h.fs.Ops() > ops })
	if !h.w.DiskFull() {
		t.Fatal("a probe on a full disk cleared DiskFull")
	}
	h.fs.SetCapacity(0)
	h.w.ProbeNow()
	testkit.Eventually(t, "the writer to accept sends again", func() bool { return !h.w.DiskFull() })
	h.w.Submit(h.appendReq(500, "", body))
	if r := h.conn.next(t); r.Code != remoting.RespSuccess {
		t.Fatalf("send after space returned: code %d %s", r.Code, r.Remark)
	}
}

// A sticky consume-queue failure (Config.QueuesError) refuses broker-built
// Puts with that error, answered SERVICE_NOT_AVAILABLE, and WriteError
// (the send precheck) reports it; nothing reaches the commit log.
func TestQueuesErrorRefusesPuts(t *testing.T) {
	var qerr atomic.Pointer[error]
	h := newHarness(t, func(c *Config) {
		c.QueuesError = func() error {
			if p := qerr.Load(); p != nil {
				return *p
			}
			return nil
		}
	}, nil)
	put := func() PutResult {
		done := make(chan PutResult, 1)
		h.w.Put(&message.Message{Topic: testKey.Topic, QueueID: testKey.QueueID, Body: []byte("put"),
			BornHost: netip.MustParseAddrPort("127.0.0.1:10911")}, 0, true, func(r PutResult) { done <- r })
		return <-done
	}
	if r := put(); r.Err != nil || h.w.WriteError() != nil {
		t.Fatalf("Put before the failure: %v, WriteError %v", r.Err, h.w.WriteError())
	}
	wrote := h.log.WrotePosition()
	failure := fmt.Errorf("%w: injected", consumequeue.ErrNotWritable)
	qerr.Store(&failure)
	if r := put(); r.Err != failure || reply.CodeOf(r.Err) != remoting.RespServiceNotAvailable {
		t.Fatalf("Put after the failure: %v (code %d), want the failure, SERVICE_NOT_AVAILABLE", r.Err, reply.CodeOf(r.Err))
	}
	if err := h.w.WriteError(); err != failure {
		t.Fatalf("WriteError %v, want %v", err, failure)
	}
	if got := h.log.WrotePosition(); got != wrote {
		t.Fatalf("commit log written to %d after a refused Put, want %d", got, wrote)
	}
}

// ProbeNow calls while the disk stays full add no probe timers: the probe
// each one runs finds no space and would arm a timer of its own, so n
// calls made n timer chains, each probing every interval from then on.
// One timer is armed at a time; once it fires, its probe arms the next.
func TestProbeNowWhileFullArmsOneTimer(t *testing.T) {
	var probes atomic.Int64
	var mu sync.Mutex
	var ticks []func() // armed timers, fired by the test
	deps := storeDeps{
		log: &fakeLog{},
		probe: func() error {
			probes.Add(1)
			return commitlog.ErrDiskFull
		},
		afterFunc: func(_ time.Duration, f func()) {
			mu.Lock()
			defer mu.Unlock()
			ticks = append(ticks, f)
		},
	}
	armed := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(ticks)
	}
	w, err := spawn(testkit.ActorSystem(t), Config{
		Broker: config.Broker{BrokerIP1: "127.0.0.1", ListenPort: 10911, FlushDiskType: config.FlushAsync,
			FlushIntervalCommitLog: 10 * time.Millisecond, SyncFlushTimeout: 5 * time.Second},
		Dispatcher: &fakeDispatcher{units: map[store.QueueKey][]queue.Unit{}}, DiskFullProbeInterval: time.Second,
	}, deps)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Stop(testkit.Context(t)) })
	// The probe at start finds the disk full and arms the timer.
	testkit.Eventually(t, "the probe at start", func() bool { return w.DiskFull() && armed() == 1 })
	for range 10 {
		w.ProbeNow()
	}
	testkit.Eventually(t, "the ten probes ProbeNow asked for", func() bool { return probes.Load() == 11 })
	if n := armed(); n != 1 {
		t.Fatalf("%d probe timers armed after 10 ProbeNow calls on a full disk, want 1", n)
	}
	mu.Lock()
	fire := ticks[0]
	mu.Unlock()
	fire()
	testkit.Eventually(t, "the timer's probe to arm the next", func() bool { return probes.Load() == 12 && armed() == 2 })
	if !w.DiskFull() {
		t.Fatal("a probe on a full disk cleared DiskFull")
	}
}
