package queue

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actormq/actormq/actors/actorsys"
	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/storage/commitlog"
	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

// cqueue is the part of *consumequeue.ConsumeQueue the actors use; tests
// substitute fakes. Goroutine contract as on ConsumeQueue: Put from the
// owning queue actor only, the rest from any goroutine.
type cqueue interface {
	Put(queueOffset int64, u consumequeue.Unit) error
	Get(queueOffset int64, dst []consumequeue.Unit) ([]consumequeue.Unit, error)
	MinOffset() int64
	MaxOffset() int64
	FlushPages(leastPages int) error
	DeleteBelow(commitLogMin int64) error
}

// logReader is the read side of *commitlog.CommitLog (any goroutine).
type logReader interface {
	Read(offset int64, size int) (commitlog.Slice, error)
	MinOffset() int64
	WrotePosition() int64
	FlushedPosition() int64
}

// storeDeps is what the actors take from the store: the commit log to read,
// the recovered queues and a way to open new ones (registry actor only).
type storeDeps struct {
	log    logReader
	queues map[store.QueueKey]cqueue
	open   func(store.QueueKey) (cqueue, error)
	// drop makes the store forget a destroyed queue (nil in tests).
	drop func(store.QueueKey)
	// syncFS makes every queue's file system durable in one call
	// (Store.SyncQueuesFS; nil in tests: the thorough round msyncs queue
	// by queue).
	syncFS func() error
}

// entry is one known queue. cq never changes; pid is published by the
// registry actor once the queue actor exists (nil while the queue is idle
// since start: recovered queues get an actor on first use).
type entry struct {
	key store.QueueKey
	cq  cqueue
	pid atomic.Pointer[actor.PID]
	// proc is pid's process, set before pid is published and never
	// changed, so that Dispatch posts to the actor's mailbox without
	// resolving the PID (PID.ref: the PID, its boxed process and the
	// liveness flag, three cold cache lines a message with 10,000 queues,
	// on the writer's goroutine).
	proc    actor.Process
	stopped chan struct{} // closed when the queue actor has stopped
	// groupGets maps a consumer group to its pull counter for this topic
	// (Counters), copied on write: counting a pull, on a loop or the queue
	// actor, is a string-keyed read of an immutable map (no boxed key, no
	// allocation). nil until the first counted pull.
	groupGets atomic.Pointer[map[string]*atomic.Int64]
	// tailEnd is where the record of the newest unit dispatched to the
	// queue ends in the commit log, stored by the queue actor before the
	// units' Put; servedHint is a queue offset below which every unit's
	// record was flushed (flushed.go).
	tailEnd, servedHint atomic.Int64
	// gone: the entry was removed from Registry.entries (its topic was
	// deleted), so Dispatch's cached pointer must be looked up again. Set
	// before the removal.
	gone atomic.Bool
	// awaitingFlush: the entry is in Registry.flushWaiting. Guarded by
	// Registry.flushMu.
	awaitingFlush bool
	// flushDue: the entry is in Registry.flushDue (noteFlushDue).
	flushDue atomic.Bool
}

// routed carries a message for a queue that has no published actor to the
// registry actor.
type routed struct {
	key store.QueueKey
	msg any
	// to and seq: the dispatch state of key and this dispatch's number in
	// it (Registry.Dispatch); nil and 0 for other messages.
	to  *DispatchTarget
	seq uint64
}

// dispatchMsg carries units of one queue in queue-offset order. The queue
// actor owns it and the slice once sent, and gives both back for reuse
// after applying the units (units.go).
type dispatchMsg struct {
	units []Unit
}

