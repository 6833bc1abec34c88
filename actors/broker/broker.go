// Package broker wires one broker together: it opens the store, spawns the
// control-plane actors (meta, clients, offsets, locks, admin, registrar),
// the data-plane actors (send, writer, queue, index) and the actors that
// store broker-built messages through writer.Put (schedule, transaction,
// retry, request-reply), plus the cleaner, under one actor system; routes
// requests from the gnet servers to them; and runs the shutdown sequence.
//
// The broker owns no message state itself: each piece belongs to the actor
// named in ARCHITECTURE.md.
package broker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/actormq/actormq/actors/actorsys"
	"github.com/actormq/actormq/actors/admin"
	"github.com/actormq/actormq/actors/cleaner"
	"github.com/actormq/actormq/actors/clients"
	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/index"
	"github.com/actormq/actormq/actors/locks"
	"github.com/actormq/actormq/actors/meta"
	"github.com/actormq/actormq/actors/offsets"
	"github.com/actormq/actormq/actors/queue"
	"github.com/actormq/actormq/actors/registrar"
	"github.com/actormq/actormq/actors/requestreply"
	"github.com/actormq/actormq/actors/retry"
	"github.com/actormq/actormq/actors/schedule"
	"github.com/actormq/actormq/actors/send"
	"github.com/actormq/actormq/actors/transaction"
	"github.com/actormq/actormq/actors/writer"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/storage/vfs"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

// ErrStarted is returned by a second Start.
var ErrStarted = errors.New("broker: already started")

// Broker is one running broker. New → Start → Shutdown.
type Broker struct {
	cfg  config.Broker
	fs   vfs.FS         // every file of the store and the config files: sim/ passes a faulty one
	base zerolog.Logger // handed to the packages, which add their component
	log  zerolog.Logger // this package's own lines

	started  atomic.Bool
	stopOnce sync.Once
	stopErr  error

	// In start's order: each part exists before the parts that call it.
	// Shutdown stops them in the order its comment gives.
	system    *actor.ActorSystem
	store     *store.Store          // CommitLog, consume-queue files, checkpoint, lock and abort files
	meta      *meta.Metadata        // topics.json, subscriptionGroup.json, system topics, auto-create
	clients   *clients.Manager      // producer/consumer connections and subscriptions
	queues    *queue.Registry       // one actor per consume queue: dispatched units, pulls, long polling
	offsets   *offsets.Manager      // consumerOffset.json
	index     *index.Indexer        // index files: QUERY_MESSAGE, VIEW_MESSAGE_BY_ID
	writer    *writer.Writer        // the CommitLog append position and queue offsets: every append
	schedule  *schedule.Scheduler   // delay levels: Puts due messages to their real topics
	sender    *send.Sender          // SEND_MESSAGE*: one topic actor per topic, Submits to the writer
	txs       *transaction.Service  // END_TRANSACTION and the half-message check: Puts
	retry     *retry.Service        // CONSUMER_SEND_MSG_BACK: Puts to %RETRY% / %DLQ%
	locks     *locks.Locks          // LOCK_BATCH_MQ / UNLOCK_BATCH_MQ of orderly consumers
	admin     *admin.Admin          // management requests: calls meta, offsets, queues, clients, writer, send
	replier   *requestreply.Replier // SEND_REPLY_MESSAGE*: pushes replies to requesters, Puts stored ones
	cleaner   *cleaner.Cleaner      // retention and the disk-full decision
	router    *router               // request code → handler, shared by both servers
	server    *netio.Server         // listenPort
	fast      *netio.Server         // the "fast"/VIP channel on listenPort-2 (no pulls)
	client    *netio.Client         // the registrar's connections to the NameServers
	registrar *registrar.Registrar  // REGISTER_BROKER / UNREGISTER_BROKER with every NameServer
	draining  atomic.Bool           // set first by Shutdown: the router refuses new requests
}

// New builds a broker from a validated configuration; nothing runs yet.
func New(cfg config.Broker, log zerolog.Logger, opts ...Option) *Broker {
	b := &Broker{cfg: cfg, fs: vfs.Default, base: log, log: log.With().Str("component", "broker").Logger()}
	for _, o := range opts {
		o(b)
	}
	return b
}

