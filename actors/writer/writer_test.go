package writer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/queue"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/commitlog"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/valyala/bytebufferpool"
)

// fakeLog is an in-memory commit log with injectable failures.
type fakeLog struct {
	mu        sync.Mutex
	data      []byte
	flushed   int64
	flushes   int
	appendErr error
	commitErr error // Commit fails with it, and WrotePosition stays
	committed int64 // end of the data Commit published
	flushErr  error
	block     chan struct{} // when set, Flush waits for it to close
}

func (l *fakeLog) Commit() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.commitErr != nil {
		return l.commitErr
	}
	l.committed = int64(len(l.data))
	return nil
}

// StageRun stores every whole record of recs, with consecutive queue
// offsets, as the real log's runs within a segment (its runs that stop at a
// segment end or a malformed record are TestStageRunMatchesStage's, in
// storage/commitlog).
func (l *fakeLog) StageRun(recs []byte, qo, ts int64) (int64, int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.appendErr != nil {
		return 0, 0, l.appendErr
	}
	first := int64(len(l.data))
	staged := 0
	for rest := recs; len(rest) >= 4; {
		size := int(binary.BigEndian.Uint32(rest))
		if size < 4 || size > len(rest) {
			break
		}
		phys := int64(len(l.data))
		l.data = append(l.data, rest[:size]...)
		message.PatchStored(l.data[phys:], qo, phys, ts)
		qo++
		staged += size
		rest = rest[size:]
	}
	return first, staged, nil
}

func (l *fakeLog) Flush() (int64, error) {
	l.mu.Lock()
	block := l.block
	l.mu.Unlock()
	if block != nil {
		<-block
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushes++
	if l.flushErr != nil {
		return l.flushed, l.flushErr
	}
	l.flushed = l.committed
	return l.flushed, nil
}

func (l *fakeLog) WrotePosition() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.committed
}

func (l *fakeLog) FlushedPosition() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.flushed
}

func (l *fakeLog) set(f func(l *fakeLog)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f(l)
}

// fakeDispatcher records dispatched units per queue.
type fakeDispatcher struct {
	mu    sync.Mutex
	units map[store.QueueKey][]queue.Unit
}

func (d *fakeDispatcher) Dispatch(k store.QueueKey, units []queue.Unit) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.units[k] = append(d.units[k], units...)
}

func (d *fakeDispatcher) get(k store.QueueKey) []queue.Unit {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]queue.Unit(nil), d.units[k]...)
}

type fakeConn struct{ ch chan *remoting.Command }

func (c *fakeConn) Write(cmd *remoting.Command) error { c.ch <- cmd; return nil }

// WriteFrame decodes the frame as a client would, so the tests check the
// encoded success answer.
func (c *fakeConn) WriteFrame(frame *bytebufferpool.ByteBuffer) error {
	cmd, err := remoting.DecodeFrame(frame.B)
	remoting.ReleaseOutFrame(frame)
	if err != nil {
		return err
	}
	c.ch <- cmd
	return nil
}

func (c *fakeConn) next(t *testing.T) *remoting.Command {
	t.Helper()
	return testkit.Receive(t, c.ch, "a response")
}

func (c *fakeConn) none(t *testing.T) {
	t.Helper()
	select {
	case r := <-c.ch:
		t.Fatalf("unexpected response code %d", r.Code)
	default:
	}
}

type harness struct {
	w    *Writer
	log  *fakeLog
	disp *fakeDispatcher
	conn *fakeConn
	ckpt chan [2]int64
}