// Registry is the handle of the queue actors. All methods are safe from any
// goroutine unless stated.
type Registry struct {
	cfg     Config
	log     zerolog.Logger
	root    *actor.RootContext
	deps    storeDeps
	entries sync.Map // store.QueueKey -> *entry

	pid, longPoll, flusher         *actor.PID
	regDone, pollDone, flusherDone chan struct{}

	// maxPutTimestamp is the newest store time any queue actor has Put;
	// flushedTimestamp is its value when the last flush of every consume
	// queue began (checkpoint logicsMsgTimestamp).
	maxPutTimestamp  atomic.Int64
	flushedTimestamp atomic.Int64
	stopped          atomic.Bool
	heldPulls        atomic.Int64 // published by the long-poll actor
	sqlFilters       sqlCache     // compiled SQL92 selectors (sqlfilter.go)
	counters         Counters     // message statistics (admin.go)
	backlog          backlogs     // queues whose units wait for space (backlog.go)

	// writeErr is the first sticky consume-queue flush failure
	// (flushFailed, WriteError).
	writeErr atomic.Pointer[error]

	// turns runs the queue actors' turns: a writer group that wakes ~100
	// queue actors costs a few goroutine hand-offs, not one each
	// (actorsys.Turns).
	turns *actorsys.Turns

	// dispatchTo is each queue's dispatch state: its entry, and the count
	// of dispatches Dispatch routed through the registry actor. Only the
	// writer goroutine (Dispatch) touches it.
	dispatchTo map[store.QueueKey]*DispatchTarget
	// goneEntries are entries removed with their topic whose dispatchTo
	// state the writer has not dropped yet (dropGone); goneWaiting says the
	// list is worth a look. Guarded by goneMu.
	goneMu      sync.Mutex
	goneEntries []*entry
	goneWaiting atomic.Bool

	// flushDue are the queues whose end moved to another page since the
	// flusher last looked at them (noteFlushDue): the only queues a round
	// that flushes by pages can find worth flushing. Guarded by dueMu.
	dueMu    sync.Mutex
	flushDue []*entry
	// flushMarks is flushAllBySyncFS's list, kept for the next round.
	// Flusher goroutine (or Stop's, after the flusher stopped).
	flushMarks []markedQueue

	// syncFlush: pulls serve only flushed records (flushed.go).
	syncFlush bool
	// flushWaiting are the queues whose held pulls wait for the commit log
	// flush to cover their units (awaitFlush, WakeFlushed).
	flushMu      sync.Mutex
	flushWaiting []*entry
}

// Spawn starts the registry, long-poll and flusher actors for cfg.Store.
// Queue actors are spawned lazily.
func Spawn(system *actor.ActorSystem, cfg Config) (*Registry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	st := cfg.Store
	deps := storeDeps{
		log:    st.CommitLog,
		queues: make(map[store.QueueKey]cqueue, len(st.Queues)),
		open: func(k store.QueueKey) (cqueue, error) {
			cq, err := st.OpenQueue(k)
			if err != nil {
				return nil, err
			}
			return cq, nil
		},
		drop:   st.DropQueue,
		syncFS: st.SyncQueuesFS,
	}
	for k, cq := range st.Queues {
		deps.queues[k] = cq
	}
	return spawn(system, cfg, deps)
}

