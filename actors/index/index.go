// Package index owns the broker's message index: one actor that indexes
// every record of the CommitLog under "topic#UNIQ_KEY" and "topic#<each
// KEYS entry>" in the IndexFiles of storage/index (storage-format.md §5),
// and answers QUERY_MESSAGE (12) and VIEW_MESSAGE_BY_ID (33)
// (wire-protocol.md §6.5).
//
// Feeding: Feed wraps the commitlog writer's Dispatcher and is the
// writer's Indexer too. After each group commit the writer hands the actor
// one writer.IndexBatch (handoff.go): the commit-log range the commit wrote
// and, when every record in it came from a topic actor, the hashes of
// their keys with offsets and store times, in commit-log order. The topic
// actors compute the hashes (actors/send addIndexKeys) in the property walk
// they do anyway, and the writer adds each record's offset, so the actor
// reads no record of the live stream: reading each new record through the
// commit log's mapping (the former design: a wake-up, then CommitLog.Scan
// from where it stopped) made the index's first touch of every page a
// page fault, 67% of the broker's faults and ~1 CPU-µs a 1 KiB message.
// Rejected alternatives: pread of the range into a buffer (a copy of every
// byte, for the few bytes of keys), madvise(MADV_POPULATE_READ) over it
// (saves the traps, not the mapping work or the cache misses of the
// property walk). Broker-built records (Writer.Put: a delayed message's
// delivery, a retry, a transaction's end) come with their keys too. A batch
// that is not Complete (a failed commit, a submitter that gave no keys) is
// read with
// CommitLog.Scan, as are the start-up backlog (in chunks of
// scanChunkRecords, so queries interleave; batches arriving meanwhile wait
// until the scan reaches them) and what a stop finds unindexed. Either way
// the index gets the same keys in the same order (storeindex.EachKeyHash;
// TestHandOffWritesWhatTheScanWrites).
//
// Duties, in order:
//  1. Start: truncate the index to the commit log's write position (a power
//     loss may have left items for records the log lost; a crash during a
//     roll, a newest file without items), then index from
//     the newest file's endPhyOffset (not below the log's min offset) up to
//     the write position: after a SIGTERM that is the one record at the
//     end, after a kill -9 whatever the last run appended after its last
//     index flush (at most FlushInterval of sends, plus any backlog).
//  2. Run: index each group commit (its IndexBatch); ROLLBACK-typed
//     records are skipped. Each catch-up step (and each batch) ends with
//     Index.Advance to the last record it read, so endPhyOffset moves with
//     records that have no keys too (batch items carry no UNIQ_KEY):
//     without it a restart re-read the log from its last keyed record, or
//     from 0 (4 GiB of batches after a kill -9). A storage error stops
//     indexing (logged once); queries keep answering from what is
//     indexed, as Java stops building its index.
//  3. Flush the files every FlushInterval, and when a file fills.
//  4. Retention: DeleteBelow (the cleaner, after CommitLog deletions) drops
//     files wholly below the new min offset.
//  5. Stop (after the writer stopped): index what the writer appended last,
//     flush, close the files.
//
// Queries run on the actor, not on the gnet loop: the handlers only parse
// and Send. QUERY_MESSAGE returns the records, in commit-log order, whose
// topic and KEYS/UNIQ_KEY really match (the index matches by hash only).
// Java's store returns hash matches as they are and leaves the check to the
// client; checking here spares clients the collisions.
//
// The scan reads each record in place (header fields, then one pass over
// its properties) and hashes topic#key over the parts, so it allocates
// nothing per record (TestCatchUpAllocatesNothing). The keys' hashes are
// put 32 at a time (storage/index PutKeys), so that the random reads of
// their slots overlap.
//
// The checkpoint's indexMsgTimestamp is not written: storage/store does not
// expose it, and nothing reads it without messageIndexSafe. Java needs it
// because its index keeps no position of its own: after a crash it deletes
// the index files newer than it and rebuilds only what the commit log's
// recovery re-dispatches. Here the files' end is that position
// (storage/index Advance), and recovery needs nothing from the checkpoint.
package index

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actormq/actormq/actors/actorsys"
	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/queue"
	"github.com/actormq/actormq/actors/writer"
	"github.com/actormq/actormq/storage/commitlog"
	storeindex "github.com/actormq/actormq/storage/index"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/storage/vfs"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