func newHarness(t *testing.T, mutate func(*Config), offsets map[store.QueueKey]int64) *harness {
	t.Helper()
	sys := testkit.ActorSystem(t)
	h := &harness{log: &fakeLog{}, disp: &fakeDispatcher{units: map[store.QueueKey][]queue.Unit{}},
		conn: &fakeConn{ch: make(chan *remoting.Command, 4096)}, ckpt: make(chan [2]int64, 100)}
	cfg := Config{
		Broker: config.Broker{BrokerIP1: "127.0.0.1", ListenPort: 10911, RegionID: "DefaultRegion", TraceOn: true,
			FlushDiskType: config.FlushAsync, FlushIntervalCommitLog: 10 * time.Millisecond, SyncFlushTimeout: 5 * time.Second},
		Dispatcher:      h.disp,
		LogicsTimestamp: func() int64 { return 7 },
	}
	if mutate != nil {
		mutate(&cfg)
	}
	w, err := spawn(sys, cfg, storeDeps{log: h.log, queueOffsets: offsets, checkpoint: func(p, l int64) error {
		select {
		case h.ckpt <- [2]int64{p, l}:
		default:
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	h.w = w
	return h
}

var testKey = store.QueueKey{Topic: "TopicTest", QueueID: 1}

// appendReq builds a Batch holding one Append of one record per body.
func (h *harness) appendReq(opaque int32, props string, bodies ...string) *Batch {
	a := NewAppend(len(bodies))
	a.Conn, a.Req, a.Key, a.ReplyQueueID = h.conn, &remoting.Command{Opaque: opaque}, testKey, testKey.QueueID
	a.UniqKey, _ = message.PropertyValue(props, message.PropertyUniqKey)
	wait, _ := message.PropertyValue(props, message.PropertyWait)
	a.NoWait = wait == "false"
	b := NewBatch()
	host := netip.MustParseAddrPort("127.0.0.1:10911")
	for i, body := range bodies {
		m := message.Message{QueueID: testKey.QueueID, BornHost: host, StoreHost: host, Body: []byte(body), Topic: testKey.Topic, Properties: props}
		b.Records.B = message.AppendRecord(b.Records.B, &m)
		a.Tags[i] = int64(len(body))
	}
	b.Add(a)
	return b
}

func extInt(t *testing.T, cmd *remoting.Command, key string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(cmd.ExtFields[key], 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", key, cmd.ExtFields[key], err)
	}
	return n
}

// TestAsyncAppend checks single and batch appends: queue offsets seeded from
// the store, consecutive within a batch, comma-joined msgIds, the response
// header, dispatched units and the stored (patched) records.
func TestAsyncAppend(t *testing.T) {
	h := newHarness(t, nil, map[store.QueueKey]int64{testKey: 5})
	h.w.Submit(h.appendReq(1, "UNIQ_KEY\x01ABC\x02", "one"))
	r := h.conn.next(t)
	if r.Code != remoting.RespSuccess || r.Opaque != 1 || !r.IsResponse() {
		t.Fatalf("code %d opaque %d", r.Code, r.Opaque)
	}
	host := h.w.StoreHost()
	want := map[string]string{"msgId": message.OffsetMsgID(host, 0), "queueId": "1", "queueOffset": "5",
		"transactionId": "ABC", "MSG_REGION": "DefaultRegion", "TRACE_ON": "true"}
	for k, v := range want {
		if r.ExtFields[k] != v {
			t.Errorf("%s=%q, want %q", k, r.ExtFields[k], v)
		}
	}
	first := h.log.WrotePosition()
	h.w.Submit(h.appendReq(2, "", "a", "bb", "ccc"))
	r = h.conn.next(t)
	if r.Code != remoting.RespSuccess || extInt(t, r, "queueOffset") != 6 {
		t.Fatalf("batch: code %d queueOffset %s", r.Code, r.ExtFields["queueOffset"])
	}
	ids := strings.Split(r.ExtFields["msgId"], ",")
	if len(ids) != 3 || ids[0] != message.OffsetMsgID(host, first) {
		t.Fatalf("msgIds %q", ids)
	}
	if _, ok := r.ExtFields["transactionId"]; ok {
		t.Error("batch without UNIQ_KEY has a transactionId")
	}
	units := h.disp.get(testKey)
	if len(units) != 4 {
		t.Fatalf("%d units", len(units))
	}
	h.log.mu.Lock()
	defer h.log.mu.Unlock()
	for i, u := range units {
		if u.QueueOffset != int64(5+i) {
			t.Errorf("unit %d queue offset %d", i, u.QueueOffset)
		}
		m, _, err := message.DecodeRecord(h.log.data[u.PhysOffset:u.PhysOffset+int64(u.Size)], true)
		if err != nil {
			t.Fatal(err)
		}
		if m.QueueOffset != u.QueueOffset || m.PhysicalOffset != u.PhysOffset || m.StoreTimestamp != u.StoreTimestamp {
			t.Errorf("record %d not patched: %+v", i, m)
		}
		if i > 0 && ids[i-1] != message.OffsetMsgID(host, u.PhysOffset) {
			t.Errorf("msgId %d = %s", i-1, ids[i-1])
		}
		if u.TagsCode != int64(len(m.Body)) {
			t.Errorf("unit %d tags code %d", i, u.TagsCode)
		}
	}
}

// TestSyncFlushGroupCommit: SYNC_FLUSH answers every waiter after one flush
// covering it; WAIT=false is answered without waiting.
func TestSyncFlushGroupCommit(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Broker.FlushDiskType = config.FlushSync }, nil)
	gate := make(chan struct{})
	h.log.set(func(l *fakeLog) { l.block = gate })
	// The first flush blocks; everything after it joins one group commit.
	h.w.Submit(h.appendReq(0, "", "first"))
	testkit.Eventually(t, "first append", func() bool { return h.log.WrotePosition() > 0 })
	h.w.Submit(h.appendReq(1, "WAIT\x01false\x02", "nowait"))
	if r := h.conn.next(t); r.Opaque != 1 || r.Code != remoting.RespSuccess {
		t.Fatalf("WAIT=false answered %d code %d", r.Opaque, r.Code)
	}
	const waiters = 50
	for i := 0; i < waiters; i++ {
		h.w.Submit(h.appendReq(int32(100+i), "", "x"))
	}
	testkit.Eventually(t, "all appended", func() bool { return len(h.disp.get(testKey)) == waiters+2 })
	h.conn.none(t)
	close(gate)
	seen := map[int32]bool{}
	for i := 0; i < waiters+1; i++ {
		r := h.conn.next(t)
		if r.Code != remoting.RespSuccess {
			t.Fatalf("opaque %d code %d", r.Opaque, r.Code)
		}
		seen[r.Opaque] = true
	}
	if len(seen) != waiters+1 {
		t.Fatalf("%d distinct answers", len(seen))
	}
	h.log.mu.Lock()
	flushes := h.log.flushes
	h.log.mu.Unlock()
	if flushes > 3 {
		t.Fatalf("%d flushes for 2 group commits", flushes)
	}
}

// TestSyncFlushTimeout answers FLUSH_DISK_TIMEOUT (message stored, full
// header) when the flush does not come back within SyncFlushTimeout.
func TestSyncFlushTimeout(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Broker.FlushDiskType = config.FlushSync
		c.Broker.SyncFlushTimeout = 40 * time.Millisecond
	}, nil)
	gate := make(chan struct{})
	defer close(gate)
	h.log.set(func(l *fakeLog) { l.block = gate })
	h.w.Submit(h.appendReq(9, "", "slow"))
	r := h.conn.next(t)
	if r.Code != remoting.RespFlushDiskTimeout || r.ExtFields["msgId"] == "" || r.ExtFields["queueOffset"] != "0" {
		t.Fatalf("code %d ext %v", r.Code, r.ExtFields)
	}
}