// spawn is Spawn with the store seam open for tests.
func spawn(system *actor.ActorSystem, cfg Config, deps storeDeps) (*Registry, error) {
	cfg.fillDefaults()
	r := &Registry{
		cfg:         cfg,
		log:         cfg.Logger.With().Str("component", "queue").Logger(),
		root:        system.Root,
		deps:        deps,
		regDone:     make(chan struct{}),
		pollDone:    make(chan struct{}),
		flusherDone: make(chan struct{}),
		dispatchTo:  make(map[store.QueueKey]*DispatchTarget),
		turns:       actorsys.NewTurns(),
		syncFlush:   cfg.Broker.FlushDiskType == config.FlushSync,
	}
	for k, cq := range deps.queues {
		r.entries.Store(k, &entry{key: k, cq: cq, stopped: make(chan struct{})})
	}
	// A panic in these actors is a bug in handling one message; their state
	// stays consistent between messages, so they resume with the next one
	// rather than restart (which would drop held pulls and timers).
	resume := actor.NewOneForOneStrategy(10, time.Second, func(reason any) actor.Directive {
		r.log.Error().Interface("reason", reason).Msg("queue actor failed; resuming")
		return actor.ResumeDirective
	})
	var err error
	r.longPoll, err = system.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
		return newLongPoll(r)
	}, actor.WithGuardian(resume), actor.WithDispatcher(actorsys.Hot), actor.WithMailbox(actorsys.Mailbox)), "queue-longpoll")
	if err != nil {
		return nil, fmt.Errorf("queue: spawn long-poll actor: %w", err)
	}
	r.pid, err = system.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
		return &registryActor{r: r}
	}, actor.WithGuardian(resume), actor.WithSupervisor(resume)), "queue-registry")
	if err != nil {
		return nil, fmt.Errorf("queue: spawn registry actor: %w", err)
	}
	r.flusher, err = system.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
		return &cqFlusher{r: r}
	}, actor.WithGuardian(resume)), "queue-flusher")
	if err != nil {
		return nil, fmt.Errorf("queue: spawn flusher actor: %w", err)
	}
	return r, nil
}

// Handlers maps the request codes this package serves to handlers that run on
// gnet event loops; they never block.
func (r *Registry) Handlers() map[int32]func(c *netio.Conn, cmd *remoting.Command) {
	return map[int32]func(c *netio.Conn, cmd *remoting.Command){
		remoting.ReqPullMessage:             func(c *netio.Conn, cmd *remoting.Command) { r.handlePull(c, cmd) },
		remoting.ReqLitePullMessage:         func(c *netio.Conn, cmd *remoting.Command) { r.handlePull(c, cmd) },
		remoting.ReqGetMaxOffset:            func(c *netio.Conn, cmd *remoting.Command) { r.handleMaxOffset(c, cmd) },
		remoting.ReqGetMinOffset:            func(c *netio.Conn, cmd *remoting.Command) { r.handleMinOffset(c, cmd) },
		remoting.ReqGetEarliestMsgStoreTime: func(c *netio.Conn, cmd *remoting.Command) { r.handleTimeLookup(c, cmd, lookupEarliest) },
		remoting.ReqSearchOffsetByTimestamp: func(c *netio.Conn, cmd *remoting.Command) { r.handleTimeLookup(c, cmd, lookupSearch) },
		remoting.ReqCheckClientConfig:       func(c *netio.Conn, cmd *remoting.Command) { r.handleCheckClientConfig(c, cmd) },
	}
}

// Dispatch hands units of one queue, in queue-offset order, to its queue
// actor. Goroutine contract: only the commitlog writer actor calls it (one
// goroutine at a time). Ownership of units passes to the queue actor, which
// gives the slice back for reuse after the Put (units.go: get it from
// NewUnits); the caller must not touch the slice again.
//
// Units must reach the queue actor in order, but a dispatch routed through
// the registry actor (no actor yet) could be overtaken by a later one sent
// straight to a PID published meanwhile. So Dispatch sends straight only
// when the registry has forwarded every dispatch routed through it for this
// queue (the DispatchTarget's forwarded caught up with its seq). Routing
// everything through the registry was rejected: it would add a hop to every
// dispatch.
//
// Each queue's dispatch state, its entry included, sits in one writer-only
// map (dispatchTo) instead of a lookup in r.entries (a sync.Map: a boxed
// key and a hash-trie walk) plus a map of sequence numbers; an entry found
// gone (deleted with its topic) is looked up again, and the state of a
// deleted queue is dropped at the next call (dropGone). The writer, which
// has its own map of queues, keeps each queue's state as a handle
// (DispatchTarget, DispatchTo) and so skips this lookup too.
func (r *Registry) Dispatch(key store.QueueKey, units []Unit) {
	if len(units) == 0 {
		return
	}
	if r.goneWaiting.Load() {
		r.dropGone()
	}
	r.dispatch(r.DispatchTarget(key), units)
}

