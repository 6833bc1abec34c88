// Package queue owns the read side of the data plane: one actor per
// topic-queue that owns its ConsumeQueue (dispatch of new units, pull reads,
// offset lookups), the long-poll actor that holds suspended pulls, and the
// consume-queue flusher.
//
// Actors (all spawned by Spawn):
//
//	registry      creates queue actors lazily (children), opens new consume
//	              queues, answers pulls/lookups of queues that do not exist
//	queue actor   one per topic@queueId that was ever used since start;
//	              Put of dispatched units, PULL_MESSAGE, time lookups,
//	              watches of broker-internal readers (watch.go)
//	long-poll     suspended pulls keyed by topic@queueId, one timer for all
//	cq flusher    flushes consume queues every CQFlushInterval
//
// Pull path (wire-protocol.md §6.2, §13): the handler on the gnet loop parses
// and validates the request, builds the filter (tag hash codes, or an SQL92
// selector compiled once per distinct text, §11) and commits a piggybacked
// offset, then Sends the request to the queue actor (or to the registry when
// no actor exists yet). The queue actor evaluates the status table of §13.1,
// filtering units by tags code and, for SQL92, by the properties of the
// record they point to, answers with zero-copy commit-log slices (records
// read and not matched are released at once), or, when nothing is there and
// the client allows suspension, hands the request to the long-poll actor. The
// long-poll actor re-sends it (suspension no longer allowed) when the queue
// advances past the request offset or when its deadline passes.
//
// Broker-internal readers (the schedule levels) read units with ReadUnits,
// lock-free, and wait for new ones with Watch, which the queue actor calls
// back after the Put that stores them.
//
// Ordering: units of one queue are sent to one mailbox in queue-offset order.
// The registry forwards a message to a new child before it publishes the
// child's PID, so a sender that sees the PID cannot overtake a message still
// held by the registry.
package queue

import (
	"errors"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/rs/zerolog"
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

// Conn is the reply side of a connection (*netio.Conn implements it). Both
// methods are safe from any goroutine and never block.
type Conn interface {
	Write(cmd *remoting.Command) error
	// WriteWithBody writes cmd's header and the parts without copying; done
	// runs exactly once when the write completed or failed (also when it
	// fails at once, before WriteWithBody returns).
	WriteWithBody(cmd *remoting.Command, parts [][]byte, done func()) error
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
	// flushIntervalConsumeQueue). Default 1 s.
	CQFlushInterval time.Duration
	// FilterUnitsMax bounds the consume-queue units one pull scans while
	// filtering (Java: maxFilterMessageSize 16000 B / 20 = 800); a request
	// with a larger maxMsgNums scans maxMsgNums units. Default 800.
	FilterUnitsMax int
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
	if c.FilterUnitsMax <= 0 {
		c.FilterUnitsMax = 800
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