// Option changes how New builds a broker.
type Option func(*Broker)

// WithFS makes the broker keep its store and config files on fs instead of
// the operating system's file system (sim/ injects disk faults this way).
func WithFS(fs vfs.FS) Option { return func(b *Broker) { b.fs = fs } }

// Addr is the address the server is bound to (valid after Start).
func (b *Broker) Addr() string { return b.server.Addr() }

// Start recovers the store, spawns every actor, listens and registers with
// the NameServers. On failure everything started so far is stopped again.
func (b *Broker) Start() error {
	if !b.started.CompareAndSwap(false, true) {
		return ErrStarted
	}
	if err := b.start(); err != nil {
		_ = b.Shutdown(context.Background())
		return err
	}
	return nil
}

func (b *Broker) start() error {
	var err error
	cfg, log := b.cfg, b.base
	b.system = actorsys.New(log)
	b.store, err = store.Open(store.Config{
		RootDir:           cfg.StorePathRootDir,
		CommitLogDir:      cfg.StorePathCommitLog,
		CommitLogFileSize: cfg.MapedFileSizeCommitLog,
		CQFileSize:        cfg.MapedFileSizeConsumeQueue,
		CheckCRCOnRecover: cfg.CheckCRCOnRecover,
		DelayLevels:       cfg.DelayLevels(),
		FS:                b.fs,
		Logger:            log,
	})
	if err != nil {
		return fmt.Errorf("broker: open store %s: %w", cfg.StorePathRootDir, err)
	}
	if b.meta, err = meta.Spawn(b.system, meta.Config{Broker: cfg, FS: b.fs, Logger: log}); err != nil {
		return fmt.Errorf("broker: metadata: %w", err)
	}
	if b.clients, err = clients.Spawn(b.system, cfg, b.meta, log); err != nil {
		return fmt.Errorf("broker: clients: %w", err)
	}
	// The queue registry commits pull-piggybacked offsets to the offset
	// manager, which in turn reads queue min/max offsets from the registry:
	// the committer is bound once both exist.
	commits := &lateCommitter{}
	if b.queues, err = queue.Spawn(b.system, queue.Config{
		Broker: cfg, Store: b.store, Topics: b.meta, Subscriptions: b.clients, Offsets: commits, Logger: log,
	}); err != nil {
		return fmt.Errorf("broker: queues: %w", err)
	}
	if b.offsets, err = offsets.Spawn(b.system, cfg, b.queues, b.fs, log); err != nil {
		return fmt.Errorf("broker: offsets: %w", err)
	}
	commits.bind(b.offsets)
	// The index actor reads the commit log after each writer batch (its
	// Feed wakes it), so it exists before the writer.
	if b.index, err = index.Spawn(b.system, index.Config{
		Broker: cfg, CommitLog: b.store.CommitLog, FS: b.fs, Logger: log,
	}); err != nil {
		return fmt.Errorf("broker: index: %w", err)
	}
	if b.writer, err = writer.Spawn(b.system, writer.Config{
		Broker: cfg, Store: b.store, Dispatcher: b.index.Feed(b.queues), LogicsTimestamp: b.queues.FlushedTimestamp,
		QueuesFull: b.queues.Full, QueuesError: b.queues.WriteError, OnFlushed: b.queues.WakeFlushed, Logger: log,
	}); err != nil {
		return fmt.Errorf("broker: writer: %w", err)
	}
	if b.schedule, err = schedule.Spawn(b.system, schedule.Config{
		Broker: cfg, Queues: b.queues, Records: b.store.CommitLog, Writer: b.writer, FS: b.fs, Logger: log,
	}); err != nil {
		return fmt.Errorf("broker: schedule: %w", err)
	}
	if b.sender, err = send.Spawn(b.system, send.Config{Broker: cfg, Topics: b.meta, Groups: b.meta, Writer: b.writer, InflightMax: cfg.SendThreadPoolQueueCapacity, Logger: log}); err != nil {
		return fmt.Errorf("broker: send: %w", err)
	}
	if b.txs, err = transaction.Spawn(b.system, transaction.Config{
		Broker: cfg, CommitLog: b.store.CommitLog, Queues: b.queues, Writer: b.writer,
		Offsets: b.offsets, Producers: b.clients, Topics: b.meta, Logger: log,
	}); err != nil {
		return fmt.Errorf("broker: transactions: %w", err)
	}
	if b.retry, err = retry.Spawn(b.system, retry.Config{
		Broker: cfg, Meta: b.meta, Messages: b.store.CommitLog, Writer: b.writer, Logger: log,
	}); err != nil {
		return fmt.Errorf("broker: retry: %w", err)
	}
	if b.locks, err = locks.Spawn(b.system, locks.Config{Broker: cfg, Groups: b.meta, Logger: log}); err != nil {
		return fmt.Errorf("broker: locks: %w", err)
	}
	if b.admin, err = admin.Spawn(b.system, admin.Config{
		Broker: cfg, Meta: b.meta, Clients: b.clients, Offsets: b.offsets, Queues: b.queues,
		Counters: b.queues.Counters(), Writer: b.writer, Sends: b.sender, Store: b.store, FS: b.fs, Logger: log,
	}); err != nil {
		return fmt.Errorf("broker: admin: %w", err)
	}
	// Request-reply reads storeReplyMessageEnable from the admin's live
	// config (UPDATE_BROKER_CONFIG changes it).
	if b.replier, err = requestreply.Spawn(b.system, requestreply.Config{
		Broker: cfg, Topics: b.meta, Producers: b.clients, Writer: b.writer,
		StoreEnabled: b.admin.StoreReplyEnabled, Logger: log,
	}); err != nil {
		return fmt.Errorf("broker: request-reply: %w", err)
	}
	if b.cleaner, err = cleaner.Spawn(b.system, cleaner.Config{
		Broker: cfg, Logger: log, OnDiskFull: b.onDiskFull, OnFilesDeleted: b.writer.ProbeNow, Index: b.index,
	}, b.store.CommitLog, b.queues, b.store); err != nil {
		return fmt.Errorf("broker: cleaner: %w", err)
	}

	b.router = newRouter(b.log, &b.draining)
	b.router.add(b.meta.Handlers())
	b.router.add(b.clients.Handlers())
	b.router.add(b.offsets.Handlers())
	b.router.add(b.queues.Handlers())
	b.router.add(b.sender.Handlers())
	b.router.add(b.admin.Handlers())
	b.router.add(b.replier.Handlers())
	b.router.add(b.retry.Handlers())
	b.router.add(b.locks.Handlers())
	b.router.add(b.index.Handlers())
	b.router.add(b.txs.Handlers())
	b.router.add(b.schedule.Handlers())
	b.router.onClose = append(b.router.onClose, b.clients.OnClose, b.locks.OnClose)

	b.server = netio.NewServer(netio.ServerConfig{
		Addr:   net.JoinHostPort(cfg.BindAddress, strconv.Itoa(cfg.ListenPort)),
		Logger: log,
	}, b.router)
	if err := b.server.Start(); err != nil {
		return fmt.Errorf("broker: listen: %w", err)
	}
	if cfg.ListenPort > 2 {
		b.fast = netio.NewServer(netio.ServerConfig{
			Addr:   net.JoinHostPort(cfg.BindAddress, strconv.Itoa(cfg.ListenPort-2)),
			Logger: log,
		}, b.router.without(remoting.ReqPullMessage, remoting.ReqLitePullMessage))
		if err := b.fast.Start(); err != nil {
			return fmt.Errorf("broker: listen on the fast channel (listenPort-2): %w", err)
		}
	}
	b.client = netio.NewClient(netio.ClientConfig{Logger: log})
	if b.registrar, err = registrar.Spawn(b.system, cfg, b.meta, b.client, log); err != nil {
		return fmt.Errorf("broker: registrar: %w", err)
	}
	b.log.Info().Str("addr", b.server.Addr()).Str("brokerName", cfg.BrokerName).
		Str("role", string(cfg.BrokerRole)).Str("flush", string(cfg.FlushDiskType)).
		Bool("recoveredFromCrash", b.store.Abnormal).Msg("broker started")
	return nil
}

