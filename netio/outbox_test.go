package netio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/panjf2000/gnet/v2"
	"github.com/rs/zerolog"
	"github.com/valyala/bytebufferpool"

	"github.com/actormq/actormq/wire/remoting"
)

// releaseCounter replaces releaseFrame for one test: it counts releases per
// buffer and keeps them out of the pool, so no buffer is handed out twice
// during the test and each pointer names one write.
type releaseCounter struct {
	mu    sync.Mutex
	count map[*bytebufferpool.ByteBuffer]int
}

func countReleases(t testing.TB) *releaseCounter {
	t.Helper()
	rc := &releaseCounter{count: make(map[*bytebufferpool.ByteBuffer]int)}
	prev := releaseFrame
	releaseFrame = func(b *bytebufferpool.ByteBuffer) {
		rc.mu.Lock()
		rc.count[b]++
		rc.mu.Unlock()
	}
	t.Cleanup(func() { releaseFrame = prev })
	return rc
}

// check fails t unless exactly want distinct buffers were released, each once.
func (rc *releaseCounter) check(t testing.TB, want int) {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for b, n := range rc.count {
		if n != 1 {
			t.Fatalf("buffer %p released %d times", b, n)
		}
	}
	if len(rc.count) != want {
		t.Fatalf("%d buffers released, want %d", len(rc.count), want)
	}
}

func (rc *releaseCounter) total() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.count)
}

// fakeLoop is a gnet.EventLoop whose Execute only records the task; the test
// runs it, playing the loop.
type fakeLoop struct {
	gnet.EventLoop
	mu    sync.Mutex
	tasks []gnet.Runnable
}

func (l *fakeLoop) Execute(_ context.Context, r gnet.Runnable) error {
	l.mu.Lock()
	l.tasks = append(l.tasks, r)
	l.mu.Unlock()
	return nil
}

// runTasks runs the queued tasks, as the loop would, and reports how many.
func (l *fakeLoop) runTasks() int {
	l.mu.Lock()
	tasks := l.tasks
	l.tasks = nil
	l.mu.Unlock()
	for _, r := range tasks {
		_ = r.Run(context.Background())
	}
	return len(tasks)
}

// fakeGnetConn records what the flush writes. failAt makes the write with
// that index (0-based) fail and, as gnet does, close the connection (OnClose)
// before returning. duringWrite runs inside every write, as a writer on
// another goroutine could.
type fakeGnetConn struct {
	gnet.Conn
	sliceInbound // what OnTraffic reads
	loop         *fakeLoop
	ctx          any
	ev           *events
	out          bytes.Buffer
	chunks       [][]int // per write: the length of each buffer
	failAt       int
	duringWrite  func()
	closeCalls   int
	backlog      int  // OutboundBuffered: bytes gnet holds unsent
	closed       bool // set by the failed write; later writes fail as gnet's do
}

func (f *fakeGnetConn) InboundBuffered() int       { return f.sliceInbound.InboundBuffered() }
func (f *fakeGnetConn) Peek(n int) ([]byte, error) { return f.sliceInbound.Peek(n) }
func (f *fakeGnetConn) Discard(n int) (int, error) { return f.sliceInbound.Discard(n) }
func (f *fakeGnetConn) Context() any               { return f.ctx }
func (f *fakeGnetConn) SetContext(ctx any)         { f.ctx = ctx }
func (f *fakeGnetConn) EventLoop() gnet.EventLoop  { return f.loop }
func (f *fakeGnetConn) OutboundBuffered() int      { return f.backlog }
func (f *fakeGnetConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}
}
func (f *fakeGnetConn) Close() error                { f.closeCalls++; return nil }
func (f *fakeGnetConn) Write(p []byte) (int, error) { return f.Writev([][]byte{p}) }

func (f *fakeGnetConn) Writev(bs [][]byte) (int, error) {
	if f.duringWrite != nil {
		f.duringWrite()
	}
	if f.closed {
		return 0, net.ErrClosed
	}
	if len(f.chunks) == f.failAt {
		f.closed = true
		f.chunks = append(f.chunks, nil)
		err := syscall.EPIPE
		f.ev.OnClose(f, err)
		return 0, err
	}
	lens := make([]int, len(bs))
	n := 0
	for i, b := range bs {
		lens[i] = len(b)
		n += len(b)
		f.out.Write(b)
	}
	f.chunks = append(f.chunks, lens)
	return n, nil
}

