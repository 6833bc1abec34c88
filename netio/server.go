package netio

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/actormq/actormq/wire/remoting"
)

// Server defaults.
const (
	// IdleTimeoutDefault is Java's serverChannelMaxIdleTimeSeconds.
	IdleTimeoutDefault = 120 * time.Second
	// OutboundBytesMaxDefault bounds what one connection may have queued in
	// gnet's outbound buffer: a peer that stops reading is closed instead of
	// growing the broker's memory without limit.
	OutboundBytesMaxDefault = 256 << 20
	// idleCheckMax is the longest pause between two idle scans.
	idleCheckMax = time.Second
	// idleCheckMin keeps tests with tiny idle timeouts from spinning.
	idleCheckMin = 5 * time.Millisecond
)

// ServerConfig configures a Server. It is read once by Start.
type ServerConfig struct {
	Addr          string // "127.0.0.1:10911"; port 0 picks a free port
	FrameBytesMax int    // default remoting.FrameBytesMaxDefault
	Logger        zerolog.Logger
	// EventLoops is the number of gnet event loops; 0 means one per CPU.
	EventLoops int
	// IdleTimeout closes a connection without reads or writes for this long;
	// 0 means IdleTimeoutDefault, negative disables the check.
	IdleTimeout time.Duration
	// OutboundBytesMax closes a connection whose unsent output exceeds it;
	// 0 means OutboundBytesMaxDefault, negative disables the check.
	OutboundBytesMax int
	// WriteBatchIovecsMax bounds the buffers of one writev when a connection
	// flushes its pending writes; 0 means WriteBatchIovecsMaxDefault, the
	// most Linux accepts.
	WriteBatchIovecsMax int
	// WriteBatchBytesMax bounds the bytes of one writev (a single larger
	// buffer still goes alone); 0 means WriteBatchBytesMaxDefault.
	WriteBatchBytesMax int
}

// Validate fills defaults and rejects impossible values.
func (c *ServerConfig) Validate() error {
	if c.FrameBytesMax == 0 {
		c.FrameBytesMax = remoting.FrameBytesMaxDefault
	}
	if c.FrameBytesMax < 8 {
		return fmt.Errorf("%w: FrameBytesMax %d is below the 8-byte frame minimum", ErrConfig, c.FrameBytesMax)
	}
	if c.EventLoops < 0 {
		return fmt.Errorf("%w: EventLoops %d is negative", ErrConfig, c.EventLoops)
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = IdleTimeoutDefault
	}
	if c.OutboundBytesMax == 0 {
		c.OutboundBytesMax = OutboundBytesMaxDefault
	}
	if c.WriteBatchIovecsMax == 0 {
		c.WriteBatchIovecsMax = WriteBatchIovecsMaxDefault
	}
	if c.WriteBatchIovecsMax < 1 || c.WriteBatchIovecsMax > WriteBatchIovecsMaxDefault {
		return fmt.Errorf("%w: WriteBatchIovecsMax %d is outside 1..%d", ErrConfig, c.WriteBatchIovecsMax, WriteBatchIovecsMaxDefault)
	}
	if c.WriteBatchBytesMax == 0 {
		c.WriteBatchBytesMax = WriteBatchBytesMaxDefault
	}
	if c.WriteBatchBytesMax < 1 {
		return fmt.Errorf("%w: WriteBatchBytesMax %d is negative", ErrConfig, c.WriteBatchBytesMax)
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("%w: Addr %q: %w", ErrConfig, c.Addr, err)
	}
	return nil
}

// Server is a gnet-based remoting server.
type Server struct{ impl *server }

// Server lifecycle states.
const (
	stateNew int32 = iota
	stateRunning
	stateStopped
)

type server struct {
	cfg ServerConfig
	h   Handler
	// trafficDone is h when it implements TrafficDoneHandler, else nil.
	trafficDone TrafficDoneHandler
	log         zerolog.Logger
	counts      writeCounters

	state    atomic.Int32
	stopOnce sync.Once
	eng      gnet.Engine   // set in OnBoot, before booted closes
	addr     string        // set in OnBoot, before booted closes
	bootErr  error         // set in OnBoot, before booted closes
	booted   chan struct{} // closed by OnBoot
	runDone  chan struct{} // closed when gnet.Run returned
	runErr   error         // gnet.Run's result, read after runDone

	nextID atomic.Uint64
	// clock is a coarse wall clock in Unix nanoseconds, advanced by the idle
	// scan, so that touching a connection on every read costs one atomic store
	// instead of a time.Now call.
	clock atomic.Int64

	mu       sync.Mutex // guards the fields below; taken on open/close, not per frame
	conns    map[uint64]*conn
	loops    map[gnet.EventLoop]*loopFlushes // each loop's due list, made on its first connection
	stopping bool
	drained  chan struct{} // closed once stopping and conns is empty
}

// NewServer builds a server; Start listens. h is called from event loops (see Handler).
func NewServer(cfg ServerConfig, h Handler) *Server {
	td, _ := h.(TrafficDoneHandler)
	return &Server{impl: &server{
		cfg:         cfg,
		h:           h,
		trafficDone: td,
		log:         cfg.Logger.With().Str("component", "netio").Logger(),
		booted:      make(chan struct{}),
		runDone:     make(chan struct{}),
		conns:       make(map[uint64]*conn),
		loops:       make(map[gnet.EventLoop]*loopFlushes),
		drained:     make(chan struct{}),
	}}
}

