// Package clients owns the broker's view of its clients: which connections
// belong to which producer and consumer groups, each consumer group's
// subscription table, and NOTIFY_CONSUMER_IDS_CHANGED (wire-protocol.md §6.3,
// §13.4). It serves HEART_BEAT (34), UNREGISTER_CLIENT (35),
// GET_CONSUMER_LIST_BY_GROUP (38), GET_CONSUMER_CONNECTION_LIST (203) and
// GET_PRODUCER_CONNECTION_LIST (204).
//
// One actor owns the registrations. The pull path reads subscriptions and
// message models lock-free from per-group immutable views the actor publishes
// in a sync.Map (it is the map's only writer); the transaction check reads
// producer connections the same way (ProducerConns). The admin requests and
// request-reply ask the actor for a group's or a client's connections with a
// timeout (admin.go).
//
// A heartbeat is applied in this order, and only then answered, because the
// Go client asks GET_CONSUMER_LIST_BY_GROUP right after its first heartbeat
// (client-quirks A4.20):
//
//  1. register every (group, connection, clientID) and replace each consumer
//     group's subscription table (§13.4); publish the new views;
//  2. notify the group's connections when a member joined or the set of
//     subscribed topics changed;
//  3. when a group or its %RETRY% topic is missing, ask the metadata actor to
//     create them and answer when that is done (ReenterAfter: the actor keeps
//     serving other messages meanwhile); otherwise answer at once.
package clients

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/meta"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

// ErrStopped is wrapped when the manager's actor is gone.
var ErrStopped = errors.New("clients: actor stopped")

// Message models (wire doc §8.2).
const (
	Clustering   = "CLUSTERING"
	Broadcasting = "BROADCASTING"
)

// Timing defaults (wire doc §18).
const (
	expiryScanInterval    = 10 * time.Second
	channelExpiredDefault = 120 * time.Second
	prepareTimeout        = 5 * time.Second
)

// Manager is the handle of the client manager actor.
type Manager struct {
	system *actor.ActorSystem
	pid    *actor.PID
	views  sync.Map // consumer group name → *groupView; written only by the actor
	// producerConns: producer group name → []*netio.Conn (never modified
	// once stored); written only by the actor.
	producerConns sync.Map
	// producerClients: producer client id → Channel, its most recently
	// registered connection (PUSH_REPLY_MESSAGE_TO_CLIENT); written only by
	// the actor.
	producerClients sync.Map

	stopped atomic.Bool
}

// groupView is the immutable published state of one consumer group.
type groupView struct {
	subs         map[string]body.SubscriptionData
	messageModel string
}

// options are the seams tests use; Spawn passes the defaults.
type options struct {
	now          func() time.Time
	scanInterval time.Duration // 0 disables the expiry timer
}

// supervisor resumes the client manager after a panic (a broken invariant):
// the failing message is dropped but the registrations stay, which are valid
// maps at every step. Restarting would drop every registration and make pulls
// fail with SUBSCRIPTION_NOT_EXIST until each client's next heartbeat (30 s).
var supervisor = actor.NewOneForOneStrategy(10, time.Minute, func(reason interface{}) actor.Directive {
	return actor.ResumeDirective
})

// Spawn starts the client manager (and its 10 s expiry timer). It does not
// block; md must outlive the manager.
func Spawn(system *actor.ActorSystem, cfg config.Broker, md *meta.Metadata, logger zerolog.Logger) (*Manager, error) {
	return spawn(system, cfg, md, logger, options{now: time.Now, scanInterval: expiryScanInterval})
}

func spawn(system *actor.ActorSystem, cfg config.Broker, md *meta.Metadata, logger zerolog.Logger, opt options) (*Manager, error) {
	if md == nil {
		return nil, fmt.Errorf("clients: spawn: nil metadata")
	}
	if cfg.ChannelExpiredTimeout <= 0 {
		cfg.ChannelExpiredTimeout = channelExpiredDefault
	}
	m := &Manager{system: system}
	log := logger.With().Str("component", "clients").Logger()
	props := actor.PropsFromProducer(func() actor.Actor {
		return newManagerActor(m, cfg, md, log, opt)
	}, actor.WithGuardian(supervisor))
	m.pid = system.Root.Spawn(props)
	return m, nil
}

// Subscription returns the subscription of group to topic registered by the
// group's heartbeats. Lock-free; any goroutine.
func (m *Manager) Subscription(group, topic string) (body.SubscriptionData, bool) {
	v, ok := m.views.Load(group)
	if !ok {
		return body.SubscriptionData{}, false
	}
	s, ok := v.(*groupView).subs[topic]
	return s, ok
}

// MessageModel returns the group's message model (CLUSTERING or
// BROADCASTING) while the group has a live consumer. Lock-free; any goroutine.
func (m *Manager) MessageModel(group string) (string, bool) {
	v, ok := m.views.Load(group)
	if !ok {
		return "", false
	}
	return v.(*groupView).messageModel, true
}

// ProducerConns returns the live connections of producer group, for
// broker-initiated requests to the group (CHECK_TRANSACTION_STATE). The
// slice is shared: callers must not modify it. Lock-free; any goroutine.
func (m *Manager) ProducerConns(group string) []*netio.Conn {
	v, ok := m.producerConns.Load(group)
	if !ok {
		return nil
	}
	return v.([]*netio.Conn)
}

// Handlers returns the request handlers of the client manager. Each runs on a
// gnet loop and only Sends the request to the actor, which answers on c.
func (m *Manager) Handlers() map[int32]func(*netio.Conn, *remoting.Command) {
	h := func(c *netio.Conn, cmd *remoting.Command) {
		m.system.Root.Send(m.pid, &connRequest{c: c, cmd: cmd})
	}
	return map[int32]func(*netio.Conn, *remoting.Command){
		remoting.ReqHeartBeat:                 h,
		remoting.ReqUnregisterClient:          h,
		remoting.ReqGetConsumerListByGroup:    h,
		remoting.ReqGetConsumerConnectionList: h,
		remoting.ReqGetProducerConnectionList: h,
	}
}

// OnClose removes c from every group and notifies the remaining consumers of
// the groups it left. Called from a gnet loop; a non-blocking Send.
func (m *Manager) OnClose(c *netio.Conn) {
	m.system.Root.Send(m.pid, &connClosed{c: c})
}

// Stop stops the actor after it processed what is queued, waiting up to 10 s
// (protoactor's poison future has a fixed timeout; ctx is not consulted).
// Idempotent. Blocking; not on gnet loops.
func (m *Manager) Stop(ctx context.Context) error {
	if !m.stopped.CompareAndSwap(false, true) {
		return nil
	}
	if err := m.system.Root.PoisonFuture(m.pid).Wait(); err != nil {
		return fmt.Errorf("%w: %w", ErrStopped, err)
	}
	return nil
}
