package netio

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/valyala/bytebufferpool"

	"github.com/actormq/actormq/wire/remoting"
)

// ErrDial is wrapped when a connection to the address cannot be established.
var ErrDial = errors.New("netio: dial failed")

// Client defaults.
const (
	DialTimeoutDefault      = 3 * time.Second
	InvokeTimeoutDefault    = 3 * time.Second
	WriteTimeoutDefault     = 120 * time.Second // the Go client's write deadline
	ServeInflightMaxDefault = 64
)

// ClientConfig configures a Client. Zero fields take the defaults above.
type ClientConfig struct {
	DialTimeout   time.Duration // default 3s
	FrameBytesMax int
	Logger        zerolog.Logger
	// OnRequest, when set, serves requests the server sends us; its return
	// value (may be nil) is written back as the response. It runs on its own
	// goroutine per request, tracked by the Client (Close waits for it), so it
	// may block but must return. Without it such requests are answered with
	// REQUEST_CODE_NOT_SUPPORTED.
	OnRequest func(addr string, cmd *remoting.Command) *remoting.Command
	// InvokeTimeout bounds an Invoke whose ctx has no deadline.
	InvokeTimeout time.Duration
	// WriteTimeout bounds one frame write; a write that times out closes the
	// connection, since a partial frame leaves the stream unusable.
	WriteTimeout time.Duration
	// ServeInflightMax bounds concurrent OnRequest calls; a request beyond it
	// is answered SYSTEM_BUSY.
	ServeInflightMax int
	// OnResponseFrame, when set, sees every frame the connection's reader
	// got, whole and undecoded, before Invoke's waiters do; it returns true
	// when it took the frame (a response to a request written with
	// WriteFrames), false to leave it to the client. It runs on the reader
	// goroutine, must not block, and must not keep frame, which the reader
	// reuses. For callers that answer their own opaques without a Command,
	// channel and goroutine per request (the load generator).
	OnResponseFrame func(frame []byte) bool
}

func (c *ClientConfig) fill() {
	if c.DialTimeout <= 0 {
		c.DialTimeout = DialTimeoutDefault
	}
	if c.FrameBytesMax <= 0 {
		c.FrameBytesMax = remoting.FrameBytesMaxDefault
	}
	if c.InvokeTimeout <= 0 {
		c.InvokeTimeout = InvokeTimeoutDefault
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = WriteTimeoutDefault
	}
	if c.ServeInflightMax <= 0 {
		c.ServeInflightMax = ServeInflightMaxDefault
	}
}

// Client keeps one connection per address and matches responses by opaque.
// All methods are safe from any goroutine.
type Client struct{ impl *client }

type client struct {
	cfg        ClientConfig
	log        zerolog.Logger
	opaque     atomic.Int32
	serveSlots chan struct{}

	mu     sync.Mutex // guards conns and closed
	conns  map[string]*clientConn
	closed bool
	// wg tracks every goroutine the client starts: one reader per
	// connection and one per served request. Add happens under mu while
	// !closed, or from a tracked goroutine, so Close's Wait sees them all.
	wg sync.WaitGroup
}

// NewClient builds a client; connections are dialed lazily.
func NewClient(cfg ClientConfig) *Client {
	cfg.fill()
	return &Client{impl: &client{
		cfg:        cfg,
		log:        cfg.Logger.With().Str("component", "netio.client").Logger(),
		serveSlots: make(chan struct{}, cfg.ServeInflightMax),
		conns:      make(map[string]*clientConn),
	}}
}

// Invoke sends cmd to addr and waits for its response until ctx is done (or
// InvokeTimeout when ctx has no deadline). It sets cmd.Opaque and clears the
// response and oneway flags; cmd is not retained after the write. Errors wrap
// ErrTimeout (deadline), ErrClosed (connection lost or client closed), ErrDial
// or ctx.Err() (cancelled).
func (c *Client) Invoke(ctx context.Context, addr string, cmd *remoting.Command) (*remoting.Command, error) {
	cl := c.impl
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cl.cfg.InvokeTimeout)
		defer cancel()
	}
	cc, err := cl.conn(ctx, addr)
	if err != nil {
		return nil, cl.ctxError(ctx, err, addr, cmd.Code)
	}
	opaque := cl.opaque.Add(1)
	cmd.Opaque = opaque
	cmd.Flag &^= remoting.FlagResponse | remoting.FlagOneway
	ch, err := cc.addWaiter(opaque)
	if err != nil {
		return nil, err
	}
	defer cc.dropWaiter(opaque)
	if err := cc.writeCmd(cmd); err != nil {
		return nil, err
	}
	select {
	case resp, ok := <-ch:
		if !ok {
			return nil, fmt.Errorf("%w: %s lost while waiting for code %d: %w", ErrClosed, addr, cmd.Code, cc.failure())
		}
		return resp, nil
	case <-ctx.Done():
		return nil, cl.ctxError(ctx, ctx.Err(), addr, cmd.Code)
	}
}

// ctxError classifies a failure that may come from ctx: a passed deadline
// wraps ErrTimeout with the address and code.
func (cl *client) ctxError(ctx context.Context, err error, addr string, code int32) error {
	if ctx.Err() == nil {
		return err
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: code %d to %s: %w", ErrTimeout, code, addr, err)
	}
	return fmt.Errorf("netio: invoke code %d to %s: %w", code, addr, err)
}

