// Package queue owns the read side of the data plane: one actor per
// topic-queue that owns its ConsumeQueue (dispatch of new units, pull reads,
// held pulls, offset lookups), the long-poll actor that keeps the held
// pulls' deadlines, and the consume-queue flusher.
//
// Actors (all spawned by Spawn):
//
//	registry      creates queue actors lazily (children), opens new consume
//	              queues, answers pulls/lookups of queues that do not exist
//	              and holds their suspended pulls until the queue exists
//	queue actor   one per topic@queueId that was ever used since start;
//	              Put of dispatched units, PULL_MESSAGE, its held pulls,
//	              time lookups, watches of broker-internal readers (watch.go)
//	long-poll     the earliest held-pull deadline per queue, one timer for all
//	cq flusher    flushes consume queues every CQFlushInterval
//
// Pull path (wire-protocol.md §6.2, §13): the handler on the gnet loop parses
// and validates the request, builds the filter (tag hash codes, or an SQL92
// selector compiled once per distinct text, §11) and commits a piggybacked
// offset. A tag-filtered pull of messages stored moments ago is answered
// right there (loopread.go); any other goes to the queue actor (or to the
// registry when no actor exists yet). The queue actor evaluates the status
// table of §13.1, filtering units by tags code and, for SQL92, by the
// properties of the record they point to, and answers with zero-copy
// commit-log slices (records read and not matched are released at once), or,
// when nothing is there and the client allows suspension, holds the request
// (hold.go) and answers it right after the Put that passes its offset, or at
// its deadline, which the long-poll actor signals. A SYNC_FLUSH broker
// serves only units whose records are flushed, and a held pull waiting for
// the flush is answered when the writer's flush actor reports it
// (flushed.go).
//
// Broker-internal readers (the schedule levels) read units with ReadUnits,
// lock-free, and wait for new ones with Watch, which the queue actor calls
// back after the Put that stores them.
//
// Ordering: units of one queue reach its actor in queue-offset order:
// Dispatch sends straight to a queue actor only once the registry has
// forwarded every dispatch it routed for that queue (Registry.Dispatch).
package queue

import (
	"errors"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/rs/zerolog"
	"github.com/valyala/bytebufferpool"
)

// Unit is one dispatched consume-queue entry: where the writer appended a
// record of the queue, plus what pulls and time lookups need.
type Unit struct {
	QueueOffset    int64
	PhysOffset     int64
	Size           int32
	TagsCode       int64
	StoreTimestamp int64
}

// Topics is the read side of the topic table (the metadata actor's snapshot).
// Topic is called on gnet event loops: it must not block or take a contended
// lock.
type Topics interface {
	Topic(name string) (body.TopicConfig, bool)
}

// Subscriptions is the client manager's snapshot of heartbeat-registered
// subscriptions. Called on gnet event loops: it must not block.
type Subscriptions interface {
	Subscription(group, topic string) (body.SubscriptionData, bool)
}

// OffsetCommitter stores a consumer offset piggybacked on a pull. Called on
// gnet event loops: it must not block (a non-blocking Send to the offset
// manager).
type OffsetCommitter interface {
	Commit(group, topic string, queueID int32, offset int64)
}

// Conn is the reply side of a connection (*netio.Conn implements it). Every
// method is safe from any goroutine and never blocks.
type Conn interface {
	// Write encodes and queues cmd (error answers).
	Write(cmd *remoting.Command) error
	// WriteFrame queues a whole encoded frame and takes ownership of it.
	WriteFrame(frame *bytebufferpool.ByteBuffer) error
	// WriteFrameWithBody queues head, then the parts without copying them.
	// It takes ownership of head and of done, which runs exactly once when
	// the write completed or failed (also when it fails at once, before
	// WriteFrameWithBody returns).
	WriteFrameWithBody(head *bytebufferpool.ByteBuffer, parts [][]byte, done func()) error
}

// Config configures Spawn. Broker, Store, Topics and Subscriptions are
// required; Offsets may be nil (piggybacked commits are then dropped).
type Config struct {
	Broker        config.Broker
	Store         *store.Store
	Topics        Topics
	Subscriptions Subscriptions
	Offsets       OffsetCommitter
	Logger        zerolog.Logger

	// HeldPullsMax bounds the suspended pulls held by the long-poll actor;
	// beyond it a pull is answered PULL_NOT_FOUND at once. Default 100000.
	HeldPullsMax int
	// SuspendMax caps the client's suspendTimeoutMillis so that a held pull
	// is always answered before the clients' fixed 30 s RPC timeout.
	// Default 25 s.
	SuspendMax time.Duration
	// CQFlushInterval is how often consume queues are flushed (Java's
	// flushIntervalConsumeQueue). Default 1 s. A round flushes only the
	// queues with Broker.FlushConsumeQueueLeastPages pages pending, except
	// every CQFlushThoroughInterval (Java's flushConsumeQueueThoroughInterval,
	// default 60 s), when it flushes all and the checkpoint advances.
	CQFlushInterval         time.Duration
	CQFlushThoroughInterval time.Duration
	// FilterUnitsMax bounds the consume-queue units one pull scans while
	// filtering (Java: maxFilterMessageSize 16000 B / 20 = 800); a request
	// with a larger maxMsgNums scans maxMsgNums units. Default 800.
	FilterUnitsMax int
	// LoopReadBytes is how far behind the commit log's end a record may be
	// for a pull to be answered on the gnet loop that decoded it
	// (loopread.go): data that recent is taken to be in the page cache, so
	// reading it cannot wait for the disk. Older records go through the
	// queue actor. Default 64 MiB; negative turns loop answers off.
	LoopReadBytes int64
}

// Validate fills defaults and rejects missing dependencies.
func (c *Config) Validate() error {
	switch {
	case c.Store == nil:
		return errors.New("queue: Config.Store is nil")
	case c.Topics == nil:
		return errors.New("queue: Config.Topics is nil")
	case c.Subscriptions == nil:
		return errors.New("queue: Config.Subscriptions is nil")
	}
	c.fillDefaults()
	return nil
}

func (c *Config) fillDefaults() {
	if c.HeldPullsMax <= 0 {
		c.HeldPullsMax = 100000
	}
	if c.SuspendMax <= 0 {
		c.SuspendMax = 25 * time.Second
	}
	if c.CQFlushInterval <= 0 {
		c.CQFlushInterval = time.Second
	}
	if c.CQFlushThoroughInterval <= 0 {
		c.CQFlushThoroughInterval = time.Minute
	}
	if c.FilterUnitsMax <= 0 {
		c.FilterUnitsMax = 800
	}
	if c.LoopReadBytes == 0 {
		c.LoopReadBytes = 64 << 20
	}
	if c.Broker.MaxTransferCountOnMessage <= 0 {
		c.Broker.MaxTransferCountOnMessage = 32
	}
	if c.Broker.MaxTransferBytesOnMessage <= 0 {
		c.Broker.MaxTransferBytesOnMessage = 256 << 10
	}
	if c.Broker.ShortPollingTimeMills <= 0 {
		c.Broker.ShortPollingTimeMills = time.Second
	}
	if c.Broker.BrokerPermission == 0 {
		c.Broker.BrokerPermission = body.PermRead | body.PermWrite
	}
}