// DispatchTarget returns key's dispatch state, made if the queue has none,
// as a handle for DispatchTo: with 10,000 queues the writer dispatches about
// once per message, and its map of queues keeps the handle, so a message
// costs one map lookup instead of two (the second was 2–4% of the
// broker's CPU in the 10,000-queue benchmark run). The handle stays valid
// for good: when dropGone drops the state of a deleted queue the writer
// still holds, DispatchTo puts it back. Writer goroutine only.
func (r *Registry) DispatchTarget(key store.QueueKey) *DispatchTarget {
	t := r.dispatchTo[key]
	if t == nil {
		t = &DispatchTarget{key: key}
		r.dispatchTo[key] = t
	}
	return t
}

// DispatchTo is Dispatch to the queue of t, a handle from DispatchTarget.
// Same contract.
func (r *Registry) DispatchTo(t *DispatchTarget, units []Unit) {
	if len(units) == 0 {
		return
	}
	if r.goneWaiting.Load() {
		r.dropGone()
	}
	if t.dropped {
		t = r.readopt(t)
	}
	r.dispatch(t, units)
}

// readopt returns the state to use for a handle whose state dropGone
// dropped: the handle itself, back in dispatchTo, so that DispatchTarget
// hands out the same state (a fresh one, at seq 0, would send straight
// past this handle's routed dispatches); or the key's newer state, when one
// was made meanwhile. Switching to it is safe: the handle was caught up
// when dropped and has not dispatched since. Writer goroutine.
func (r *Registry) readopt(t *DispatchTarget) *DispatchTarget {
	if cur := r.dispatchTo[t.key]; cur != nil {
		return cur
	}
	t.dropped = false
	r.dispatchTo[t.key] = t
	return t
}

// dispatch sends units to t's queue actor, straight or through the registry
// actor (Dispatch). Writer goroutine.
func (r *Registry) dispatch(t *DispatchTarget, units []Unit) {
	msg := newDispatchMsg(units)
	if t.e == nil || t.e.gone.Load() {
		t.e = r.lookup(t.key)
	}
	if e := t.e; e != nil {
		if pid := e.pid.Load(); pid != nil && t.forwarded.Load() == t.seq {
			// What root.Send does (the root has no sender middleware),
			// minus resolving the PID: entry.proc. An actor that stopped
			// (its topic deleted since t.e was looked up) drops the message
			// as its mailbox's turn finds the context stopped, where Send
			// would have handed it to dead letters: lost either way, with
			// the queue.
			e.proc.SendUserMessage(pid, msg)
			return
		}
	}
	t.seq++
	r.root.Send(r.pid, &routed{key: t.key, msg: msg, to: t, seq: t.seq})
}

// DispatchTarget is the writer-side dispatch state of one queue (Dispatch),
// and the handle DispatchTarget returns.
type DispatchTarget struct {
	key store.QueueKey
	e   *entry // nil while the queue has no entry; check gone before use
	seq uint64 // dispatches routed through the registry actor so far
	// forwarded is the seq of the last routed dispatch the registry actor
	// handled (forwarded, or dropped when the queue failed to open). Kept
	// here, not on the entry, so that it counts the queue's dispatches
	// across the entries a deleted and re-created topic goes through.
	forwarded atomic.Uint64
	// dropped: dropGone removed the state from dispatchTo (readopt).
	// Writer goroutine only.
	dropped bool
}

// noteGone hands an entry removed with its topic to the writer, which drops
// its dispatch state at its next Dispatch (dropGone). Registry actor.
func (r *Registry) noteGone(e *entry) {
	r.goneMu.Lock()
	r.goneEntries = append(r.goneEntries, e)
	r.goneWaiting.Store(true)
	r.goneMu.Unlock()
}