// newFakeConn is a server connection over a fakeGnetConn, opened as gnet
// would open it.
func newFakeConn(t *testing.T, cfg ServerConfig, h Handler) (*conn, *fakeGnetConn) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	cfg.Logger = zerolog.Nop()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv := NewServer(cfg, h).impl
	// The fake has no descriptor: its direct writes are its Writev.
	prev := writevSocket
	writevSocket = func(gc gnet.Conn, iov [][]byte) (int, error) { return gc.Writev(iov) }
	t.Cleanup(func() { writevSocket = prev })
	ev := &events{srv: srv}
	gc := &fakeGnetConn{loop: &fakeLoop{}, ev: ev, failAt: -1}
	if _, action := ev.OnOpen(gc); action != gnet.None {
		t.Fatalf("OnOpen action %v", action)
	}
	return gc.ctx.(*conn), gc
}

// pull writes a pull-like response: a 20-byte head buffer, then parts.
func writeParts(t *testing.T, c *conn, dones *atomic.Int64, parts ...string) {
	t.Helper()
	buf := &bytebufferpool.ByteBuffer{B: []byte(fmt.Sprintf("head-%014d", len(parts)))}
	vec := make([][]byte, len(parts))
	for i, p := range parts {
		vec[i] = []byte(p)
	}
	if err := c.queue(buf, vec, func() { dones.Add(1) }); err != nil {
		t.Fatalf("queue: %v", err)
	}
}

func TestFlushCoalescesAndChunks(t *testing.T) {
	rc := countReleases(t)
	c, gc := newFakeConn(t, ServerConfig{WriteBatchIovecsMax: 3, WriteBatchBytesMax: 40}, newTestHandler())
	var dones atomic.Int64
	writeParts(t, c, &dones, "a", "bb")
	writeParts(t, c, &dones)
	writeParts(t, c, &dones, "0123456789012345678901234567890123456789xx") // 42 bytes: over the byte cap alone
	writeParts(t, c, &dones, "c")
	if n := len(gc.loop.tasks); n != 1 {
		t.Fatalf("%d flush tasks queued for 4 writes, want 1", n)
	}
	if dones.Load() != 0 || len(gc.chunks) != 0 {
		t.Fatal("written before the flush ran")
	}
	gc.loop.runTasks()

	want := "head-00000000000002abb" + "head-00000000000000" +
		"head-00000000000001" + "0123456789012345678901234567890123456789xx" + "head-00000000000001c"
	if got := gc.out.String(); got != want {
		t.Fatalf("wrote %q, want %q", got, want)
	}
	// Chunks: at most 3 buffers and 40 bytes, a larger buffer alone.
	wantChunks := [][]int{{19, 1, 2}, {19, 19}, {42}, {19, 1}}
	if fmt.Sprint(gc.chunks) != fmt.Sprint(wantChunks) {
		t.Fatalf("writes %v, want %v", gc.chunks, wantChunks)
	}
	if d := dones.Load(); d != 4 {
		t.Fatalf("done ran %d times, want 4", d)
	}
	rc.check(t, 4)
	if s := c.srv.writeStats(); s.flushes != 1 || s.writes != 4 {
		t.Fatalf("stats %+v, want 1 flush of 4 writes", s)
	}

	// The outbox is disarmed: the next write queues a new task.
	writeParts(t, c, &dones, "d")
	if n := gc.loop.runTasks(); n != 1 {
		t.Fatalf("%d tasks after the flush, want 1", n)
	}
	rc.check(t, 5)
}

// Behind output gnet already holds, each chunk goes to gnet as one slice
// (one node of its outbound list, not one per body part), bytes in order.
// Without the join the chunks would be {19, 1, 2}, {19, 19}, {19, 1}.
func TestFlushJoinsChunksBehindBacklog(t *testing.T) {
	rc := countReleases(t)
	c, gc := newFakeConn(t, ServerConfig{WriteBatchIovecsMax: 3, WriteBatchBytesMax: 40}, newTestHandler())
	gc.backlog = 1
	var dones atomic.Int64
	writeParts(t, c, &dones, "a", "bb")
	writeParts(t, c, &dones)
	writeParts(t, c, &dones, "0123456789012345678901234567890123456789xx")
	writeParts(t, c, &dones, "c")
	gc.loop.runTasks()

	want := "head-00000000000002abb" + "head-00000000000000" +
		"head-00000000000001" + "0123456789012345678901234567890123456789xx" + "head-00000000000001c"
	if got := gc.out.String(); got != want {
		t.Fatalf("wrote %q, want %q", got, want)
	}
	wantChunks := [][]int{{22}, {38}, {42}, {20}}
	if fmt.Sprint(gc.chunks) != fmt.Sprint(wantChunks) {
		t.Fatalf("writes %v, want %v", gc.chunks, wantChunks)
	}
	if d := dones.Load(); d != 4 {
		t.Fatalf("done ran %d times, want 4", d)
	}
	rc.check(t, 4)
}

