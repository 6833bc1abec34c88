package namesrv

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/scheduler"
	"github.com/rs/zerolog"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
)

// request is a decoded request on its way to the actor that owns the state
// it touches. It carries its reply target: the actor writes the response on
// conn (safe from any goroutine) and nothing waits for it.
type request struct {
	conn *netio.Conn
	cmd  *remoting.Command
	op   any
}

// connClosed tells the route actor a connection closed (sent by OnClose for
// every connection; only brokers' connections matter).
type connClosed struct{ id uint64 }

// scanTick is the route actor's self-sent expiry timer message.
type scanTick struct{}

// routeActor owns the routing table. Started builds an empty table: after a
// restart the table is rebuilt from the brokers' periodic registrations
// (every 30 s), which is why restarting is an acceptable supervision choice.
type routeActor struct {
	cfg      config.Namesrv
	log      zerolog.Logger
	kv       func() kvTable // the KV actor's latest published table
	now      func() time.Time
	done     chan struct{} // closed on the final Stopped
	hooks    hooks
	inflight *atomic.Int64 // see handler.inflight
	table    *routeTable
	cancel   scheduler.CancelFunc
}

// Receive runs on the actor's goroutine; it is the only code that touches a.table.
func (a *routeActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.table = newRouteTable()
		// The timer sends through the root context: an actor context must
		// not be used from the timer's goroutine.
		a.cancel = scheduler.NewTimerScheduler(ctx.ActorSystem().Root).
			SendRepeatedly(a.cfg.ScanNotActiveBrokerInterval, a.cfg.ScanNotActiveBrokerInterval, ctx.Self(), scanTick{})
	case *actor.Restarting, *actor.Stopping:
		a.stopTimer()
	case *actor.Stopped:
		close(a.done)
	case *request:
		a.serve(m)
		a.inflight.Add(-1)
	case scanTick:
		a.expire()
	case connClosed:
		gone := a.table.connClosed(m.id)
		if len(gone) > 0 {
			a.log.Info().Strs("brokers", gone).Uint64("conn", m.id).Msg("broker connection closed, broker removed")
		}
		if a.hooks.connClosed != nil {
			a.hooks.connClosed(m.id, gone)
		}
	}
}

func (a *routeActor) stopTimer() {
	if a.cancel != nil {
		a.cancel()
		a.cancel = nil
	}
}

// expire removes silent brokers and closes their connections.
func (a *routeActor) expire() {
	for _, lb := range a.table.expire(a.now()) {
		a.log.Info().Str("broker", lb.addr).Dur("silent", a.now().Sub(lb.lastUpdate)).Msg("broker expired")
		if lb.conn != nil {
			_ = lb.conn.Close()
		}
	}
}

func (a *routeActor) serve(r *request) {
	a.log.Debug().Int32("code", r.cmd.Code).Str("remote", r.conn.RemoteAddr()).Msg("request")
	switch op := r.op.(type) {
	case *registration:
		if a.table.live[op.brokerAddr] == nil {
			a.log.Info().Str("broker", op.brokerAddr).Str("name", op.brokerName).Int64("id", op.brokerID).
				Str("cluster", op.cluster).Int("topics", len(op.topics)).Msg("broker registered")
		}
		res := a.table.register(op, a.now(), r.conn)
		var ext map[string]string
		if res.masterAddr != "" {
			ext = map[string]string{"haServerAddr": res.haServerAddr, "masterAddr": res.masterAddr}
		}
		reply.WriteOK(r.conn, r.cmd, ext, a.kv().namespaceBody(orderTopicNamespace))
	case unregisterOp:
		a.table.unregister(op.brokerName, op.brokerAddr, op.brokerID)
		a.log.Info().Str("broker", op.brokerAddr).Str("name", op.brokerName).Msg("broker unregistered")
		reply.WriteOK(r.conn, r.cmd, nil, nil)
	case routeOp:
		rd, ok := a.table.route(op.topic)
		if !ok {
			reply.WriteError(r.conn, r.cmd, reply.Errorf(reply.ErrTopicNotExist,
				"No topic route info in name server for the topic: %s", op.topic))
			return
		}
		if a.cfg.OrderMessageEnable {
			rd.OrderTopicConf, _ = a.kv().get(orderTopicNamespace, op.topic)
		}
		reply.WriteOK(r.conn, r.cmd, nil, body.EncodeRouteData(rd))
	case clusterInfoOp:
		ci := a.table.clusterInfo()
		reply.WriteOK(r.conn, r.cmd, nil, body.EncodeJSON(&ci))
	case allTopicsOp:
		if !a.cfg.EnableAllTopicList {
			reply.WriteError(r.conn, r.cmd, reply.Errorf(ErrAllTopicListDisable, "disable"))
			return
		}
		reply.WriteOK(r.conn, r.cmd, nil, body.EncodeJSON(&body.TopicList{TopicList: a.table.allTopics()}))
	case topicsByClusterOp:
		reply.WriteOK(r.conn, r.cmd, nil, body.EncodeJSON(&body.TopicList{TopicList: a.table.topicsByCluster(op.cluster)}))
	case deleteTopicOp:
		a.table.deleteTopic(op.topic, op.cluster)
		reply.WriteOK(r.conn, r.cmd, nil, nil)
	case registerTopicOp:
		a.table.registerTopic(op.topic, op.queueDatas)
		reply.WriteOK(r.conn, r.cmd, nil, nil)
	case writePermOp:
		n := strconv.Itoa(a.table.setWritePerm(op.brokerName, op.wipe))
		key := "addTopicCount"
		if op.wipe {
			key = "wipeTopicCount"
		}
		reply.WriteOK(r.conn, r.cmd, map[string]string{key: n}, nil)
	case dataVersionOp:
		changed, stored := a.table.queryDataVersion(op.brokerAddr, op.dataVersion, a.now())
		var b []byte
		if stored != nil {
			b = body.EncodeJSON(stored)
		}
		reply.WriteOK(r.conn, r.cmd, map[string]string{"changed": strconv.FormatBool(changed)}, b)
	default:
		// The handler only sends ops decoded above; anything else is a bug.
		a.log.Error().Type("op", op).Msg("route actor got an unknown op")
		reply.WriteError(r.conn, r.cmd, reply.ErrSystem)
	}
}
