// Package writer owns the write side of the CommitLog: the commitlog-writer
// actor (the only appender, owner of the topic-queue → next queue offset
// table, group commit) and the flush actor (fsync for ASYNC_FLUSH and
// SYNC_FLUSH, checkpoint). See doc.go for how send, writer and queue are
// wired together.
//
// Group commit, without sleeping (style.md, Actors):
//  1. Submitters hand over Batches (batch.go): a topic actor's turn, every
//     send it encoded, is one Batch, so one writer message carries many
//     Appends. The first Batch after idle makes the writer Send itself a
//     batch marker; Batches queued before the marker join the group.
//  2. At the marker it appends every record (queue offsets assigned, one
//     store timestamp per group), then dispatches the new units to the queue
//     actors, one message per queue.
//  3. ASYNC_FLUSH, WAIT=false and failed requests are answered at once;
//     SYNC_FLUSH requests go to the flush actor, which answers each after an
//     fsync covering its records, or FLUSH_DISK_TIMEOUT after
//     SyncFlushTimeout (the message is stored).
//
// Units are dispatched before the producer is answered, so a consumer that
// pulls after a SUCCESS finds the message (the pull reaches the queue actor's
// mailbox after the units). On an ASYNC_FLUSH broker messages are consumable
// before they are durable, as in RocketMQ 4.9; on a SYNC_FLUSH broker pulls
// serve a unit only once the flush covers its record (queue/flushed.go; the
// flush actor reports each flush through Config.OnFlushed), as 5.x does.
package writer

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/actormq/actormq/actors/actorsys"
	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/queue"
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
	"github.com/valyala/bytebufferpool"
)

// Sentinel errors.
var (
	// ErrConfig is wrapped by Spawn's config validation failures.
	ErrConfig = errors.New("writer: invalid config")
	// ErrBadAppend marks an Append whose record buffer is not a sequence of
	// whole records matching its Tags (a bug in the sender).
	ErrBadAppend = errors.New("writer: malformed append request")
)

// Conn is the reply side of a connection (*netio.Conn implements it); safe
// from any goroutine, never blocks.
type Conn interface {
	Write(cmd *remoting.Command) error
	// WriteFrame writes an encoded frame and takes ownership of the buffer
	// (returns it to its pool, remoting.ReleaseOutFrame): the success answer, encoded without a
	// Command or map per send.
	WriteFrame(frame *bytebufferpool.ByteBuffer) error
}

// Dispatcher receives the units of each batch. *queue.Registry implements it.
type Dispatcher interface {
	// Dispatch hands units of one queue, in queue-offset order, over; the
	// callee owns the slice (the writer takes it from queue.NewUnits, and
	// the queue actor gives it back after the Put; a Dispatcher that keeps
	// nothing may give it back with queue.ReleaseUnits). Called from the
	// writer actor only.
	Dispatch(key store.QueueKey, units []queue.Unit)
}

// Config configures Spawn. Broker, Store and Dispatcher are required.
type Config struct {
	Broker     config.Broker
	Store      *store.Store
	Dispatcher Dispatcher
	// LogicsTimestamp returns the store time up to which consume queues are
	// durable (queue.Registry.FlushedTimestamp), for the checkpoint.
	LogicsTimestamp func() int64
	Logger          zerolog.Logger
	// FlushThoroughInterval forces an ASYNC_FLUSH flush of any dirty data
	// this long after the last full one (Java's
	// flushCommitLogThoroughInterval). Default 10 s.
	FlushThoroughInterval time.Duration
	// DiskFullProbeInterval is how often a commit log without space for
	// its next segment is probed again (diskfull.go). Default 1 s.
	DiskFullProbeInterval time.Duration
	// QueuesFull, when set, reports consume-queue units waiting for space
	// (queue.Registry.Full); DiskFull includes it. Lock-free.
	QueuesFull func() bool
	// QueuesError, when set, reports a sticky consume-queue flush failure
	// (queue.Registry.WriteError); while it is non-nil, sends and Puts are
	// refused with it (WriteError). Lock-free.
	QueuesError func() error
	// OnFlushed, when set, is called on the flush actor after every flush
	// that advanced the commit log's flushed position (FlushedPosition has
	// the new value): queue.Registry.WakeFlushed, which wakes the pulls a
	// SYNC_FLUSH broker holds until their records are durable. It must not
	// block.
	OnFlushed func()
}

func (c *Config) fillDefaults() {
	b := &c.Broker
	if b.FlushIntervalCommitLog <= 0 {
		b.FlushIntervalCommitLog = 500 * time.Millisecond
	}
	if b.SyncFlushTimeout <= 0 {
		b.SyncFlushTimeout = 5 * time.Second
	}
	if b.FlushCommitLogLeastPages < 0 {
		b.FlushCommitLogLeastPages = 0
	}
	if b.RegionID == "" {
		b.RegionID = "DefaultRegion"
	}
	if b.FlushDiskType == "" {
		b.FlushDiskType = config.FlushAsync
	}
	if c.FlushThoroughInterval <= 0 {
		c.FlushThoroughInterval = 10 * time.Second
	}
	if c.DiskFullProbeInterval <= 0 {
		c.DiskFullProbeInterval = diskFullProbeDefault
	}
}

