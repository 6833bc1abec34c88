// Package admin serves the broker management requests whose state spans
// several owners (wire-protocol.md §6.6, §7; client-quirks A7):
//
//	215 DELETE_TOPIC_IN_BROKER        topic config, offsets, queue offsets, consume queues
//	207 DELETE_SUBSCRIPTIONGROUP      group config (and its offsets: removeOffset/cleanOffset)
//	222 INVOKE_BROKER_TO_RESET_OFFSET offsets by time, RESET_CONSUMER_CLIENT_OFFSET (220) to clients
//	307 GET_CONSUMER_RUNNING_INFO     forwarded to the consumer, its answer relayed
//	208 GET_CONSUME_STATS             queue offsets vs consumer offsets, consumeTps
//	202 GET_TOPIC_STATS_INFO          min/max offsets and last store time per queue
//	300 QUERY_TOPIC_CONSUME_BY_WHO    groups subscribing or holding offsets
//	 28 GET_BROKER_RUNTIME_INFO       KVTable of statistics
//	 26 GET_BROKER_CONFIG             the effective config as properties text
//	 25 UPDATE_BROKER_CONFIG          change the runtime keys (brokerconfig.go)
//
// The state itself stays with its owners (meta, offsets, queue, clients);
// the admin actor owns only the effective broker config (the one
// UPDATE_BROKER_CONFIG changes) and the statistics samples behind the TPS
// figures (stats.go). Reads that are lock-free on the owners (offsets,
// queue offsets, subscriptions) are answered on the admin actor; requests
// that must wait for other actors or for a client (deletions, reset,
// running info) run in a short-lived worker child each, bounded in number,
// so one slow consumer never holds up the others. The handlers admit at
// most InflightMax requests not answered yet (admit.Gate); Stop waits until
// every admitted request is answered.
//
// Bodies use RocketMQ's exact shapes (wire/body: ConsumeStats,
// TopicStatsTable, ResetOffsetBody with fastjson object keys; KVTable;
// GroupList) because Java's mqadmin and the Go client parse them.
package admin

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actormq/actormq/actors/admit"
	"github.com/actormq/actormq/actors/clients"
	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/queue"
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/storage/vfs"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

// ErrConfig is wrapped by Spawn's config validation failures.
var ErrConfig = errors.New("admin: invalid config")

// Meta is the metadata actor's side the admin requests use.
type Meta interface {
	Topic(name string) (body.TopicConfig, bool)
	DeleteTopic(ctx context.Context, topic string) (bool, error)
	DeleteGroup(ctx context.Context, group string) (bool, error)
}

// Clients is the client manager's side the admin requests use.
type Clients interface {
	ConsumerChannels(ctx context.Context, group string) ([]clients.Channel, error)
	SubscribedTopics(group string) []string
	GroupsSubscribing(topic string) []string
	ApplyRuntimeConfig(ctx context.Context, cfg config.Broker) error
}

// Offsets is the offset manager's side the admin requests use.
type Offsets interface {
	Offset(group, topic string, queueID int32) (int64, bool)
	TopicsOf(group string) []string
	GroupsOf(topic string) []string
	CleanTopic(ctx context.Context, topic string) error
	CleanGroup(ctx context.Context, group string) error
	Set(ctx context.Context, group, topic string, offsets map[int32]int64) error
}

// Queues is the queue registry's side the admin requests use.
type Queues interface {
	MinOffset(topic string, queueID int32) int64
	// ServedMaxOffset is the max offset consumers are served (on SYNC_FLUSH, the
	// first entry whose record is not flushed yet), so a reset never moves a
	// group past messages that are not durable.
	ServedMaxOffset(topic string, queueID int32) int64
	SearchOffset(topic string, queueID int32, ts int64) int64
	StoreTime(topic string, queueID int32, off int64) (int64, bool)
	DeleteTopic(ctx context.Context, topic string) (int, error)
}

// Counters are the queue registry's message counters (*queue.Counters).
type Counters interface {
	Puts() int64
	Gets() int64
	GroupGets(fn func(queue.GroupTopic, int64))
	GroupGet(k queue.GroupTopic) int64
}

// Writer drops a deleted topic's queue offsets.
type Writer interface {
	ForgetTopic(ctx context.Context, topic string) error
}

// Sends reports the send path's in-flight count (runtime info).
type Sends interface {
	Inflight() int64
	InflightMax() int64
}

// Config configures Spawn. Every dependency is required.
type Config struct {
	Broker   config.Broker
	Meta     Meta
	Clients  Clients
	Offsets  Offsets
	Queues   Queues
	Counters Counters
	Writer   Writer
	Sends    Sends
	Store    *store.Store
	FS       vfs.FS // nil means vfs.Default
	Logger   zerolog.Logger
	// CallTimeout bounds the calls one request makes to other actors
	// (default 5 s) and ClientTimeout a request forwarded to a client
	// (default 10 s, Java's).
	CallTimeout, ClientTimeout time.Duration
	// WorkersMax bounds the requests being handled by workers at once;
	// beyond it a request is answered SYSTEM_BUSY. Default 16.
	WorkersMax int
	// InflightMax bounds the requests admitted and not answered yet (the
	// actor's mailbox included); beyond it a request is answered
	// SYSTEM_BUSY on the gnet loop. Default 1000.
	InflightMax int64
	// SampleInterval is the statistics sampling period (default 10 s).
	SampleInterval time.Duration
}