// Behind a backlog a chunk larger than joinPieceBytes reaches gnet in
// pieces, each one slice of at most joinPieceBytes (a node of gnet's list
// its byteslice pool serves again), every piece but the last full, the
// bytes in order; a piece gnet refuses stops the chunk, and every write is
// released once. Without the pieces the chunk would be one slice of
// 180,038 bytes.
func TestFlushPiecesBehindBacklog(t *testing.T) {
	rc := countReleases(t)
	c, gc := newFakeConn(t, ServerConfig{WriteBatchBytesMax: 1 << 20}, newTestHandler())
	gc.backlog = 1
	var dones atomic.Int64
	parts := []string{strings.Repeat("a", 60000), strings.Repeat("b", 60000), strings.Repeat("c", 60000)}
	writeParts(t, c, &dones, parts...)
	writeParts(t, c, &dones, "d")
	gc.loop.runTasks()

	want := "head-00000000000003" + strings.Join(parts, "") + "head-00000000000001d"
	if got := gc.out.String(); got != want {
		t.Fatalf("wrote %d bytes, not the %d queued in order", len(got), len(want))
	}
	wantChunks := [][]int{{joinPieceBytes}, {joinPieceBytes}, {len(want) - 2*joinPieceBytes}}
	if fmt.Sprint(gc.chunks) != fmt.Sprint(wantChunks) {
		t.Fatalf("writes %v, want %v", gc.chunks, wantChunks)
	}
	rc.check(t, 2)

	// gnet fails the second piece (and closes the connection).
	c, gc = newFakeConn(t, ServerConfig{WriteBatchBytesMax: 1 << 20}, newTestHandler())
	gc.backlog, gc.failAt = 1, 1
	writeParts(t, c, &dones, parts...)
	writeParts(t, c, &dones, "d")
	gc.loop.runTasks()
	if len(gc.chunks) != 2 || gc.out.Len() != joinPieceBytes {
		t.Fatalf("writes %v (%d bytes) after the failed piece, want the first piece only", gc.chunks, gc.out.Len())
	}
	if d := dones.Load(); d != 4 {
		t.Fatalf("done ran %d times, want 4", d)
	}
	rc.check(t, 4)
}

// A write that fails closes the connection inside gnet (OnClose re-enters the
// flush); every write, flushed, pending or arriving later, is released once.
func TestFlushWriteErrorReleasesEachOnce(t *testing.T) {
	rc := countReleases(t)
	h := newTestHandler()
	c, gc := newFakeConn(t, ServerConfig{WriteBatchIovecsMax: 2}, h)
	var dones atomic.Int64
	for range 3 {
		writeParts(t, c, &dones, "x")
	}
	// A writer on another goroutine appends while the flush writes; its
	// write is pending when the connection closes.
	gc.duringWrite = func() {
		gc.duringWrite = nil
		writeParts(t, c, &dones, "late")
	}
	gc.failAt = 1
	gc.loop.runTasks()

	if h.closes.Load() != 1 {
		t.Fatalf("OnClose ran %d times", h.closes.Load())
	}
	if d := dones.Load(); d != 4 {
		t.Fatalf("done ran %d times over 4 writes", d)
	}
	rc.check(t, 4)
	// After close: refused, released at once; no flush task is queued.
	err := c.queue(&bytebufferpool.ByteBuffer{B: []byte("after")}, nil, func() { dones.Add(1) })
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("queue after close: %v, want ErrClosed", err)
	}
	if n := gc.loop.runTasks(); n != 0 {
		t.Fatalf("%d tasks queued after close", n)
	}
	rc.check(t, 5)
	if dones.Load() != 5 {
		t.Fatalf("done ran %d times over 5 writes", dones.Load())
	}
}