// Writer is the handle of the writer and flush actors. Its methods are safe
// from any goroutine.
type Writer struct {
	cfg       Config
	log       zerolog.Logger
	root      *actor.RootContext
	storeHost netip.AddrPort
	idPrefix  message.MsgIDPrefix // storeHost's part of every offset msg id
	traceOn   string
	answers   *remoting.SendResponseEncoder // success answers (answer.go)

	pid, flush, syncer                *actor.PID
	writerDone, flushDone, syncerDone chan struct{}
	closed, stopping                  atomic.Bool
	diskFull                          atomic.Bool // the cleaner's usage check
	storeFull                         atomic.Bool // the commit log found no space (diskfull.go)
	probeArmed                        atomic.Bool // a probe timer is armed (diskfull.go)
	syncBusy                          atomic.Bool // a flushReq is queued or a flush runs (sync.go)
	prefaulter                        *actor.PID  // nil without deps.prefault (prefault.go)
	prefaulterDone                    chan struct{}
	prefaultBusy                      atomic.Bool // a prefaultReq is queued or running
	deps                              storeDeps
	// indexer is the Dispatcher's Indexer side, nil when it has none: the
	// writer actor hands it each commit's IndexBatch, and Put then computes
	// the index keys of its records (put.go).
	indexer Indexer
}

// Spawn starts the writer, flush and syncer actors. cfg.Store must be
// recovered; the writer takes over its CommitLog's write side and seeds the
// queue offsets from Store.QueueOffsets.
func Spawn(system *actor.ActorSystem, cfg Config) (*Writer, error) {
	if cfg.Store == nil || cfg.Store.CommitLog == nil {
		return nil, fmt.Errorf("%w: Store is nil", ErrConfig)
	}
	st := cfg.Store
	prefault := st.CommitLog.CreateAhead // prefault.go
	if cfg.Broker.FlushDiskType == config.FlushSync {
		prefault = st.CommitLog.PrefaultWritten // prefault.go
	}
	return spawn(system, cfg, storeDeps{
		log:          st.CommitLog,
		queueOffsets: st.QueueOffsets(),
		checkpoint:   st.UpdateCheckpoint,
		probe:        st.CommitLog.Probe,
		prefault:     prefault,
	})
}

// spawn is Spawn with the store seam open for tests.
func spawn(system *actor.ActorSystem, cfg Config, deps storeDeps) (*Writer, error) {
	cfg.fillDefaults()
	if cfg.Dispatcher == nil {
		return nil, fmt.Errorf("%w: Dispatcher is nil", ErrConfig)
	}
	host, err := StoreHost(cfg.Broker)
	if err != nil {
		return nil, err
	}
	w := &Writer{
		cfg:        cfg,
		log:        cfg.Logger.With().Str("component", "writer").Logger(),
		root:       system.Root,
		storeHost:  host,
		idPrefix:   message.NewMsgIDPrefix(host),
		traceOn:    strconv.FormatBool(cfg.Broker.TraceOn),
		answers:    remoting.NewSendResponseEncoder(cfg.Broker.RegionID, strconv.FormatBool(cfg.Broker.TraceOn)),
		writerDone: make(chan struct{}),
		flushDone:  make(chan struct{}),
		syncerDone: make(chan struct{}),
		deps:       deps,
	}
	w.indexer, _ = cfg.Dispatcher.(Indexer)
	// A panic here is a broken invariant around the commit log: stop (never
	// restart, which would drop the batch and the offset table) and let the
	// send side answer SERVICE_NOT_AVAILABLE from then on.
	stop := actor.NewOneForOneStrategy(0, 0, func(reason any) actor.Directive {
		w.log.Error().Interface("reason", reason).Msg("writer actor failed; stopping it")
		w.closed.Store(true)
		return actor.StopDirective
	})
	w.syncer, err = system.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
		return &syncer{w: w}
	}, actor.WithGuardian(stop), actor.WithDispatcher(actorsys.Hot), actor.WithMailbox(actorsys.Mailbox)), "writer-syncer")
	if err != nil {
		return nil, fmt.Errorf("writer: spawn syncer: %w", err)
	}
	flushed, wrote := deps.log.FlushedPosition(), deps.log.WrotePosition()
	w.flush, err = system.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
		return newFlushActor(w, flushed, wrote)
	}, actor.WithGuardian(stop), actor.WithDispatcher(actorsys.Hot), actor.WithMailbox(actorsys.Mailbox)), "writer-flush")
	if err != nil {
		return nil, fmt.Errorf("writer: spawn flush actor: %w", err)
	}
	if deps.prefault != nil {
		w.prefaulterDone = make(chan struct{})
		// Prefaulting is an optimization: a panic there is logged and the
		// actor resumes; the writer's stores fault pages in themselves.
		resume := actor.NewOneForOneStrategy(0, 0, func(reason any) actor.Directive {
			w.log.Error().Interface("reason", reason).Msg("prefaulter panicked; resuming")
			return actor.ResumeDirective
		})
		w.prefaulter, err = system.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
			return &prefaulter{w: w}
		}, actor.WithGuardian(resume)), "writer-prefault")
		if err != nil {
			return nil, fmt.Errorf("writer: spawn prefaulter: %w", err)
		}
	}
	w.pid, err = system.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
		return newWriterActor(w)
	}, actor.WithGuardian(stop), actor.WithDispatcher(actorsys.Hot), actor.WithMailbox(actorsys.Mailbox)), "writer")
	if err != nil {
		return nil, fmt.Errorf("writer: spawn writer actor: %w", err)
	}
	// Recovery may have left the commit log without space.
	system.Root.Send(w.pid, &probeTick{})
	return w, nil
}