// InvokeOneway sends cmd with the oneway flag and does not wait for an
// answer; it returns once the frame is queued (dialing first if needed,
// bounded by DialTimeout). Frames queued together leave in one writev; a
// write failure closes the connection and is returned to the caller that was
// flushing, not to every caller whose frame was in the batch.
func (c *Client) InvokeOneway(addr string, cmd *remoting.Command) error {
	cl := c.impl
	ctx, cancel := context.WithTimeout(context.Background(), cl.cfg.DialTimeout)
	defer cancel()
	cc, err := cl.conn(ctx, addr)
	if err != nil {
		return cl.ctxError(ctx, err, addr, cmd.Code)
	}
	cmd.Opaque = cl.opaque.Add(1)
	cmd.Flag = (cmd.Flag &^ remoting.FlagResponse) | remoting.FlagOneway
	return cc.writeCmd(cmd)
}

// NextOpaque returns an opaque no other request of this client carries, for
// a frame the caller encodes itself (WriteFrames).
func (c *Client) NextOpaque() int32 { return c.impl.opaque.Add(1) }

// WriteFrames queues buf, one or more whole encoded request frames, on the
// connection to addr (dialing first if needed, bounded by DialTimeout) and
// takes buf over (from remoting.NewOutFrame): the client returns it to its
// pool once written or dropped. Frames queued together leave in one writev,
// and a failure is reported as InvokeOneway reports it. The answers go to OnResponseFrame;
// their opaques come from NextOpaque. Rejected: an Invoke per frame, which
// costs its caller a Command, a channel and a blocked goroutine per request.
func (c *Client) WriteFrames(addr string, buf *bytebufferpool.ByteBuffer) error {
	cl := c.impl
	if cc := cl.established(addr); cc != nil {
		return cc.queueFrame(buf) // no dial to bound: no context per call
	}
	ctx, cancel := context.WithTimeout(context.Background(), cl.cfg.DialTimeout)
	defer cancel()
	cc, err := cl.conn(ctx, addr)
	if err != nil {
		releaseFrame(buf)
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("%w: connecting to %s: %w", ErrTimeout, addr, err)
		}
		return err
	}
	return cc.queueFrame(buf)
}

// Close closes every connection, fails pending invokes with ErrClosed and
// waits for the client's goroutines (readers and running OnRequest calls).
// Idempotent.
func (c *Client) Close() error {
	cl := c.impl
	cl.mu.Lock()
	already := cl.closed
	cl.closed = true
	open := make([]*clientConn, 0, len(cl.conns))
	for _, cc := range cl.conns {
		open = append(open, cc)
	}
	clear(cl.conns)
	cl.mu.Unlock()
	for _, cc := range open {
		cc.fail(ErrClosed)
	}
	cl.wg.Wait()
	if !already {
		cl.log.Debug().Int("connections", len(open)).Msg("client closed")
	}
	return nil
}

// conn returns the live connection to addr, dialing it when there is none.
// Concurrent callers share one dial.
func (cl *client) conn(ctx context.Context, addr string) (*clientConn, error) {
	// A connection found failed is forgotten and redialed; a few attempts
	// bound the loop against a peer that drops every connection at once.
	for range 3 {
		cl.mu.Lock()
		if cl.closed {
			cl.mu.Unlock()
			return nil, fmt.Errorf("%w: client", ErrClosed)
		}
		cc := cl.conns[addr]
		if cc == nil {
			cc = newClientConn(cl, addr)
			cl.conns[addr] = cc
			cl.mu.Unlock()
			cl.dial(ctx, cc)
		} else {
			cl.mu.Unlock()
		}
		select {
		case <-cc.ready:
		case <-ctx.Done():
			return nil, fmt.Errorf("netio: waiting for connection to %s: %w", addr, ctx.Err())
		}
		if cc.dialErr != nil {
			return nil, cc.dialErr
		}
		if !cc.isClosed() {
			return cc, nil
		}
		cl.forget(cc) // failed but not yet forgotten by its reader: redial
	}
	return nil, fmt.Errorf("%w: %s keeps failing", ErrClosed, addr)
}

// dial connects cc and starts its reader, or records the failure and forgets
// cc so the next call redials. It closes cc.ready either way.
func (cl *client) dial(ctx context.Context, cc *clientConn) {
	defer close(cc.ready)
	d := net.Dialer{Timeout: cl.cfg.DialTimeout}
	nc, err := d.DialContext(ctx, "tcp", cc.addr)
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if err == nil && cl.closed {
		_ = nc.Close()
		err = ErrClosed
	}
	if err != nil {
		cc.dialErr = fmt.Errorf("%w: %s: %w", ErrDial, cc.addr, err)
		if cl.conns[cc.addr] == cc {
			delete(cl.conns, cc.addr)
		}
		cl.log.Debug().Err(err).Str("addr", cc.addr).Msg("dial failed")
		return
	}
	cc.mu.Lock()
	cc.nc = nc
	if sc, ok := nc.(syscall.Conn); ok {
		cc.raw, _ = sc.SyscallConn() // nil on error: writes go through nc
	}
	cc.mu.Unlock()
	cl.log.Debug().Str("addr", cc.addr).Str("local", nc.LocalAddr().String()).Msg("connected")
	cl.wg.Add(1)
	go func() {
		defer cl.wg.Done()
		cc.readLoop()
	}()
}

// established returns the open, dialed connection to addr, nil when there
// is none yet.
func (cl *client) established(addr string) *clientConn {
	cl.mu.Lock()
	cc := cl.conns[addr]
	cl.mu.Unlock()
	if cc == nil {
		return nil
	}
	select {
	case <-cc.ready:
	default:
		return nil
	}
	if cc.dialErr != nil || cc.isClosed() {
		return nil
	}
	return cc
}

// forget removes cc from the table if it is still the entry for its address.
func (cl *client) forget(cc *clientConn) {
	cl.mu.Lock()
	if cl.conns[cc.addr] == cc {
		delete(cl.conns, cc.addr)
	}
	cl.mu.Unlock()
}