// TestFlushFailure answers waiters FLUSH_DISK_TIMEOUT when the flush fails.
func TestFlushFailure(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Broker.FlushDiskType = config.FlushSync }, nil)
	h.log.set(func(l *fakeLog) { l.flushErr = errors.New("disk on fire") })
	h.w.Submit(h.appendReq(3, "", "x"))
	if r := h.conn.next(t); r.Code != remoting.RespFlushDiskTimeout {
		t.Fatalf("code %d", r.Code)
	}
}

// TestAppendError maps a sticky not-writable commit log to
// SERVICE_NOT_AVAILABLE for every request, and the writer stays alive.
func TestAppendError(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.log.set(func(l *fakeLog) { l.appendErr = commitlog.ErrNotWritable })
	for i := int32(0); i < 3; i++ {
		h.w.Submit(h.appendReq(i, "", "x"))
		r := h.conn.next(t)
		if r.Code != remoting.RespServiceNotAvailable || r.ExtFields["MSG_REGION"] != "DefaultRegion" || r.ExtFields["TRACE_ON"] != "true" {
			t.Fatalf("code %d ext %v", r.Code, r.ExtFields)
		}
	}
	if n := len(h.disp.get(testKey)); n != 0 {
		t.Fatalf("%d units dispatched", n)
	}
	// A malformed request (sender bug) is answered SYSTEM_ERROR.
	h.log.set(func(l *fakeLog) { l.appendErr = nil })
	b := h.appendReq(7, "", "x")
	b.Appends[0].Tags = nil
	h.w.Submit(b)
	if r := h.conn.next(t); r.Code != remoting.RespSystemError {
		t.Fatalf("malformed: code %d", r.Code)
	}
}

