package netio

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/valyala/bytebufferpool"

	"github.com/actormq/actormq/wire/remoting"
)

// Conn is one accepted connection. All methods are safe from any goroutine;
// none of them blocks on the network (Invoke waits for the peer's answer).
// A Conn stays usable as a value after the connection closed: its writes then
// fail with ErrClosed.
type Conn struct{ impl *conn }

type conn struct {
	srv *server
	gc  gnet.Conn
	pub *Conn
	// dispatchFn is c.dispatch, bound once so OnTraffic does not allocate.
	dispatchFn func(*remoting.Command)
	id         uint64
	remote     string
	// lastActive is srv.clock at the last read or completed write.
	lastActive atomic.Int64

	// guard orders writers against close. Writers hold it shared only while
	// they queue a task on the loop; OnClose takes it exclusively to set
	// closed. So every task queued by a writer that saw closed == false was
	// queued before OnClose returned, which Shutdown relies on (see there).
	// Rejected: an atomic flag alone, which lets a writer queue a task after
	// the loop exited, where it never runs and its buffer and done are lost.
	guard  sync.RWMutex
	closed bool

	// Server-initiated invokes waiting for the client's response.
	nextOpaque  atomic.Int32
	invokeMu    sync.Mutex
	invokes     map[int32]chan *remoting.Command // allocated on first Invoke
	invokesDone bool                             // set on close; no new waiters
}

func newConn(srv *server, gc gnet.Conn) *conn {
	c := &conn{srv: srv, gc: gc, id: srv.nextID.Add(1)}
	if ra := gc.RemoteAddr(); ra != nil {
		c.remote = ra.String()
	}
	c.pub = &Conn{impl: c}
	c.dispatchFn = c.dispatch
	c.lastActive.Store(srv.clock.Load())
	return c
}

// ID is unique per server for the connection's lifetime.
func (c *Conn) ID() uint64 { return c.impl.id }

// RemoteAddr is the peer "ip:port".
func (c *Conn) RemoteAddr() string { return c.impl.remote }

// String names the connection for logs.
func (c *Conn) String() string { return fmt.Sprintf("conn#%d(%s)", c.impl.id, c.impl.remote) }

// Write encodes cmd and queues it for the socket without blocking. cmd is not
// retained after Write returns. The encoded frame lives in a pooled buffer
// owned by the queued write until gnet's callback releases it, on success or
// error.
func (c *Conn) Write(cmd *remoting.Command) error {
	buf := bytebufferpool.Get()
	buf.B = remoting.AppendFrame(buf.B[:0], cmd)
	return c.impl.queue(buf, nil, nil)
}

// WriteFrame queues frame, a whole encoded frame (remoting.AppendFrameExt),
// for the socket without blocking. It takes ownership of frame: the queued
// write returns it to bytebufferpool, on success or error.
func (c *Conn) WriteFrame(frame *bytebufferpool.ByteBuffer) error {
	return c.impl.queue(frame, nil, nil)
}

// WriteBatch encodes every command into one buffer and queues it as one
// write: one loop wake-up and one syscall for a batch of replies. The
// commands are not retained.
func (c *Conn) WriteBatch(cmds []*remoting.Command) error {
	if len(cmds) == 0 {
		return nil
	}
	buf := bytebufferpool.Get()
	for _, cmd := range cmds {
		buf.B = remoting.AppendFrame(buf.B, cmd)
	}
	return c.impl.queue(buf, nil, nil)
}

// WriteWithBody writes cmd's header followed by the body parts without
// copying them (zero-copy pull bodies from mapped files). done runs exactly
// once when the write completed or failed: on the event loop (so it must not
// block), or, when WriteWithBody fails at once, on the caller's goroutine
// before it returns. The parts must stay valid until done runs; gnet copies
// whatever the socket does not take at once into its outbound buffer, so
// done does not wait for the peer. cmd.Body is ignored. done may be nil.
func (c *Conn) WriteWithBody(cmd *remoting.Command, parts [][]byte, done func()) error {
	bodyLen := 0
	for _, p := range parts {
		bodyLen += len(p)
	}
	buf := bytebufferpool.Get()
	buf.B = remoting.AppendFrameHead(buf.B[:0], cmd, bodyLen)
	if len(parts) == 0 {
		return c.impl.queue(buf, nil, done)
	}
	vec := make([][]byte, 0, 1+len(parts))
	vec = append(vec, buf.B)
	vec = append(vec, parts...)
	return c.impl.queue(buf, vec, done)
}

// queue hands a write to the connection's loop: buf.B alone when vec is nil,
// else vec (buf.B followed by body parts). Taking buf rather than a slice
// spares Write and WriteBatch a one-element [][]byte, an allocation per
// reply. It takes ownership of buf and of done: exactly once, either here on
// failure or in the write callback, buf goes back to the pool and done runs.
func (c *conn) queue(buf *bytebufferpool.ByteBuffer, vec [][]byte, done func()) error {
	c.guard.RLock()
	if c.closed {
		c.guard.RUnlock()
		finishWrite(buf, done)
		return fmt.Errorf("%w: %s", ErrClosed, c.remote)
	}
	pw, _ := pendingWrites.Get().(*pendingWrite)
	if pw == nil {
		pw = &pendingWrite{}
		pw.callback = pw.finish
	}
	pw.c, pw.buf, pw.done = c, buf, done
	var err error
	if vec == nil {
		err = c.gc.AsyncWrite(buf.B, pw.callback)
	} else {
		err = c.gc.AsyncWritev(vec, pw.callback)
	}
	c.guard.RUnlock()
	if err != nil {
		// gnet only fails here when the loop's wake-up fd is gone, i.e. the
		// loop has exited and will never run the queued task (so never pw's
		// callback: pw is dropped, not pooled).
		finishWrite(buf, done)
		return fmt.Errorf("%w: %s: %w", ErrClosed, c.remote, err)
	}
	return nil
}

