package netio

import (
	"time"

	"github.com/panjf2000/gnet/v2"
)

// events is the gnet EventHandler of one server. Every method except OnTick
// runs on an event loop and must not block.
type events struct {
	gnet.BuiltinEventEngine
	srv *server
}

// OnBoot runs once the listener is bound, before any loop starts: it records
// the engine and the real bound address and releases Start.
func (e *events) OnBoot(eng gnet.Engine) gnet.Action {
	srv := e.srv
	defer close(srv.booted)
	srv.eng = eng
	addr, err := boundAddr(eng)
	if err != nil {
		srv.bootErr = err
		return gnet.Shutdown
	}
	srv.addr = addr
	return gnet.None
}

// OnOpen attaches the per-connection state as the gnet context.
func (e *events) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	srv := e.srv
	c := newConn(srv, gc)
	if !srv.register(c) {
		return nil, gnet.Close // shutting down: OnClose sees no context
	}
	gc.SetContext(c)
	srv.log.Debug().Uint64("conn", c.id).Str("remote", c.remote).Msg("connection opened")
	return nil, gnet.None
}

// OnClose releases the connection's partly received frame, fails its
// pending invokes and tells the handler, once.
func (e *events) OnClose(gc gnet.Conn, err error) gnet.Action {
	c, _ := gc.Context().(*conn)
	if c == nil {
		return gnet.None
	}
	gc.SetContext(nil)
	c.partial.release() // no OnTraffic after this: the context is gone
	if !c.markClosed() {
		return gnet.None
	}
	e.srv.unregister(c)
	ev := e.srv.log.Debug().Uint64("conn", c.id).Str("remote", c.remote)
	if err != nil {
		ev = ev.Err(err)
	}
	ev.Msg("connection closed")
	e.srv.h.OnClose(c.pub)
	return gnet.None
}

// OnTraffic cuts every complete frame out of the inbound buffer and
// dispatches it, tells a TrafficDoneHandler that the read is handled, then
// flushes what the read's requests (and any other writer meanwhile) queued:
// one writev for all of it; then the other connections of the loop that
// became due meanwhile (loopflush.go). Broken framing closes the connection, after the
// answers to the frames before it are flushed.
func (e *events) OnTraffic(gc gnet.Conn) gnet.Action {
	c, _ := gc.Context().(*conn)
	if c == nil {
		return gnet.Close
	}
	c.touch()
	c.holdFlush()
	c.flushes.claim()
	err := cutFrames(gc, &c.partial, e.srv.cfg.FrameBytesMax, c.dispatchFn)
	if c.requests > 0 {
		c.requests = 0
		if e.srv.trafficDone != nil {
			e.srv.trafficDone.TrafficDone(c.pub)
		}
	}
	c.flush()
	c.flushes.flushAll()
	if err != nil {
		e.srv.log.Warn().Err(err).Uint64("conn", c.id).Str("remote", c.remote).Msg("broken framing; closing connection")
		return gnet.Close
	}
	return gnet.None
}

// OnTick runs on gnet's ticker goroutine (not an event loop): it advances the
// coarse clock and closes connections idle for longer than IdleTimeout.
func (e *events) OnTick() (time.Duration, gnet.Action) {
	srv := e.srv
	now := time.Now().UnixNano()
	srv.clock.Store(now)
	idle := srv.cfg.IdleTimeout
	var stale []*conn
	srv.mu.Lock()
	for _, c := range srv.conns {
		if time.Duration(now-c.lastActive.Load()) > idle {
			stale = append(stale, c)
		}
	}
	srv.mu.Unlock()
	for _, c := range stale {
		srv.log.Debug().Uint64("conn", c.id).Str("remote", c.remote).Dur("idle", idle).Msg("closing idle connection")
		c.close()
	}
	return idleCheckInterval(idle), gnet.None
}
