package netio

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/valyala/bytebufferpool"

	"github.com/actormq/actormq/wire/remoting"
)

const (
	// clientReadBufferBytes sizes the reader's bufio buffer.
	clientReadBufferBytes = 64 << 10
	// frameKeepBytesMax is the largest frame buffer a reader keeps for the
	// next frame; a larger one (a big pull body) is dropped after use.
	frameKeepBytesMax = 1 << 20
)

// clientConn is one client connection: a reader goroutine and serialized writes.
type clientConn struct {
	cl    *client
	addr  string
	ready chan struct{} // closed when the dial finished; nc or dialErr is set
	// dialErr is written before ready closes and read only after.
	dialErr error

	wmu sync.Mutex // serializes frame writes on nc

	mu      sync.Mutex // guards the fields below
	nc      net.Conn
	waiters map[int32]chan *remoting.Command
	closed  bool
	cause   error
}

func newClientConn(cl *client, addr string) *clientConn {
	return &clientConn{
		cl:      cl,
		addr:    addr,
		ready:   make(chan struct{}),
		waiters: make(map[int32]chan *remoting.Command),
	}
}

func (cc *clientConn) isClosed() bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.closed
}

// failure is the error that closed the connection.
func (cc *clientConn) failure() error {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.cause
}

// addWaiter registers a response channel for opaque. The channel receives the
// response, or is closed when the connection fails.
func (cc *clientConn) addWaiter(opaque int32) (chan *remoting.Command, error) {
	ch := make(chan *remoting.Command, 1)
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.closed {
		return nil, fmt.Errorf("%w: %s: %w", ErrClosed, cc.addr, cc.cause)
	}
	cc.waiters[opaque] = ch
	return ch, nil
}

func (cc *clientConn) dropWaiter(opaque int32) {
	cc.mu.Lock()
	delete(cc.waiters, opaque)
	cc.mu.Unlock()
}

// writeCmd encodes cmd into a pooled buffer (released before returning) and
// writes it whole. A failed or timed-out write closes the connection.
func (cc *clientConn) writeCmd(cmd *remoting.Command) error {
	buf := bytebufferpool.Get()
	defer bytebufferpool.Put(buf)
	buf.B = remoting.AppendFrame(buf.B[:0], cmd)

	cc.wmu.Lock()
	defer cc.wmu.Unlock()
	if cc.isClosed() {
		return fmt.Errorf("%w: %s: %w", ErrClosed, cc.addr, cc.failure())
	}
	_ = cc.nc.SetWriteDeadline(time.Now().Add(cc.cl.cfg.WriteTimeout))
	if _, err := cc.nc.Write(buf.B); err != nil {
		cc.fail(err)
		return fmt.Errorf("%w: write to %s: %w", ErrClosed, cc.addr, err)
	}
	return nil
}

// fail closes the connection once, fails every waiter and forgets cc so the
// next call redials.
func (cc *clientConn) fail(cause error) {
	cc.mu.Lock()
	if cc.closed {
		cc.mu.Unlock()
		return
	}
	cc.closed = true
	cc.cause = cause
	pending := cc.waiters
	cc.waiters = nil
	nc := cc.nc
	cc.mu.Unlock()

	if nc != nil {
		_ = nc.Close()
	}
	for _, ch := range pending {
		close(ch)
	}
	cc.cl.forget(cc)
	cc.cl.log.Debug().Err(cause).Str("addr", cc.addr).Int("failedWaiters", len(pending)).Msg("connection closed")
}

// readLoop reads frames until the connection fails. It runs on the reader
// goroutine tracked by the client.
func (cc *clientConn) readLoop() {
	br := bufio.NewReaderSize(cc.nc, clientReadBufferBytes)
	var prefix [4]byte
	var frame []byte
	for {
		if _, err := io.ReadFull(br, prefix[:]); err != nil {
			cc.fail(err)
			return
		}
		size, err := remoting.FrameLength(prefix[:], cc.cl.cfg.FrameBytesMax)
		if err != nil {
			cc.cl.log.Warn().Err(err).Str("addr", cc.addr).Msg("bad frame length; closing connection")
			cc.fail(err)
			return
		}
		if cap(frame) < size {
			frame = make([]byte, size)
		}
		frame = frame[:size]
		copy(frame, prefix[:])
		if _, err := io.ReadFull(br, frame[4:]); err != nil {
			cc.fail(err)
			return
		}
		cmd, err := remoting.DecodeFrame(frame) // copies: frame is reused
		if err != nil {
			cc.cl.log.Warn().Err(err).Str("addr", cc.addr).Msg("undecodable frame; closing connection")
			cc.fail(err)
			return
		}
		if cap(frame) > frameKeepBytesMax {
			frame = nil
		}
		if cmd.IsResponse() {
			cc.deliver(cmd)
		} else {
			cc.serve(cmd)
		}
	}
}

// deliver hands a response to its waiter; the channel has room for it.
func (cc *clientConn) deliver(resp *remoting.Command) {
	cc.mu.Lock()
	ch, ok := cc.waiters[resp.Opaque]
	delete(cc.waiters, resp.Opaque)
	cc.mu.Unlock()
	if !ok {
		cc.cl.log.Debug().Str("addr", cc.addr).Int32("opaque", resp.Opaque).Msg("response for unknown opaque dropped")
		return
	}
	ch <- resp
}

// serve answers a request the server sent us, on a tracked goroutine so a
// slow handler never stalls the responses behind it on this connection.
func (cc *clientConn) serve(req *remoting.Command) {
	cl := cc.cl
	if cl.cfg.OnRequest == nil {
		resp := remoting.NewResponse(req, remoting.RespRequestCodeNotSupported,
			fmt.Sprintf(" request type %d not supported", req.Code))
		cc.reply(req, resp)
		return
	}
	select {
	case cl.serveSlots <- struct{}{}:
	default:
		cl.log.Warn().Str("addr", cc.addr).Int32("code", req.Code).Msg("too many server requests in flight; answering busy")
		cc.reply(req, remoting.NewResponse(req, remoting.RespSystemBusy, "[OVERLOAD]too many requests in flight"))
		return
	}
	// The reader goroutine holds a wg count, so this Add cannot race Wait at zero.
	cl.wg.Add(1)
	go func() {
		defer cl.wg.Done()
		defer func() { <-cl.serveSlots }()
		if resp := cl.cfg.OnRequest(cc.addr, req); resp != nil {
			cc.reply(req, resp)
		}
	}()
}

// reply writes resp as the answer to req: req's opaque, response flag set.
// A oneway request gets no answer, as in Java.
func (cc *clientConn) reply(req, resp *remoting.Command) {
	if req.IsOneway() {
		return
	}
	resp.Opaque = req.Opaque
	resp.Flag |= remoting.FlagResponse
	if err := cc.writeCmd(resp); err != nil {
		cc.cl.log.Debug().Err(err).Str("addr", cc.addr).Int32("code", req.Code).Msg("reply to server request not sent")
	}
}