// pendingWrite is what a queued write's gnet callback needs. It is pooled
// and its callback is bound once, so queueing a write allocates no closure.
// Ownership: from queue's Get until the callback, which gnet runs exactly
// once per queued write (also when the connection closed first); the
// callback returns it to the pool before finishing the write.
type pendingWrite struct {
	c        *conn
	buf      *bytebufferpool.ByteBuffer
	done     func()
	callback gnet.AsyncCallback // finish, bound once
}

var pendingWrites sync.Pool

// finish is the write callback; runs on the loop.
func (pw *pendingWrite) finish(gc gnet.Conn, err error) error {
	c, buf, done := pw.c, pw.buf, pw.done
	pw.c, pw.buf, pw.done = nil, nil, nil
	pendingWrites.Put(pw)
	finishWrite(buf, done)
	c.afterWrite(gc, err)
	return nil
}

// finishWrite ends a queued write's ownership of its buffer and body parts.
func finishWrite(buf *bytebufferpool.ByteBuffer, done func()) {
	bytebufferpool.Put(buf)
	if done != nil {
		done()
	}
}

// afterWrite runs on the loop after a queued write: a completed write counts
// as activity, and a peer that lets our output pile up is cut off.
func (c *conn) afterWrite(gc gnet.Conn, err error) {
	if err != nil {
		return
	}
	c.touch()
	limit := c.srv.cfg.OutboundBytesMax
	if limit > 0 && gc.OutboundBuffered() > limit {
		c.srv.log.Warn().Uint64("conn", c.id).Str("remote", c.remote).Int("outboundBytes", gc.OutboundBuffered()).
			Msg("peer is not reading; closing connection")
		_ = gc.Close()
	}
}

// Invoke sends a server-initiated request on this connection and waits for
// the client's response (matched by opaque), up to timeout (no timer when
// timeout <= 0) or ctx. It sets cmd.Opaque and clears the response flag.
// Errors wrap ErrTimeout (timeout or ctx deadline), ErrClosed (connection
// closed before the answer) or ctx.Err(). It must not be called on an event
// loop, since it blocks.
func (c *Conn) Invoke(ctx context.Context, cmd *remoting.Command, timeout time.Duration) (*remoting.Command, error) {
	ci := c.impl
	opaque := ci.nextOpaque.Add(1)
	cmd.Opaque = opaque
	cmd.Flag &^= remoting.FlagResponse
	ch := make(chan *remoting.Command, 1)
	ci.invokeMu.Lock()
	if ci.invokesDone {
		ci.invokeMu.Unlock()
		return nil, fmt.Errorf("%w: %s", ErrClosed, ci.remote)
	}
	if ci.invokes == nil {
		ci.invokes = make(map[int32]chan *remoting.Command)
	}
	ci.invokes[opaque] = ch
	ci.invokeMu.Unlock()
	defer ci.dropInvoke(opaque)

	if err := c.Write(cmd); err != nil {
		return nil, err
	}
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	select {
	case resp, ok := <-ch:
		if !ok {
			return nil, fmt.Errorf("%w: %s closed while waiting for code %d", ErrClosed, ci.remote, cmd.Code)
		}
		return resp, nil
	case <-expired:
		return nil, fmt.Errorf("%w: code %d to %s after %v", ErrTimeout, cmd.Code, ci.remote, timeout)
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w: code %d to %s: %w", ErrTimeout, cmd.Code, ci.remote, ctx.Err())
		}
		return nil, fmt.Errorf("netio: invoke code %d to %s: %w", cmd.Code, ci.remote, ctx.Err())
	}
}

func (c *conn) dropInvoke(opaque int32) {
	c.invokeMu.Lock()
	delete(c.invokes, opaque)
	c.invokeMu.Unlock()
}

// complete hands a response to its waiting Invoke; runs on the loop. The
// channel has room for one value and only this path or close touches it.
func (c *conn) complete(resp *remoting.Command) {
	c.invokeMu.Lock()
	ch, ok := c.invokes[resp.Opaque]
	delete(c.invokes, resp.Opaque)
	c.invokeMu.Unlock()
	if !ok {
		c.srv.log.Debug().Uint64("conn", c.id).Int32("opaque", resp.Opaque).Msg("response for unknown opaque dropped")
		return
	}
	ch <- resp
}

// markClosed is called by OnClose on the loop. It reports false when the
// connection was already marked. It fails every pending Invoke.
func (c *conn) markClosed() bool {
	c.guard.Lock()
	if c.closed {
		c.guard.Unlock()
		return false
	}
	c.closed = true
	c.guard.Unlock()

	c.invokeMu.Lock()
	pending := c.invokes
	c.invokes = nil
	c.invokesDone = true
	c.invokeMu.Unlock()
	for _, ch := range pending {
		close(ch)
	}
	return true
}

// touch records activity for the idle scan; one atomic store.
func (c *conn) touch() { c.lastActive.Store(c.srv.clock.Load()) }

// close asks the loop to close the connection; OnClose follows.
func (c *conn) close() {
	c.guard.RLock()
	defer c.guard.RUnlock()
	if !c.closed {
		_ = c.gc.Close()
	}
}

// Close closes the connection asynchronously; Handler.OnClose follows on the
// loop. Idempotent.
func (c *Conn) Close() error {
	c.impl.close()
	return nil
}
