package netio

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/valyala/bytebufferpool"
	"golang.org/x/sys/unix"

	"github.com/actormq/actormq/wire/remoting"
)

const (
	// clientReadBufferBytes sizes the reader's bufio buffer.
	clientReadBufferBytes = 64 << 10
	// frameKeepBytesMax is the largest frame buffer a reader keeps for the
	// next frame; a larger one (a big pull body) is dropped after use.
	frameKeepBytesMax = 1 << 20
	// frameListKeepMax is the largest pending-frame list a connection keeps
	// for reuse; a larger one (a burst) is dropped after its flush.
	frameListKeepMax = 4096
)

// clientConn is one client connection: a reader goroutine and serialized writes.
type clientConn struct {
	cl    *client
	addr  string
	ready chan struct{} // closed when the dial finished; nc or dialErr is set
	// dialErr is written before ready closes and read only after.
	dialErr error

	// Outgoing frames, coalesced: writers append under outMu, and the writer
	// that finds no flush under way becomes the flusher: it writes
	// everything pending with one writev, again until nothing is left, so a
	// burst of invokes costs one syscall per round instead of one each.
	// Rejected: a writer goroutine per connection, a hand-off and a wake-up
	// per batch even when the connection is idle and the frame could go at once.
	outMu    sync.Mutex
	out      []*bytebufferpool.ByteBuffer // pending frames, in order
	outSpare []*bytebufferpool.ByteBuffer // an emptied list for the next swap
	flushing bool                         // a writer is flushing
	// The flusher's writev vector; only the flusher touches it.
	iov     [][]byte
	iovBufs net.Buffers // iov as WriteTo consumes it (a field: no allocation)
	// writeRaw's state: the unwritten rest, the error, and its RawConn
	// callback (cc.writeRawStep, bound at the first raw write).
	rawIov  [][]byte
	rawErr  error
	rawStep func(fd uintptr) bool

	mu      sync.Mutex // guards the fields below
	nc      net.Conn
	raw     syscall.RawConn // nc's descriptor for writeRaw; nil if nc has none
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

// writeCmd encodes cmd into a pooled buffer and queues it; the flush that
// writes it returns the buffer to the pool. The writer that finds no flush
// under way flushes (and returns its error); the others return once their
// frame is queued, and a later write failure closes the connection, which
// fails their invokes with ErrClosed.
func (cc *clientConn) writeCmd(cmd *remoting.Command) error {
	buf := remoting.NewOutFrame(frameBytesGuess)
	buf.B = remoting.AppendFrame(buf.B[:0], cmd)
	return cc.queueFrame(buf)
}

// queueFrame queues buf's encoded frames as writeCmd does, taking buf over.
func (cc *clientConn) queueFrame(buf *bytebufferpool.ByteBuffer) error {
	if cc.isClosed() {
		releaseFrame(buf)
		return fmt.Errorf("%w: %s: %w", ErrClosed, cc.addr, cc.failure())
	}
	cc.outMu.Lock()
	cc.out = append(cc.out, buf)
	if cc.flushing {
		cc.outMu.Unlock()
		return nil
	}
	cc.flushing = true
	cc.outMu.Unlock()
	// Let the goroutines that are already runnable, typically invokers woken
	// by the same read of responses, queue their frames first: without the
	// yield each of them finds the previous write finished and writes alone.
	// When nothing else is runnable it returns at once.
	runtime.Gosched()
	return cc.flushOut()
}

// flushOut writes pending frames until none is left, then releases the
// flusher role. After a failure it releases the remaining frames unwritten.
func (cc *clientConn) flushOut() error {
	var err error
	cc.outMu.Lock()
	for len(cc.out) > 0 {
		frames := cc.out
		cc.out, cc.outSpare = cc.outSpare, nil
		cc.outMu.Unlock()
		if err == nil {
			err = cc.writeFrames(frames)
		}
		for i, f := range frames {
			releaseFrame(f)
			frames[i] = nil
		}
		cc.outMu.Lock()
		if cap(frames) <= frameListKeepMax {
			cc.outSpare = frames[:0]
		}
	}
	cc.flushing = false
	cc.outMu.Unlock()
	return err
}

// writeFrames writes frames with one writev (writeRaw, or past its limits
// net.Buffers.WriteTo, which splits past IOV_MAX; both repeat short
// writes). A failed or timed-out write closes the connection, since a
// partial frame leaves the stream unusable.
func (cc *clientConn) writeFrames(frames []*bytebufferpool.ByteBuffer) error {
	if cc.isClosed() {
		return fmt.Errorf("%w: %s: %w", ErrClosed, cc.addr, cc.failure())
	}
	for _, f := range frames {
		cc.iov = append(cc.iov, f.B)
	}
	_ = cc.nc.SetWriteDeadline(time.Now().Add(cc.cl.cfg.WriteTimeout))
	var err error
	if cc.raw != nil && len(cc.iov) <= WriteBatchIovecsMaxDefault && iovLen(cc.iov) <= clientRawWriteBytesMax {
		err = cc.writeRaw(cc.iov)
	} else {
		cc.iovBufs = cc.iov
		_, err = cc.iovBufs.WriteTo(cc.nc)
	}
	clear(cc.iov)
	cc.iov, cc.iovBufs = cc.iov[:0], nil
	if cap(cc.iov) > frameListKeepMax {
		cc.iov = nil
	}
	if err != nil {
		cc.fail(err)
		return fmt.Errorf("%w: write to %s: %w", ErrClosed, cc.addr, err)
	}
	return nil
}

// clientRawWriteBytesMax is the largest write writeRaw makes. Larger than
// the server's rawWritevBytesMax: a client's frames are heap buffers, never
// a mapped page that may fault to disk, and a non-blocking writev copies at
// most what the socket buffer takes; 512 KiB holds mqbench's eight 32 KiB
// batches in flight (8 frames of 64x128 B batches, 80 KiB, went through
// WriteTo with a 64 KiB limit).
const clientRawWriteBytesMax = 512 << 10

// writeRaw writes iov (at most clientRawWriteBytesMax bytes in at most
// IOV_MAX slices) to the socket with raw writev calls (writevFDRawMax),
// waiting in the netpoller only when the socket is full; the write
// deadline bounds that wait. Why not net.Buffers.WriteTo
// (the way before, and still the way for larger writes): its writev goes
// through the runtime's syscall entry, and on loopback the kernel runs the
// receiver's TCP path inside the call, so a write often outlasts a sysmon
// tick; sysmon then hands the P to another thread and keeps polling every
// 20 µs. In mqbench's 64x128 B batched sends sysmon was 17-20% of mqbench's
// CPU (perf), 0.3% with writeRaw and rawReader, and mqbench's CPU per
// message fell by 12%. It may shorten the slices of iov.
func (cc *clientConn) writeRaw(iov [][]byte) error {
	if cc.rawStep == nil {
		cc.rawStep = cc.writeRawStep
	}
	cc.rawIov, cc.rawErr = iov, nil
	err := cc.raw.Write(cc.rawStep)
	werr := cc.rawErr
	cc.rawIov, cc.rawErr = nil, nil
	if err != nil {
		return err
	}
	return werr
}

// writeRawStep is writeRaw's RawConn callback: it writes cc.rawIov until
// it is empty, an error (cc.rawErr), or EAGAIN (false: wait for
// writability). A method value bound once, not a func literal over
// writeRaw's locals, which escaped: 3 allocations a write.
func (cc *clientConn) writeRawStep(fd uintptr) bool {
	for len(cc.rawIov) > 0 {
		n, err := writevFDRawMax(int(fd), cc.rawIov, clientRawWriteBytesMax)
		switch {
		case err == syscall.EAGAIN:
			return false // wait until writable, then called again
		case err == syscall.EINTR:
			continue
		case err != nil:
			cc.rawErr = err
			return true
		}
		cc.rawIov = skipWritten(cc.rawIov, n)
	}
	return true
}

// rawReader reads a socket with raw read calls, waiting in the netpoller
// only when nothing is there: writeRaw's reason for the reads. A read that
// enters through the runtime's syscall entry also wakes sysmon when every P
// was idle (the client waiting for answers), and sysmon then polls every
// 20 µs again; a client alternating between waiting and sending paid that
// for each answer it read.
//
// Its state lives in the struct and its callback is a method value bound
// once (newRawReader): a func literal over Read's locals escaped, 3
// allocations a read. Only readLoop uses it.
type rawReader struct {
	rc   syscall.RawConn
	p    []byte // the current Read's buffer
	n    int
	err  error
	step func(fd uintptr) bool // r.readStep
}

func newRawReader(rc syscall.RawConn) *rawReader {
	r := &rawReader{rc: rc}
	r.step = r.readStep
	return r
}

func (r *rawReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(p) > clientRawWriteBytesMax {
		// A frame larger than bufio's buffer is read straight into it:
		// one raw read must not copy a whole receive buffer (MiBs on
		// loopback) while it holds its P, for the writes' reason.
		p = p[:clientRawWriteBytesMax]
	}
	r.p, r.n, r.err = p, 0, nil
	err := r.rc.Read(r.step)
	n, rerr := r.n, r.err
	r.p, r.err = nil, nil
	if err != nil {
		return 0, err
	}
	return n, rerr
}

// readStep is the RawConn callback of Read: one read of r.p, false on
// EAGAIN (wait until readable).
func (r *rawReader) readStep(fd uintptr) bool {
	for {
		m, _, errno := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&r.p[0])), uintptr(len(r.p)))
		switch errno {
		case 0:
			r.n = int(m)
			if r.n == 0 {
				r.err = io.EOF
			}
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false // wait until readable, then called again
		default:
			r.err = errno
			return true
		}
	}
}

// iovLen is the number of bytes in iov.
func iovLen(iov [][]byte) int {
	n := 0
	for _, b := range iov {
		n += len(b)
	}
	return n
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
	var src io.Reader = cc.nc
	if cc.raw != nil {
		src = newRawReader(cc.raw)
	}
	br := bufio.NewReaderSize(src, clientReadBufferBytes)
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
		var cmd *remoting.Command
		taken := cc.cl.cfg.OnResponseFrame != nil && cc.cl.cfg.OnResponseFrame(frame)
		if !taken {
			cmd, err = remoting.DecodeFrame(frame) // copies: frame is reused
			if err != nil {
				cc.cl.log.Warn().Err(err).Str("addr", cc.addr).Msg("undecodable frame; closing connection")
				cc.fail(err)
				return
			}
		}
		if cap(frame) > frameKeepBytesMax {
			frame = nil
		}
		if taken {
			continue
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