// TestAsyncFlushAndCheckpoint: ASYNC_FLUSH flushes dirty data on its timer
// and writes the checkpoint with the batch's store time.
func TestAsyncFlushAndCheckpoint(t *testing.T) {
	h := newHarness(t, nil, nil)
	before := time.Now().UnixMilli()
	h.w.Submit(h.appendReq(1, "", "x"))
	h.conn.next(t)
	if c := testkit.Receive(t, h.ckpt, "a checkpoint"); c[0] < before || c[1] != 7 {
		t.Fatalf("checkpoint %v", c)
	}
	if h.log.FlushedPosition() != h.log.WrotePosition() {
		t.Fatal("not flushed")
	}
}

// TestStopAnswersEverything: Stop appends and answers what was submitted,
// including SYNC_FLUSH waiters, runs Done for each, and leaves everything
// flushed and checkpointed.
func TestStopAnswersEverything(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Broker.FlushDiskType = config.FlushSync }, nil)
	var done sync.WaitGroup
	for i := 0; i < 20; i++ {
		b := h.appendReq(int32(i), "", "x")
		done.Add(1)
		b.Appends[0].Done = done.Done
		h.w.Submit(b)
	}
	ctx := testkit.Context(t)
	if err := h.w.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	done.Wait()
	seen := map[int32]bool{}
	for i := 0; i < 20; i++ {
		r := h.conn.next(t)
		if r.Code != remoting.RespSuccess || seen[r.Opaque] {
			t.Fatalf("opaque %d code %d (answered before: %v)", r.Opaque, r.Code, seen[r.Opaque])
		}
		seen[r.Opaque] = true
	}
	if wrote, flushed := h.log.WrotePosition(), h.log.FlushedPosition(); wrote == 0 || flushed != wrote {
		t.Fatalf("after Stop: wrote %d, flushed %d", wrote, flushed)
	}
	if c := testkit.Receive(t, h.ckpt, "a checkpoint"); c[0] <= 0 || c[1] != 7 {
		t.Fatalf("checkpoint %v", c)
	}
	if !h.w.Closed() {
		t.Fatal("not closed")
	}
	if err := h.w.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestCommitError: when the group's write to the commit log file fails
// (CommitLog.Commit, after every record was staged), every request of the
// group is answered SERVICE_NOT_AVAILABLE, none SUCCESS, and nothing waits
// for a flush of records that never reached the file.
func TestCommitError(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Broker.FlushDiskType = config.FlushSync }, nil)
	h.log.set(func(l *fakeLog) { l.commitErr = fmt.Errorf("%w: write: EIO", commitlog.ErrNotWritable) })
	b := NewBatch()
	h.addAppend(b, 1, testKey, "a")
	h.addAppend(b, 2, testKey, "b1", "b2")
	h.w.Submit(b)
	for opaque, r := range h.answers(t, 2) {
		if r.Code != remoting.RespServiceNotAvailable {
			t.Fatalf("opaque %d: code %d, want SERVICE_NOT_AVAILABLE", opaque, r.Code)
		}
	}
	if got := h.w.deps.log.WrotePosition(); got != 0 {
		t.Fatalf("WrotePosition %d", got)
	}
}

// TestMalformedAppendKeepsRecordsBefore: an Append whose records outnumber
// its Tags (a sender bug) is answered SYSTEM_ERROR, and the well-formed
// records before the first extra one stay stored and dispatched with
// consecutive queue offsets, as the commit log and offset table must agree.
func TestMalformedAppendKeepsRecordsBefore(t *testing.T) {
	h := newHarness(t, nil, nil)
	b := h.appendReq(1, "", "a", "bb", "ccc")
	b.Appends[0].Tags = b.Appends[0].Tags[:2]
	h.w.Submit(b)
	if r := h.conn.next(t); r.Code != remoting.RespSystemError {
		t.Fatalf("code %d, want SYSTEM_ERROR", r.Code)
	}
	units := h.disp.get(testKey)
	if len(units) != 2 || units[0].QueueOffset != 0 || units[1].QueueOffset != 1 || units[1].PhysOffset != units[0].PhysOffset+int64(units[0].Size) {
		t.Fatalf("units %+v, want the first two records' at queue offsets 0 and 1", units)
	}
	h.log.mu.Lock()
	stored := len(h.log.data)
	h.log.mu.Unlock()
	if want := int(units[0].Size + units[1].Size); stored != want {
		t.Fatalf("%d bytes stored, want the first two records' %d", stored, want)
	}
}
