package clients

import (
	"math"
	"sort"
	"sync/atomic"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/meta"
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

// Messages the client manager receives.
type (
	connRequest struct { // a request to answer on c
		c   *netio.Conn
		cmd *remoting.Command
	}
	connClosed  struct{ c *netio.Conn }
	expiryTick  struct{}
	syncRequest struct{} // answered with syncRequest{} once reached
)

// channel is one connection's registration in a group (Java's ClientChannelInfo).
type channel struct {
	conn       *netio.Conn
	clientID   string
	language   string
	version    int32
	lastUpdate time.Time
}

// consumerGroup is a consumer group's live state (Java's ConsumerGroupInfo).
type consumerGroup struct {
	name             string
	channels         map[uint64]*channel // by connection id
	subs             map[string]body.SubscriptionData
	consumeType      string
	messageModel     string
	consumeFromWhere string
}

// producerGroup is a producer group's live connections.
type producerGroup struct {
	channels map[uint64]*channel
}

// managerActor owns every registration. Goroutine: the actor's, for all
// methods.
type managerActor struct {
	m         *Manager
	cfg       config.Broker
	meta      *meta.Metadata
	log       zerolog.Logger
	opt       options
	consumers map[string]*consumerGroup
	producers map[string]*producerGroup
	timer     *time.Timer
}

func newManagerActor(m *Manager, cfg config.Broker, md *meta.Metadata, log zerolog.Logger, opt options) *managerActor {
	return &managerActor{
		m: m, cfg: cfg, meta: md, log: log, opt: opt,
		consumers: make(map[string]*consumerGroup),
		producers: make(map[string]*producerGroup),
	}
}

// Receive dispatches one message.
func (a *managerActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		// A new incarnation has no registrations: drop views a previous one
		// published (only reachable if the decider is changed to restart).
		a.m.views.Range(func(k, _ any) bool { a.m.views.Delete(k); return true })
		a.m.producerConns.Range(func(k, _ any) bool { a.m.producerConns.Delete(k); return true })
		a.m.producerClients.Range(func(k, _ any) bool { a.m.producerClients.Delete(k); return true })
		a.armTimer(ctx)
	case *actor.Stopping, *actor.Restarting:
		if a.timer != nil {
			a.timer.Stop()
		}
	case *connRequest:
		a.serve(ctx, msg.c, msg.cmd)
	case *connClosed:
		a.removeConn(msg.c, "closed")
	case *expiryTick:
		a.expire()
		a.armTimer(ctx)
	case *syncRequest:
		ctx.Respond(&syncRequest{})
	case *query:
		a.answerQuery(ctx, msg)
	}
}

// armTimer schedules the next expiry scan. A one-shot runtime timer that Sends
// a tick is used rather than a goroutine with a ticker: nothing to track, and
// Stopping cancels it.
func (a *managerActor) armTimer(ctx actor.Context) {
	if a.opt.scanInterval <= 0 {
		return
	}
	system, self := ctx.ActorSystem(), ctx.Self()
	a.timer = time.AfterFunc(a.opt.scanInterval, func() { system.Root.Send(self, &expiryTick{}) })
}

// serve answers one request.
func (a *managerActor) serve(ctx actor.Context, c *netio.Conn, cmd *remoting.Command) {
	switch cmd.Code {
	case remoting.ReqHeartBeat:
		a.heartbeat(ctx, c, cmd)
	case remoting.ReqUnregisterClient:
		write(c, a.unregister(c, cmd))
	case remoting.ReqGetConsumerListByGroup:
		write(c, a.consumerList(cmd))
	case remoting.ReqGetConsumerConnectionList:
		write(c, a.consumerConnections(cmd))
	case remoting.ReqGetProducerConnectionList:
		write(c, a.producerConnections(cmd))
	default:
		reply.WriteError(c, cmd, reply.ErrNotSupported)
	}
}

// write sends resp on c; a failure means the connection is gone, and its
// close event cleans up.
func write(c *netio.Conn, resp *remoting.Command) { _ = c.Write(resp) }

// publish replaces the lock-free view of group g, which has a member;
// consumersLeft removes the view with the group.
func (a *managerActor) publish(g *consumerGroup) {
	subs := make(map[string]body.SubscriptionData, len(g.subs))
	for k, v := range g.subs {
		subs[k] = v
	}
	a.m.views.Store(g.name, &groupView{subs: subs, messageModel: g.messageModel})
}

// removeConn drops c from every group: empty groups disappear (with their
// subscriptions, as in Java), and the remaining members of consumer groups it
// left are notified.
func (a *managerActor) removeConn(c *netio.Conn, why string) {
	id := c.ID()
	for name, g := range a.consumers {
		if _, ok := g.channels[id]; !ok {
			continue
		}
		delete(g.channels, id)
		a.log.Debug().Str("group", name).Str("conn", c.RemoteAddr()).Str("why", why).Msg("consumer removed")
		a.consumersLeft(g)
	}
	for name, g := range a.producers {
		a.removeProducer(name, g, id)
	}
}

