package broker

import (
	"fmt"
	"sync/atomic"

	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/rs/zerolog"
)

// Handler serves one request code. It runs on a gnet event loop and must not
// block: it hands the command to the owning actor with a non-blocking Send.
type Handler = func(c *netio.Conn, cmd *remoting.Command)

// router is the netio.Handler of one broker listener. It owns no state
// beyond the immutable code → handler table: every request goes to the actor
// that owns what it touches. The draining flag is the broker's, shared by
// both listeners.
type router struct {
	handlers map[int32]Handler
	onClose  []func(*netio.Conn)
	draining *atomic.Bool
	log      zerolog.Logger
}

func newRouter(log zerolog.Logger, draining *atomic.Bool) *router {
	return &router{handlers: make(map[int32]Handler), draining: draining, log: log}
}

// without returns a router serving the same handlers except codes, for the
// fast channel (listenPort-2), which Java serves without pulls (wire doc §12).
func (r *router) without(codes ...int32) *router {
	fast := newRouter(r.log, r.draining)
	for code, h := range r.handlers {
		fast.handlers[code] = h
	}
	for _, code := range codes {
		delete(fast.handlers, code)
	}
	fast.onClose = r.onClose
	return fast
}

// add merges a package's handlers; a code served twice is a wiring bug.
func (r *router) add(handlers map[int32]Handler) {
	for code, h := range handlers {
		if _, dup := r.handlers[code]; dup {
			panic(fmt.Sprintf("broker: request code %d registered twice", code))
		}
		r.handlers[code] = h
	}
}

// OnRequest hands cmd to the handler of its code, which then owns it (and
// releases it, remoting.Command.Release). A request no handler takes is
// answered here and released here: a send's or pull's pooled frame would
// otherwise be lost to the GC.
func (r *router) OnRequest(c *netio.Conn, cmd *remoting.Command) {
	if r.draining.Load() {
		if cmd.Code == remoting.ReqConsumerSendMsgBack {
			// The Go client ignores a send-back's response code, so an error
			// answer would lose the message; a closed connection is a
			// transport error, after which it consumes the message again.
			_ = c.Close()
			cmd.Release()
			return
		}
		refuse(c, cmd, reply.Errorf(reply.ErrServiceNotAvailable, "broker is shutting down"))
		return
	}
	h, ok := r.handlers[cmd.Code]
	if !ok {
		r.log.Debug().Int32("code", cmd.Code).Str("remote", c.RemoteAddr()).Msg("request code not supported")
		refuse(c, cmd, reply.Errorf(reply.ErrNotSupported, " request type %d not supported", cmd.Code))
		return
	}
	h(c, cmd)
}

// refuse answers cmd with err and releases it (WriteError keeps nothing of
// it).
func refuse(c *netio.Conn, cmd *remoting.Command, err error) {
	reply.WriteError(c, cmd, err)
	cmd.Release()
}

func (r *router) OnClose(c *netio.Conn) {
	for _, f := range r.onClose {
		f(c)
	}
}
