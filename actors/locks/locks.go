// Package locks owns the rebalance locks of orderly consumer groups:
// LOCK_BATCH_MQ (41) and UNLOCK_BATCH_MQ (42) (wire-protocol.md §6.3, §8.6).
// An orderly push consumer locks each queue it is given before consuming it
// and re-locks its queues every 20 s; the lock makes one client at a time
// consume a queue, so per-queue order holds across a rebalance.
//
// One actor owns the table group → message queue → (client id, last
// renewal). A lock is granted when the queue is free, its lock expired
// (Expiry, Java's 60 s rocketmq.broker.rebalance.lockMaxLiveTime) or the
// client already holds it (a renewal). An unlock releases only the
// caller's own locks.
//
// Beyond Java: when every connection a client locked through is closed,
// its locks are released at once (Java waits for the expiry), so a
// rebalance after a consumer dies does not stall its queues for a minute.
// A client that locks again from a new connection is tracked anew.
//
// Lock requests of a group that does not exist are answered
// SUBSCRIPTION_GROUP_NOT_EXIST, unless autoCreateSubscriptionGroup, in
// which case the group (and its retry topic) is created as a consumer's
// heartbeat would, and requests of that group wait in order behind the
// creation. Bodies are decoded on the gnet loop; a malformed one is
// answered INVALID_PARAMETER and changes nothing. Requests handed to the
// actor and not answered yet are bounded (admit.Gate, SYSTEM_BUSY beyond).
package locks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/actormq/actormq/actors/actorsys"
	"github.com/actormq/actormq/actors/admit"
	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/meta"
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

// ErrConfig is wrapped by Spawn's config validation failures.
var ErrConfig = errors.New("locks: invalid config")

// defaultExpiry is Java's rocketmq.broker.rebalance.lockMaxLiveTime.
const defaultExpiry = 60 * time.Second

// Groups is the metadata actor's side the locks actor needs
// (*meta.Metadata).
type Groups interface {
	// Group reads the group table snapshot. Lock-free; any goroutine.
	Group(name string) (body.SubscriptionGroupConfig, bool)
	// PrepareConsumerGroupsFuture creates missing groups and their retry
	// topics without blocking; the actor waits on the future with
	// ReenterAfter. Decode its outcome with meta.PrepareResult.
	PrepareConsumerGroupsFuture(specs []meta.ConsumerGroupSpec, timeout time.Duration) *actor.Future
}

// Config configures Spawn. Groups is required.
type Config struct {
	Broker config.Broker // AutoCreateSubscriptionGroup, RebalanceLockMaxLiveTime
	Groups Groups
	Logger zerolog.Logger
	// Expiry is how long a lock lives without renewal. Default
	// Broker.RebalanceLockMaxLiveTime, else 60 s.
	Expiry time.Duration
	// CreateTimeout bounds one group creation. Default 2 s.
	CreateTimeout time.Duration
	// PendingMax bounds the requests queued behind one group creation.
	// Default 1000.
	PendingMax int
	// InflightMax bounds the requests handed to the actor and not answered
	// yet; beyond it one is answered SYSTEM_BUSY at once. Default 10000.
	InflightMax int64
}

// Locks is the handle of the locks actor. Its methods are safe from any
// goroutine.
type Locks struct {
	cfg    Config
	log    zerolog.Logger
	system *actor.ActorSystem
	pid    *actor.PID
	done   chan struct{} // closed when the actor stopped
	gate   *admit.Gate
}

// options are the seams tests use; Spawn passes the defaults.
type options struct {
	now func() time.Time
}

// Spawn starts the locks actor.
func Spawn(system *actor.ActorSystem, cfg Config) (*Locks, error) {
	return spawn(system, cfg, options{now: time.Now})
}

func spawn(system *actor.ActorSystem, cfg Config, opt options) (*Locks, error) {
	if cfg.Groups == nil {
		return nil, fmt.Errorf("%w: Groups is required", ErrConfig)
	}
	if cfg.Expiry <= 0 {
		cfg.Expiry = cfg.Broker.RebalanceLockMaxLiveTime
	}
	if cfg.Expiry <= 0 {
		cfg.Expiry = defaultExpiry
	}
	if cfg.CreateTimeout <= 0 {
		cfg.CreateTimeout = 2 * time.Second
	}
	if cfg.PendingMax <= 0 {
		cfg.PendingMax = 1000
	}
	if cfg.InflightMax <= 0 {
		cfg.InflightMax = 10000
	}
	l := &Locks{
		cfg:    cfg,
		log:    cfg.Logger.With().Str("component", "locks").Logger(),
		system: system,
		done:   make(chan struct{}),
		gate:   admit.New("lock requests", cfg.InflightMax),
	}
	// A panic is a bug on one request. Resuming keeps the table, which is
	// valid at every step; restarting would empty it and let a second
	// client lock a queue its holder still consumes.
	resume := actor.NewOneForOneStrategy(10, time.Second, func(reason any) actor.Directive {
		l.log.Error().Interface("reason", reason).Msg("locks actor failed; resuming")
		return actor.ResumeDirective
	})
	var err error
	l.pid, err = system.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
		return newLocksActor(l, opt)
	}, actor.WithGuardian(resume)), "locks")
	if err != nil {
		return nil, fmt.Errorf("locks: spawn actor: %w", err)
	}
	return l, nil
}

// request is one decoded lock or unlock request.
type request struct {
	conn   *netio.Conn
	cmd    *remoting.Command
	body   batchBody
	unlock bool
}

// connClosed tells the actor a connection is gone.
type connClosed struct{ id uint64 }

// Handlers maps LOCK_BATCH_MQ and UNLOCK_BATCH_MQ to handlers that run on a
// gnet loop: they decode the body and Send the request to the actor.
func (l *Locks) Handlers() map[int32]func(*netio.Conn, *remoting.Command) {
	h := func(c *netio.Conn, cmd *remoting.Command) {
		b, err := decodeBatchBody(cmd.Body)
		if err == nil {
			err = l.gate.Enter()
		}
		if err != nil {
			l.log.Debug().Err(err).Int32("code", cmd.Code).Str("remote", c.RemoteAddr()).Msg("lock request rejected")
			reply.WriteError(c, cmd, err)
			return
		}
		l.system.Root.Send(l.pid, &request{conn: c, cmd: cmd, body: b, unlock: cmd.Code == remoting.ReqUnlockBatchMQ})
	}
	return map[int32]func(*netio.Conn, *remoting.Command){
		remoting.ReqLockBatchMQ:   h,
		remoting.ReqUnlockBatchMQ: h,
	}
}

// OnClose releases the locks of clients left without a connection (package
// comment). Called from a gnet loop; a non-blocking Send.
func (l *Locks) OnClose(c *netio.Conn) {
	l.system.Root.Send(l.pid, &connClosed{id: c.ID()})
}

// Stop stops the actor after it answered what is queued; requests waiting
// for a group creation are answered SERVICE_NOT_AVAILABLE. Idempotent.
func (l *Locks) Stop(ctx context.Context) error {
	if !l.gate.Stop() {
		return nil
	}
	return actorsys.PoisonAndWait(ctx, l.system.Root, l.pid, l.done, "locks")
}
