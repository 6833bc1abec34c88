package namesrv

import (
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/remoting"
)

// handler is the netio.Handler of the NameServer. It runs on gnet event
// loops and never blocks: it decodes the request and Sends it to the owning
// actor (unbounded mailboxes, so Send never waits), or answers at once when
// no state is involved (errors, GET_NAMESRV_CONFIG).
type handler struct {
	root       *actor.RootContext
	routes, kv *actor.PID
	cfg        config.Namesrv
	configText []byte // GET_NAMESRV_CONFIG body, fixed at Start
	log        zerolog.Logger
	// inflight counts requests sent to the actors and not yet served; the
	// actors decrement it. It bounds the (unbounded) mailboxes.
	inflight *atomic.Int64
}

// requestsInflightMax bounds the requests queued at the actors. NameServer
// traffic is a registration per broker every 30 s and a route poll per
// client topic every 30 s, so only a flood reaches it; beyond it requests
// are answered SYSTEM_BUSY at once instead of growing the mailboxes.
const requestsInflightMax = 1 << 16

var _ netio.Handler = (*handler)(nil)

// OnRequest runs on an event loop; it takes ownership of cmd.
func (h *handler) OnRequest(c *netio.Conn, cmd *remoting.Command) {
	if cmd.IsResponse() {
		// Responses to our own invokes are matched by netio; a stray one is dropped.
		return
	}
	if op, ok, err := decodeRouteRequest(cmd, h.cfg.BrokerChannelExpiredTime); ok {
		h.dispatch(c, cmd, h.routes, op, err)
		return
	}
	if op, ok, err := decodeKVRequest(cmd); ok {
		h.dispatch(c, cmd, h.kv, op, err)
		return
	}
	if cmd.Code == remoting.ReqGetNamesrvConfig {
		reply.WriteOK(c, cmd, nil, h.configText)
		return
	}
	h.log.Debug().Int32("code", cmd.Code).Str("remote", c.RemoteAddr()).Msg("request code not supported")
	reply.WriteError(c, cmd, notSupported(cmd.Code))
}

func (h *handler) dispatch(c *netio.Conn, cmd *remoting.Command, to *actor.PID, op any, err error) {
	if err != nil {
		h.log.Debug().Err(err).Int32("code", cmd.Code).Str("remote", c.RemoteAddr()).Msg("bad request")
		reply.WriteError(c, cmd, err)
		return
	}
	if h.inflight.Add(1) > requestsInflightMax {
		h.inflight.Add(-1)
		reply.WriteError(c, cmd, errBusy)
		return
	}
	h.root.Send(to, &request{conn: c, cmd: cmd, op: op})
}

// OnClose runs on an event loop once per connection. Every close is
// forwarded: only the route actor knows which connections are brokers'.
func (h *handler) OnClose(c *netio.Conn) {
	h.root.Send(h.routes, connClosed{id: c.ID()})
}