// OnClose releases what no flush took yet; the flush task queued before runs
// after it and writes nothing.
func TestCloseReleasesPending(t *testing.T) {
	rc := countReleases(t)
	c, gc := newFakeConn(t, ServerConfig{}, newTestHandler())
	var dones atomic.Int64
	for range 5 {
		writeParts(t, c, &dones, "p", "q")
	}
	gc.ev.OnClose(gc, nil)
	rc.check(t, 5)
	if dones.Load() != 5 {
		t.Fatalf("done ran %d times over 5 writes", dones.Load())
	}
	if n := gc.loop.runTasks(); n != 1 || len(gc.chunks) != 0 {
		t.Fatalf("tasks %d, writes %v; want the 1 stale task writing nothing", n, gc.chunks)
	}
	rc.check(t, 5)
}

// A busy connection's flush goes back for new writes at most flushRoundsMax
// times, then queues itself behind the loop's other work.
func TestFlushRoundsBounded(t *testing.T) {
	countReleases(t)
	c, gc := newFakeConn(t, ServerConfig{}, newTestHandler())
	var dones atomic.Int64
	writeParts(t, c, &dones, "first")
	gc.duringWrite = func() { writeParts(t, c, &dones, "more") } // a writer that never stops
	if n := gc.loop.runTasks(); n != 1 {
		t.Fatalf("ran %d tasks", n)
	}
	if len(gc.chunks) != flushRoundsMax {
		t.Fatalf("%d writes in one flush, want %d", len(gc.chunks), flushRoundsMax)
	}
	if n := len(gc.loop.tasks); n != 1 {
		t.Fatalf("%d tasks requeued, want 1", n)
	}
	gc.duringWrite = nil
	gc.loop.runTasks()
	if d := dones.Load(); d != flushRoundsMax+1 {
		t.Fatalf("done ran %d times, want %d", d, flushRoundsMax+1)
	}
}

func TestWriteBatchConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     ServerConfig
		wantErr bool
	}{
		{name: "defaults", cfg: ServerConfig{}},
		{name: "iovecs at IOV_MAX", cfg: ServerConfig{WriteBatchIovecsMax: 1024}},
		{name: "iovecs over IOV_MAX", cfg: ServerConfig{WriteBatchIovecsMax: 1025}, wantErr: true},
		{name: "negative iovecs", cfg: ServerConfig{WriteBatchIovecsMax: -1}, wantErr: true},
		{name: "negative bytes", cfg: ServerConfig{WriteBatchBytesMax: -1}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Addr = "127.0.0.1:0"
			err := tc.cfg.Validate()
			if tc.wantErr != (err != nil) || (err != nil && !errors.Is(err, ErrConfig)) {
				t.Fatalf("Validate: %v, want error %v", err, tc.wantErr)
			}
			if err == nil && (tc.cfg.WriteBatchIovecsMax == 0 || tc.cfg.WriteBatchBytesMax == 0) {
				t.Fatalf("defaults not filled: %+v", tc.cfg)
			}
		})
	}
}

// Answers written while the loop handles a read, from OnRequest or from
// another goroutine, queue no flush task: they leave in the flush at the end
// of OnTraffic, one writev.
func TestOnTrafficWritesQueueNoTask(t *testing.T) {
	countReleases(t)
	h := newTestHandler()
	h.respond = func(pub *Conn, req *remoting.Command) *remoting.Command {
		done := make(chan struct{})
		go func() { // an actor answering while the loop is busy
			defer close(done)
			if err := pub.Write(remoting.NewResponse(req, remoting.RespSuccess, "from an actor")); err != nil {
				t.Errorf("Write: %v", err)
			}
		}()
		<-done
		return echo(pub, req) // written on the loop by testHandler
	}
	c, gc := newFakeConn(t, ServerConfig{}, h)
	for i := range 3 {
		gc.buf = remoting.AppendFrame(gc.buf, request(remoting.ReqSendMessage, int32(i), "x"))
	}
	if action := gc.ev.OnTraffic(gc); action != gnet.None {
		t.Fatalf("OnTraffic action %v", action)
	}
	if n := len(gc.loop.tasks); n != 0 {
		t.Fatalf("%d flush tasks queued during a read, want 0", n)
	}
	if len(gc.chunks) != 1 || len(gc.chunks[0]) != 6 {
		t.Fatalf("writes %v, want one writev of the 6 answers", gc.chunks)
	}
	// The outbox is disarmed after the read: a later write queues a task.
	if err := c.pub.Write(request(0, 9, "")); err != nil {
		t.Fatal(err)
	}
	if n := len(gc.loop.tasks); n != 1 {
		t.Fatalf("%d flush tasks after the read, want 1", n)
	}
}
