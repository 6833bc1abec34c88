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
// fail with ErrClosed. Writes from every goroutine leave in the order they
// were queued, coalesced: one writev per flush of the connection (outbox.go).
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

	// out holds the writes waiting for the loop (outbox.go).
	out outbox
	// flushes is the due list of the connection's loop (loopflush.go).
	flushes *loopFlushes
	// requests counts the requests handed to the handler during the current
	// OnTraffic; loop-owned.
	requests int
	// partial is the frame being received over several reads (partial.go);
	// loop-owned, released by OnClose.
	partial partialFrame

	// closed is set once, by OnClose on the loop, while holding both guard
	// (exclusively) and out.mu, so holding either one is enough to read it.
	// Writers check it under out.mu before appending; code that queues a
	// task on the loop (a flush, a close) checks it under guard held shared,
	// which keeps OnClose, and with it the loop's exit, from passing until
	// the task is queued. Rejected: an atomic flag alone, which lets a writer
	// queue a task after the loop exited and its eventfd closed.
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

// frameBytesGuess is the out-frame class asked for a Command's frame, whose
// size is known only once encoded: most answers and requests fit, and a
// larger one grows its buffer, which then goes back to a larger class.
const frameBytesGuess = 512

// Write encodes cmd into a pooled buffer and queues it for the socket
// without blocking; the buffer is owned by the queued write until its flush
// releases it, on success or error. cmd is not retained after Write returns.
func (c *Conn) Write(cmd *remoting.Command) error {
	buf := remoting.NewOutFrame(frameBytesGuess)
	buf.B = remoting.AppendFrame(buf.B[:0], cmd)
	return c.impl.queue(buf, nil, nil)
}

// WriteFrame queues frame, a whole encoded frame (remoting.AppendFrameExt),
// for the socket without blocking. It takes ownership of frame: it goes back
// to bytebufferpool after the flush that writes it, or at once on error.
func (c *Conn) WriteFrame(frame *bytebufferpool.ByteBuffer) error {
	return c.impl.queue(frame, nil, nil)
}

// WriteBatch encodes every command into one buffer and queues it as one
// write. The commands are not retained.
func (c *Conn) WriteBatch(cmds []*remoting.Command) error {
	if len(cmds) == 0 {
		return nil
	}
	buf := remoting.NewOutFrame(len(cmds) * frameBytesGuess)
	for _, cmd := range cmds {
		buf.B = remoting.AppendFrame(buf.B, cmd)
	}
	return c.impl.queue(buf, nil, nil)
}

// WriteWithBody writes cmd's header followed by the body parts without
// copying them (zero-copy pull bodies from mapped files). done runs exactly
// once when the write completed or failed: on the event loop (so it must not
// block), or, when WriteWithBody fails at once, on the caller's goroutine
// before it returns. The bytes of the parts must stay valid until done runs;
// the parts slice itself is copied, so the caller may reuse it at once. gnet
// copies whatever the socket does not take at once into its outbound buffer,
// so done does not wait for the peer. cmd.Body is ignored. done may be nil.
func (c *Conn) WriteWithBody(cmd *remoting.Command, parts [][]byte, done func()) error {
	bodyLen := 0
	for _, p := range parts {
		bodyLen += len(p)
	}
	buf := remoting.NewOutFrame(frameBytesGuess)
	buf.B = remoting.AppendFrameHead(buf.B[:0], cmd, bodyLen)
	return c.impl.queue(buf, parts, done)
}

// WriteFrameWithBody is WriteWithBody for a frame head the caller encoded
// (remoting.AppendFrameHeadExt with the parts' total length): no Command per
// answer. It takes ownership of head (back to its pool after the flush
// that writes it, or at once on error) and of done, with WriteWithBody's
// rules for done and the parts.
func (c *Conn) WriteFrameWithBody(head *bytebufferpool.ByteBuffer, parts [][]byte, done func()) error {
	return c.impl.queue(head, parts, done)
}

func errClosed(remote string) error { return fmt.Errorf("%w: %s", ErrClosed, remote) }

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
		return nil, errClosed(ci.remote)
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
// connection was already marked. It releases every write still pending and
// fails every pending Invoke.
func (c *conn) markClosed() bool {
	c.guard.Lock()
	c.out.mu.Lock()
	if c.closed {
		c.out.mu.Unlock()
		c.guard.Unlock()
		return false
	}
	c.closed = true
	pending := c.drainLocked()
	c.out.mu.Unlock()
	c.guard.Unlock()
	for _, w := range pending {
		finishWrite(w.buf, w.done)
	}

	c.invokeMu.Lock()
	waiting := c.invokes
	c.invokes = nil
	c.invokesDone = true
	c.invokeMu.Unlock()
	for _, ch := range waiting {
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