// Limits.
const (
	// scanChunkRecords bounds one catch-up step, so a query waits behind
	// at most this many records being indexed.
	scanChunkRecords = 4096
	// stopCatchUpBytes bounds the catch-up Stop does; a larger backlog
	// (a stop during the start-up catch-up) is left to the next start.
	stopCatchUpBytes = 64 << 20
	// queriesInFlightMax bounds queries and views queued for the actor;
	// beyond it the handlers answer SYSTEM_BUSY.
	queriesInFlightMax = 64
	// flushIntervalDefault is Config.FlushInterval's default. Java flushes
	// an index file only when it fills and at shutdown; the kernel writes
	// dirty pages back within ~30 s anyway, so a 10 s msync bounds what a
	// power loss can take without adding much I/O.
	flushIntervalDefault = 10 * time.Second
)

// ErrConfig is wrapped by Spawn's config errors.
var ErrConfig = errors.New("index: invalid config")

// Config configures Spawn.
type Config struct {
	// Broker supplies storePathRootDir, messageIndexEnable, maxHashSlotNum,
	// maxIndexNum and defaultQueryMaxNum.
	Broker    config.Broker
	CommitLog *commitlog.CommitLog // required; read only
	FS        vfs.FS               // default vfs.Default
	Logger    zerolog.Logger
	// FlushInterval between msyncs of the index files; default 10 s.
	FlushInterval time.Duration
}

// Dispatcher is the writer's dispatcher interface (writer.Dispatcher);
// *queue.Registry implements it.
type Dispatcher interface {
	Dispatch(key store.QueueKey, units []queue.Unit)
}

// TargetDispatcher is a Dispatcher that hands out per-queue handles
// (writer.TargetDispatcher); *queue.Registry implements it.
type TargetDispatcher interface {
	Dispatcher
	DispatchTarget(key store.QueueKey) *queue.DispatchTarget
	DispatchTo(t *queue.DispatchTarget, units []queue.Unit)
}

// Indexer is the handle of the index actor. Its methods are safe from any
// goroutine.
type Indexer struct {
	cfg  Config
	log  zerolog.Logger
	root *actor.RootContext
	pid  *actor.PID
	clog *commitlog.CommitLog
	idx  *storeindex.Index // nil when messageIndexEnable is false; the actor's

	inFlight atomic.Int32 // queries and views not answered yet
	dead     atomic.Bool  // the actor stopped (Stop, or supervision gave up)
	stopping atomic.Bool  // Stop was called
	done     chan struct{}
	doneOnce sync.Once
}