// onDiskFull is the cleaner's notice; the writer holds the state the send
// side checks.
func (b *Broker) onDiskFull(full bool) {
	b.writer.SetDiskFull(full)
	if full {
		b.log.Error().Msg("disk full: refusing sends until space is freed")
	} else {
		b.log.Info().Msg("disk usage back below the full threshold: accepting sends")
	}
}

// Shutdown stops the broker; every actor stops before the actors it calls:
//  1. refuse new requests and unregister from every NameServer;
//  2. admin (it calls meta, offsets, queues, clients, the writer and send)
//     and the cleaner (it calls the index, the queues and the writer);
//  3. drain everything that appends to the CommitLog, so that every accepted
//     request is answered: request-reply, the topic actors (send), schedule,
//     transactions and retry, each of which Submits or Puts to the writer;
//     then the writer, which appends and flushes what they handed it; then
//     the index, which indexes the writer's last batch, and the queue actors
//     (consume queues flushed);
//  4. the control plane: locks, clients, offsets (after the queues, which
//     commit pulled offsets to it, and transactions, which keep their
//     progress in it; consumerOffset.json written), metadata last
//     (everything reads it);
//  5. close the listeners, the registrar's client and the store (the store
//     removes the abort file, so the next start is a clean recovery).
//
// It is idempotent and returns the first error met.
func (b *Broker) Shutdown(ctx context.Context) error {
	b.stopOnce.Do(func() { b.stopErr = b.shutdown(ctx) })
	return b.stopErr
}