// consumersLeft follows the removal of channels from consumer group g: an
// emptied group disappears with its view (and its subscriptions, as in
// Java); otherwise its remaining members are notified.
func (a *managerActor) consumersLeft(g *consumerGroup) {
	if len(g.channels) == 0 {
		delete(a.consumers, g.name)
		a.m.views.Delete(g.name)
		return
	}
	a.notifyIDsChanged(g)
}

// removeProducer removes connection id from producer group g (named name),
// and the group once it is empty.
func (a *managerActor) removeProducer(name string, g *producerGroup, id uint64) {
	ch, ok := g.channels[id]
	if !ok {
		return
	}
	delete(g.channels, id)
	if len(g.channels) == 0 {
		delete(a.producers, name)
	}
	a.publishProducers(name, g)
	a.publishProducerClient(ch.clientID)
}

// publishProducerClient republishes the lock-free entry of producer client
// clientID: its most recently registered connection in any producer group,
// or none. Called on joins and leaves only, so the scan is rare.
func (a *managerActor) publishProducerClient(clientID string) {
	var best *channel
	for _, g := range a.producers {
		for _, ch := range g.channels {
			if ch.clientID == clientID && (best == nil || ch.lastUpdate.After(best.lastUpdate)) {
				best = ch
			}
		}
	}
	if best == nil {
		a.m.producerClients.Delete(clientID)
		return
	}
	a.m.producerClients.Store(clientID, Channel{ClientID: best.clientID, Conn: best.conn, Version: best.version})
}

// publishProducers replaces the lock-free connection list of producer group
// g (named name), or removes it once the group is empty.
func (a *managerActor) publishProducers(name string, g *producerGroup) {
	if len(g.channels) == 0 {
		a.m.producerConns.Delete(name)
		return
	}
	conns := make([]*netio.Conn, 0, len(g.channels))
	for _, ch := range g.channels {
		conns = append(conns, ch.conn)
	}
	a.m.producerConns.Store(name, conns)
}

// expire removes channels whose last heartbeat is older than
// ChannelExpiredTimeout. A connection left in no group at all is closed, as
// Java closes expired channels; one still fresh in another group stays open.
func (a *managerActor) expire() {
	deadline := a.opt.now().Add(-a.cfg.ChannelExpiredTimeout)
	stale := map[uint64]*netio.Conn{}
	for name, g := range a.consumers {
		removed := false
		for id, ch := range g.channels {
			if ch.lastUpdate.Before(deadline) {
				delete(g.channels, id)
				stale[id] = ch.conn
				removed = true
				a.log.Debug().Str("group", name).Str("client", ch.clientID).Msg("consumer channel expired")
			}
		}
		if removed {
			a.consumersLeft(g)
		}
	}
	for name, g := range a.producers {
		for id, ch := range g.channels {
			if ch.lastUpdate.Before(deadline) {
				stale[id] = ch.conn
				a.removeProducer(name, g, id)
			}
		}
	}
	for id, c := range stale {
		if !a.registered(id) {
			_ = c.Close()
		}
	}
}

// registered reports whether connection id is in any group.
func (a *managerActor) registered(id uint64) bool {
	for _, g := range a.consumers {
		if _, ok := g.channels[id]; ok {
			return true
		}
	}
	for _, g := range a.producers {
		if _, ok := g.channels[id]; ok {
			return true
		}
	}
	return false
}

// notifyOpaque numbers NOTIFY_CONSUMER_IDS_CHANGED requests. They are sent
// oneway and clients answer none, but should one answer anyway, a negative
// opaque can never match a netio Conn.Invoke waiter (its counter counts up
// from 1).
var notifyOpaque atomic.Int32

// notifyIDsChanged sends NOTIFY_CONSUMER_IDS_CHANGED (oneway) to every channel
// of g (Java's CHANGE event), unless disabled for the broker or the group, or
// the group consumes in broadcasting mode (no rebalance there).
func (a *managerActor) notifyIDsChanged(g *consumerGroup) {
	if !a.cfg.NotifyConsumerIDsChanged || g.messageModel == Broadcasting {
		return
	}
	if gc, ok := a.meta.Group(g.name); ok && !gc.NotifyConsumerIDsChangedEnable {
		return
	}
	cmd := remoting.NewRequest(remoting.ReqNotifyConsumerIDsChanged, map[string]string{"consumerGroup": g.name}, nil)
	cmd.Flag |= remoting.FlagOneway
	cmd.Opaque = notifyOpaque.Add(1) | math.MinInt32
	for _, ch := range g.channels {
		_ = ch.conn.Write(cmd)
	}
	a.log.Debug().Str("group", g.name).Int("channels", len(g.channels)).Msg("consumer ids changed notified")
}

// clientIDs returns the group's distinct client ids, sorted (the order Go's
// rebalance expects; it sorts again anyway).
func (g *consumerGroup) clientIDs() []string {
	seen := make(map[string]bool, len(g.channels))
	ids := make([]string, 0, len(g.channels))
	for _, ch := range g.channels {
		if !seen[ch.clientID] {
			seen[ch.clientID] = true
			ids = append(ids, ch.clientID)
		}
	}
	sort.Strings(ids)
	return ids
}