// Spawn opens the index files (an error here, such as a file whose size
// does not match maxHashSlotNum/maxIndexNum, fails the broker's start) and
// starts the actor, which recovers (duty 1) before anything else.
func Spawn(system *actor.ActorSystem, cfg Config) (*Indexer, error) {
	if cfg.CommitLog == nil {
		return nil, fmt.Errorf("%w: CommitLog is nil", ErrConfig)
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = flushIntervalDefault
	}
	if cfg.FS == nil {
		cfg.FS = vfs.Default
	}
	x := &Indexer{
		cfg:  cfg,
		log:  cfg.Logger.With().Str("component", "index").Logger(),
		root: system.Root,
		clog: cfg.CommitLog,
		done: make(chan struct{}),
	}
	if cfg.Broker.MessageIndexEnable {
		idx, err := storeindex.Open(storeindex.Config{
			Dir:       filepath.Join(cfg.Broker.StorePathRootDir, "index"),
			HashSlots: cfg.Broker.MaxHashSlotNum,
			MaxItems:  cfg.Broker.MaxIndexNum,
			FS:        cfg.FS,
			Logger:    cfg.Logger,
		})
		if err != nil {
			return nil, fmt.Errorf("index: open: %w", err)
		}
		x.idx = idx
	}
	// A panic is a broken invariant in the index code or files. Restart
	// re-runs recovery from the files (the index is derived data); a
	// record that panics every time ends in a stop after three tries,
	// and then the handlers answer SYSTEM_ERROR.
	supervisor := actor.NewOneForOneStrategy(3, time.Minute, func(reason any) actor.Directive {
		x.log.Error().Interface("reason", reason).Msg("index actor failed; restarting it")
		return actor.RestartDirective
	})
	pid, err := system.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
		return &indexActor{x: x}
	}, actor.WithGuardian(supervisor), actor.WithDispatcher(actorsys.Hot), actor.WithMailbox(actorsys.Mailbox)), "index")
	if err != nil {
		if x.idx != nil {
			_ = x.idx.Close()
		}
		return nil, fmt.Errorf("index: spawn: %w", err)
	}
	x.pid = pid
	return x, nil
}

// Feed returns next wrapped as a writer.Indexer too, whose Index hands the
// writer's IndexBatches to the actor; pass it to the writer as its
// Dispatcher. With
// messageIndexEnable=false it returns next. When next is a
// TargetDispatcher, so is the feed (the writer's handles pass through).
func (x *Indexer) Feed(next Dispatcher) Dispatcher {
	if x.idx == nil {
		return next
	}
	if t, ok := next.(TargetDispatcher); ok {
		return targetFeed{feed: feed{next: next, x: x}, next: t}
	}
	return feed{next: next, x: x}
}

type feed struct {
	next Dispatcher
	x    *Indexer
}

// Dispatch implements Dispatcher. Writer actor only.
func (f feed) Dispatch(key store.QueueKey, units []queue.Unit) {
	f.next.Dispatch(key, units)
}

// Index implements writer.Indexer: b goes to the actor (which releases it),
// one Send per group commit. Writer actor only.
func (f feed) Index(b *writer.IndexBatch) {
	if f.x.dead.Load() {
		b.Release()
		return
	}
	f.x.root.Send(f.x.pid, b)
}

// targetFeed is the feed of a TargetDispatcher.
type targetFeed struct {
	feed
	next TargetDispatcher
}

// DispatchTarget implements TargetDispatcher. Writer actor only.
func (f targetFeed) DispatchTarget(key store.QueueKey) *queue.DispatchTarget {
	return f.next.DispatchTarget(key)
}

// DispatchTo implements TargetDispatcher. Writer actor only.
func (f targetFeed) DispatchTo(t *queue.DispatchTarget, units []queue.Unit) {
	f.next.DispatchTo(t, units)
}

// DeleteBelow tells the actor that CommitLog segments below commitLogMin
// were deleted (duty 4). Non-blocking Send; any goroutine (the cleaner).
func (x *Indexer) DeleteBelow(commitLogMin int64) {
	if x.dead.Load() {
		return
	}
	x.root.Send(x.pid, &deleteBelow{commitLogMin: commitLogMin})
}

// Stop stops the actor after everything already sent to it (duty 5);
// call it after the writer stopped. Idempotent; waits until ctx is done.
func (x *Indexer) Stop(ctx context.Context) error {
	if x.stopping.CompareAndSwap(false, true) {
		x.root.Poison(x.pid)
	}
	select {
	case <-x.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("index: stop: %w", ctx.Err())
	}
}

// stopped marks the actor gone. Actor goroutine (Stopped).
func (x *Indexer) stopped() {
	x.dead.Store(true)
	x.doneOnce.Do(func() { close(x.done) })
}