func (b *Broker) shutdown(ctx context.Context) error {
	var errs []error
	note := func(what string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
	}
	b.draining.Store(true)
	if b.registrar != nil {
		b.registrar.Unregister(ctx)
		note("registrar", b.registrar.Stop(ctx))
	}
	if b.admin != nil {
		note("admin", b.admin.Stop(ctx))
	}
	if b.cleaner != nil {
		note("cleaner", b.cleaner.Stop(ctx)) // it calls the index, queues and writer
	}
	if b.replier != nil {
		note("request-reply", b.replier.Stop(ctx)) // it Puts: before the writer
	}
	if b.sender != nil {
		note("send", b.sender.Stop(ctx))
	}
	if b.schedule != nil {
		note("schedule", b.schedule.Stop(ctx)) // it Puts: before the writer
	}
	if b.txs != nil {
		note("transactions", b.txs.Stop(ctx)) // it Puts: before the writer
	}
	if b.retry != nil {
		note("retry", b.retry.Stop(ctx)) // it Puts: before the writer
	}
	if b.writer != nil {
		note("writer", b.writer.Stop(ctx))
	}
	if b.index != nil {
		note("index", b.index.Stop(ctx)) // after the writer: indexes its last batch
	}
	if b.queues != nil {
		note("queues", b.queues.Stop(ctx))
	}
	if b.locks != nil {
		note("locks", b.locks.Stop(ctx))
	}
	if b.clients != nil {
		note("clients", b.clients.Stop(ctx))
	}
	if b.offsets != nil {
		note("offsets", b.offsets.Stop(ctx))
	}
	if b.meta != nil {
		note("meta", b.meta.Stop(ctx))
	}
	if b.server != nil {
		note("server", b.server.Shutdown(ctx))
	}
	if b.fast != nil {
		note("fast channel", b.fast.Shutdown(ctx))
	}
	if b.client != nil {
		note("client", b.client.Close())
	}
	if b.store != nil {
		note("store", b.store.Close())
	}
	if b.system != nil {
		b.system.Shutdown()
	}
	return errors.Join(errs...)
}

// lateCommitter forwards pull-piggybacked commits to the offset manager once
// it is bound; the queue registry is spawned before the manager exists.
type lateCommitter struct {
	target atomic.Pointer[offsets.Manager]
}

func (l *lateCommitter) bind(m *offsets.Manager) { l.target.Store(m) }

func (l *lateCommitter) Commit(group, topic string, queueID int32, offset int64) {
	if m := l.target.Load(); m != nil {
		m.Commit(group, topic, queueID, offset)
	}
}