// StoreHost is the broker's store address brokerIP1:listenPort, written into
// every record and every offset message id.
func StoreHost(b config.Broker) (netip.AddrPort, error) {
	ip, err := netip.ParseAddr(b.BrokerIP1)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%w: brokerIP1 %q: %w", ErrConfig, b.BrokerIP1, err)
	}
	if b.ListenPort < 0 || b.ListenPort > 65535 {
		return netip.AddrPort{}, fmt.Errorf("%w: listenPort %d", ErrConfig, b.ListenPort)
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(b.ListenPort)), nil
}

// StoreHost returns brokerIP1:listenPort.
func (w *Writer) StoreHost() netip.AddrPort { return w.storeHost }

// Submit hands b to the writer actor with a non-blocking Send; ownership of
// b, its buffer and its Appends passes to the writer, which answers each
// Append exactly once (to its Conn, or its Result), then calls its Done.
// Callers check Closed first: after Stop a submitted batch is never
// answered.
func (w *Writer) Submit(b *Batch) { w.root.Send(w.pid, b) }

// Closed reports whether the writer stopped or is stopping; sends must then
// be answered SERVICE_NOT_AVAILABLE without Submit.
func (w *Writer) Closed() bool { return w.closed.Load() }

// SetDiskFull records whether the disk is over the full threshold (the
// cleaner decides, storage-format.md §11). While it is, the send side refuses
// new sends with SERVICE_NOT_AVAILABLE. Any goroutine.
func (w *Writer) SetDiskFull(full bool) { w.diskFull.Store(full) }

// DiskFull reports whether sends must be refused for lack of space: the last
// SetDiskFull, or the commit log found no space for its next segment and
// the probe has not found any since (diskfull.go), or consume-queue units
// wait for space (Config.QueuesFull). Lock-free; any goroutine.
func (w *Writer) DiskFull() bool {
	return w.diskFull.Load() || w.storeFull.Load() || (w.cfg.QueuesFull != nil && w.cfg.QueuesFull())
}

// ErrorResponse builds the send error response for err: the code from the
// reply table, and MSG_REGION and TRACE_ON, which every send response
// carries (wire-protocol.md §6.1 step 2).
func (w *Writer) ErrorResponse(req *remoting.Command, err error) *remoting.Command {
	resp := reply.Error(req, err)
	resp.ExtFields = map[string]string{"MSG_REGION": w.cfg.Broker.RegionID, "TRACE_ON": w.traceOn}
	return resp
}

// Stop stops accepting requests, appends and answers everything already
// submitted, flushes, answers every SYNC_FLUSH waiter, writes the checkpoint
// and stops the actors. Call it after the send side stopped submitting.
// Idempotent.
func (w *Writer) Stop(ctx context.Context) error {
	if !w.stopping.CompareAndSwap(false, true) {
		return nil
	}
	w.closed.Store(true)
	steps := []struct {
		pid  *actor.PID
		done chan struct{}
	}{{w.pid, w.writerDone}, {w.syncer, w.syncerDone}, {w.flush, w.flushDone}}
	for _, s := range steps {
		if err := actorsys.PoisonAndWait(ctx, w.root, s.pid, s.done, "writer"); err != nil {
			return err
		}
	}
	if w.prefaulter != nil {
		// Last: the writer, which sends it work, has stopped; the store
		// closes the commit log only after Stop.
		return actorsys.PoisonAndWait(ctx, w.root, w.prefaulter, w.prefaulterDone, "writer prefaulter")
	}
	return nil
}