// dropGone removes from dispatchTo the state of queues deleted with their
// topic, which would otherwise stay for good: a deleted queue gets no
// further dispatch to notice it by. A queue's state goes only when no
// dispatch routed through the registry actor is still on its way (forwarded
// caught up with seq), since a state made afresh starts at seq 0 and would
// send straight past it; otherwise the entry waits for the next call, as it
// does while its key is in use again (a live entry). Writer goroutine
// (Dispatch). Dropping the state from the registry actor was rejected:
// dispatchTo would need a lock on the writer's path.
func (r *Registry) dropGone() {
	r.goneMu.Lock()
	gone := r.goneEntries
	r.goneEntries = nil
	r.goneWaiting.Store(false)
	r.goneMu.Unlock()
	var wait []*entry
	for _, e := range gone {
		t := r.dispatchTo[e.key]
		switch {
		case t == nil:
		case t.e != nil && !t.e.gone.Load():
			// The key's topic was created again and its state is in use.
		case t.forwarded.Load() != t.seq:
			wait = append(wait, e)
		default:
			t.dropped = true // a handle the writer still holds (readopt)
			delete(r.dispatchTo, e.key)
		}
	}
	if len(wait) > 0 {
		r.goneMu.Lock()
		r.goneEntries = append(r.goneEntries, wait...)
		r.goneWaiting.Store(true)
		r.goneMu.Unlock()
	}
}

// MinOffset is the queue's first readable offset, 0 for an unknown queue.
// Lock-free; any goroutine.
func (r *Registry) MinOffset(topic string, queueID int32) int64 {
	if e := r.lookup(store.QueueKey{Topic: topic, QueueID: queueID}); e != nil {
		return e.cq.MinOffset()
	}
	return 0
}

// MaxOffset is the queue's next offset (count of units ever written), 0 for
// an unknown queue; on a SYNC_FLUSH broker it may count units not flushed
// yet, which broker-internal readers see but consumers do not
// (ServedMaxOffset). Lock-free; any goroutine.
func (r *Registry) MaxOffset(topic string, queueID int32) int64 {
	if e := r.lookup(store.QueueKey{Topic: topic, QueueID: queueID}); e != nil {
		return e.cq.MaxOffset()
	}
	return 0
}

// FlushedTimestamp is the store time up to which consume-queue units were
// durable after the last flush round (checkpoint logicsMsgTimestamp), kept
// below units waiting for space (backlog.go). It is approximate by the few
// milliseconds units spend in mailboxes, which the 3 s margin of recovery
// covers. Any goroutine.
func (r *Registry) FlushedTimestamp() int64 { return r.backlog.cap(r.flushedTimestamp.Load()) }

// HeldPulls is the number of suspended pulls held right now (for stats and
// tests). Any goroutine.
func (r *Registry) HeldPulls() int64 { return r.heldPulls.Load() }

func (r *Registry) lookup(key store.QueueKey) *entry {
	if v, ok := r.entries.Load(key); ok {
		return v.(*entry)
	}
	return nil
}

// route Sends msg to the queue actor of key, or to the registry actor when
// the queue has no published actor. Any goroutine; never blocks.
func (r *Registry) route(key store.QueueKey, msg any) {
	if e := r.lookup(key); e != nil {
		if pid := e.pid.Load(); pid != nil {
			r.root.Send(pid, msg)
			return
		}
	}
	r.root.Send(r.pid, &routed{key: key, msg: msg})
}

// ReadUnits fills dst (up to cap(dst)) with the units of key from
// queueOffset on, filler units included (callers skip units with Size 0 or
// a commit-log offset below the log's minimum). An unknown queue reads
// nothing. Lock-free and safe beside the queue actor's Puts (the
// ConsumeQueue's read contract); for broker-internal readers such as the
// schedule and transaction actors, which must not wait on a queue mailbox.
func (r *Registry) ReadUnits(key store.QueueKey, queueOffset int64, dst []consumequeue.Unit) ([]consumequeue.Unit, error) {
	e := r.lookup(key)
	if e == nil {
		return dst[:0], nil
	}
	return e.cq.Get(queueOffset, dst)
}