// Start validates the config, listens and serves; it returns once the
// listener is bound (Addr is valid then). It may be called once.
func (s *Server) Start() error {
	srv := s.impl
	if !srv.state.CompareAndSwap(stateNew, stateRunning) {
		return ErrStarted
	}
	if err := srv.cfg.Validate(); err != nil {
		srv.state.Store(stateStopped)
		close(srv.runDone)
		return err
	}
	srv.clock.Store(time.Now().UnixNano())
	opts := []gnet.Option{
		gnet.WithMulticore(true),
		// A restarted broker must rebind its port while old connections sit in TIME_WAIT.
		gnet.WithReuseAddr(true),
		gnet.WithNumEventLoop(srv.cfg.EventLoops),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithLogger(gnetLogger{srv.log}),
		gnet.WithTicker(srv.cfg.IdleTimeout > 0),
	}
	// The server is the one owner of the engine goroutine: runDone tracks it
	// and Shutdown waits for it.
	go func() {
		defer close(srv.runDone)
		srv.runErr = gnet.Run(&events{srv: srv}, "tcp://"+srv.cfg.Addr, opts...)
	}()
	select {
	case <-srv.booted:
		if srv.bootErr != nil {
			<-srv.runDone
			srv.state.Store(stateStopped)
			return srv.bootErr
		}
		srv.log.Info().Str("addr", srv.addr).Msg("remoting server listening")
		return nil
	case <-srv.runDone:
		srv.state.Store(stateStopped)
		if srv.runErr == nil {
			return fmt.Errorf("netio: engine exited before boot on %s", srv.cfg.Addr)
		}
		return fmt.Errorf("netio: listen on %s: %w", srv.cfg.Addr, srv.runErr)
	}
}

// Addr is the bound "ip:port" (valid after Start returned nil). With port 0
// it carries the port the kernel picked.
func (s *Server) Addr() string { return s.impl.addr }

// Shutdown closes the listener and every connection and waits for the event
// loops to exit, or for ctx. Idempotent and safe from any goroutine; a later
// call waits for the same exit.
//
// Order, so that every queued write is released (buffers back in the pool,
// done called) before the loops stop:
//  1. refuse new connections and close every open one;
//  2. wait until every OnClose ran (OnClose releases the writes still
//     pending; later writes fail with ErrClosed);
//  3. stop the engine and wait for gnet.Run to return.
func (s *Server) Shutdown(ctx context.Context) error {
	srv := s.impl
	if srv.state.CompareAndSwap(stateNew, stateStopped) {
		return nil // never started
	}
	select {
	case <-srv.runDone:
		return nil
	default:
	}
	var err error
	srv.stopOnce.Do(func() { err = srv.stop(ctx) })
	if err != nil {
		return err
	}
	select {
	case <-srv.runDone:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("netio: shutdown of %s: %w", srv.addr, ctx.Err())
	}
}

// stop runs steps 1–3 of Shutdown once.
func (srv *server) stop(ctx context.Context) error {
	srv.state.Store(stateStopped)
	select { // a Start still in progress publishes eng at boot
	case <-srv.booted:
	case <-srv.runDone:
		return nil
	}
	srv.mu.Lock()
	srv.stopping = true
	open := make([]*conn, 0, len(srv.conns))
	for _, c := range srv.conns {
		open = append(open, c)
	}
	if len(srv.conns) == 0 {
		close(srv.drained)
	}
	srv.mu.Unlock()
	for _, c := range open {
		c.close()
	}
	var err error
	select {
	case <-srv.drained:
	case <-ctx.Done():
		err = fmt.Errorf("netio: shutdown of %s: %d connections still open: %w", srv.addr, len(open), ctx.Err())
		srv.log.Warn().Err(err).Msg("stopping engine with open connections; their queued writes may be dropped")
	}
	// Engine.Stop polls for the engine's exit every 500 ms; we already track
	// the exit through runDone, so hand it a cancelled context: it signals the
	// engine and returns at once.
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if stopErr := srv.eng.Stop(done); stopErr != nil && !errors.Is(stopErr, context.Canceled) {
		srv.log.Debug().Err(stopErr).Msg("engine stop")
	}
	return err
}

// register adds c unless the server is stopping.
func (srv *server) register(c *conn) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.stopping {
		return false
	}
	srv.conns[c.id] = c
	c.flushes = srv.loopFlushesFor(c.gc.EventLoop())
	return true
}

// unregister removes c and signals drained when it was the last one.
func (srv *server) unregister(c *conn) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if _, ok := srv.conns[c.id]; !ok {
		return
	}
	delete(srv.conns, c.id)
	if srv.stopping && len(srv.conns) == 0 {
		close(srv.drained)
	}
}

// boundAddr asks the kernel for the listener's address: the configured
// address may say port 0. A dup of gnet's own listener fd is used rather than
// binding a net.Listener first, which would race for the port.
func boundAddr(eng gnet.Engine) (string, error) {
	fd, err := eng.Dup()
	if err != nil {
		return "", fmt.Errorf("netio: dup listener: %w", err)
	}
	defer unix.Close(fd)
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return "", fmt.Errorf("netio: getsockname: %w", err)
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port)), nil
	case *unix.SockaddrInet6:
		return net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port)), nil
	default:
		return "", fmt.Errorf("netio: listener address of type %T", sa)
	}
}

// idleCheckInterval is how often the idle scan runs for a given timeout:
// a quarter of it, so a connection closes at most 25 % late.
func idleCheckInterval(idle time.Duration) time.Duration {
	return min(max(idle/4, idleCheckMin), idleCheckMax)
}