// Admin is the handle of the admin actor. Its methods are safe from any
// goroutine.
type Admin struct {
	cfg    Config
	log    zerolog.Logger
	root   *actor.RootContext
	pid    *actor.PID
	base   context.Context // cancelled by Stop: waits in workers end at once
	cancel context.CancelFunc
	live   atomic.Pointer[config.Broker] // the effective config; replaced only by the actor
	gate   *admit.Gate                   // admission of requests; stopped by Stop
	poison sync.Once                     // of the actor, once the gate drained
	done   chan struct{}                 // closed when the actor (after its workers) stopped
}

// request is one admin request to answer on c.
type request struct {
	c   *netio.Conn
	cmd *remoting.Command
}

// Spawn starts the admin actor (and its statistics timer).
func Spawn(system *actor.ActorSystem, cfg Config) (*Admin, error) {
	if cfg.Meta == nil || cfg.Clients == nil || cfg.Offsets == nil || cfg.Queues == nil || cfg.Counters == nil ||
		cfg.Writer == nil || cfg.Sends == nil || cfg.Store == nil {
		return nil, fmt.Errorf("%w: Meta, Clients, Offsets, Queues, Counters, Writer, Sends and Store are required", ErrConfig)
	}
	if cfg.FS == nil {
		cfg.FS = vfs.Default
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 5 * time.Second
	}
	if cfg.ClientTimeout <= 0 {
		cfg.ClientTimeout = 10 * time.Second
	}
	if cfg.WorkersMax <= 0 {
		cfg.WorkersMax = 16
	}
	if cfg.InflightMax <= 0 {
		cfg.InflightMax = 1000
	}
	if cfg.SampleInterval <= 0 {
		cfg.SampleInterval = 10 * time.Second
	}
	a := &Admin{cfg: cfg, log: cfg.Logger.With().Str("component", "admin").Logger(), root: system.Root,
		gate: admit.New("admin requests", cfg.InflightMax), done: make(chan struct{})}
	a.base, a.cancel = context.WithCancel(context.Background())
	b := cfg.Broker
	a.live.Store(&b)
	// The admin actor's state (config, samples) is valid between messages:
	// resume after a panic. A worker that panics is stopped; it answers its
	// request through its own recover first.
	resume := actor.NewOneForOneStrategy(10, time.Minute, func(reason any) actor.Directive {
		a.log.Error().Interface("reason", reason).Msg("admin actor failed; resuming")
		return actor.ResumeDirective
	})
	stopWorker := actor.NewOneForOneStrategy(0, 0, func(reason any) actor.Directive {
		a.log.Error().Interface("reason", reason).Msg("admin worker failed; stopping it")
		return actor.StopDirective
	})
	var err error
	a.pid, err = system.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return newAdminActor(a) },
		actor.WithGuardian(resume), actor.WithSupervisor(stopWorker)), "admin")
	if err != nil {
		a.cancel()
		return nil, fmt.Errorf("admin: spawn: %w", err)
	}
	return a, nil
}

// Config returns the effective broker config: the start config with every
// UPDATE_BROKER_CONFIG applied. Lock-free; any goroutine.
func (a *Admin) Config() config.Broker { return *a.live.Load() }

// StoreReplyEnabled is storeReplyMessageEnable as it is now (for the
// request-reply path). Lock-free; any goroutine.
func (a *Admin) StoreReplyEnabled() bool { return a.live.Load().StoreReplyMessageEnable }

// Handlers returns the admin request handlers. Each runs on a gnet loop and
// only Sends the request to the actor.
func (a *Admin) Handlers() map[int32]func(*netio.Conn, *remoting.Command) {
	h := func(c *netio.Conn, cmd *remoting.Command) {
		if err := a.gate.Enter(); err != nil {
			reply.WriteError(c, cmd, err)
			return
		}
		a.root.Send(a.pid, &request{c: c, cmd: cmd})
	}
	m := make(map[int32]func(*netio.Conn, *remoting.Command), len(answers)+len(works))
	for code := range answers {
		m[code] = h
	}
	for code := range works {
		m[code] = h
	}
	return m
}

// Stop refuses new requests, ends the waits of running workers for clients
// (their calls to other actors end within CallTimeout), waits until every
// admitted request is answered and stops the actor. Call it before the
// actors it calls (meta, offsets, queues, clients, writer, send) stop.
// Idempotent; later calls wait for the same stop until ctx is done.
// Blocking, not on gnet loops.
func (a *Admin) Stop(ctx context.Context) error {
	if a.gate.Stop() {
		a.cancel()
	}
	wait := func(ch <-chan struct{}) error {
		select {
		case <-ch:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("admin: stop: %w", ctx.Err())
		}
	}
	// Poisoned only once drained: a request admitted just before Stop may
	// still be on its way to the mailbox, and one arriving after the poison
	// would be dropped unanswered.
	if err := wait(a.gate.Drained()); err != nil {
		return err
	}
	a.poison.Do(func() { a.root.Poison(a.pid) })
	return wait(a.done)
}

// callCtx bounds one call to another actor.
func (a *Admin) callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(a.base, a.cfg.CallTimeout)
}
