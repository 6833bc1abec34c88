// Package transaction owns transactional messages on the broker
// (wire-protocol.md §6.4, §7, §15): the half-message rewrite the send path
// applies (half.go), END_TRANSACTION (37), and the check service that asks a
// producer of the group about half messages left open
// (CHECK_TRANSACTION_STATE, 39).
//
// One actor owns every piece of transaction state: the scan progress, the
// state of each transaction still in reach of the scan, the check timer and
// the writes in flight. END_TRANSACTION is parsed on the gnet loop and Sent to
// it; the scan runs on it, one timer tick every transactionCheckInterval.
//
// Records it writes, all through writer.Put (never through the send path):
//
//	record       topic / queue                    what
//	commit       REAL_TOPIC / REAL_QID            the half message with REAL_TOPIC,
//	                                              REAL_QID and TRAN_MSG removed,
//	                                              sysFlag type COMMIT (8), prepared
//	                                              offset = half's commit-log offset;
//	                                              a DELAY level diverts it (schedule.Divert)
//	op           RMQ_SYS_TRANS_OP_HALF_TOPIC / 0  TAGS=d, body = the ended half record's
//	                                              queue offset in decimal, property
//	                                              TRAN_PREPARED_QUEUE_OFFSET = the root
//	half copy    RMQ_SYS_TRANS_HALF_TOPIC / 0     the half record re-appended by a check,
//	                                              TRANSACTION_CHECK_TIMES counted up,
//	                                              TRAN_PREPARED_QUEUE_OFFSET = the root
//	discard      TRANS_CHECK_MAX_TIME_TOPIC / 0   a half record checked transactionCheckMax
//	                                              times or older than fileReservedTime
//
// The root of a transaction is the half queue offset of its first half
// record; each copy carries it in TRAN_PREPARED_QUEUE_OFFSET. State is kept
// per root, so an END for any record of a transaction (the producer's own,
// late, or the answer to any check) ends it once: a second END changes
// nothing and gets SYSTEM_ERROR. Java writes the same op records but keeps
// no such state, so a late commit racing a check's commit stores the message
// twice there; the root property on op records is ours (Java ignores it).
//
// The scan (§15 step 6) walks the half queue from its progress: a record
// whose transaction ended, or that a newer copy superseded, is passed; one
// younger than transactionTimeOut stops the scan (later ones are younger);
// one checked transactionCheckMax times or older than fileReservedTime is
// discarded; otherwise it is re-appended with its check count up and the
// check goes to one live connection of its PGROUP. A record whose group
// has no live producer is re-appended with its check count up (as Java
// does), so a group that is gone for good has its half messages discarded
// after transactionCheckMax rounds rather than copied every interval until
// fileReservedTime. Unlike Java, for the first 30 s after the broker
// starts such a round is not counted: producers that outlived a restart
// register again with their next heartbeat, up to 30 s later, and should
// not lose checks to the restart.
//
// Progress is the consumer offsets of group CID_RMQ_SYS_TRANS, as in Java:
// on the half queue, the next record to examine; on the op queue, the first
// op record a restart must re-read (the lowest op of a transaction whose
// records the scan has not passed). At start the actor rebuilds its state
// from the op queue and the unexamined part of the half queue from there.
package transaction

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/actormq/actormq/actors/admit"
	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/writer"
	"github.com/actormq/actormq/internal/wallclock"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

// ErrStopped is wrapped when the actor is gone or does not drain in time.
var ErrStopped = errors.New("transaction: actor stopped")

// CheckMaxTimeTopic receives the half messages the scan gives up on (Java
// 5.x's TRANS_CHECK_MAX_TIME_TOPIC, created on first use).
const CheckMaxTimeTopic = "TRANS_CHECK_MAX_TIME_TOPIC"

// Limits.
const (
	// endsInFlightMax bounds END_TRANSACTION requests queued or being
	// stored; beyond it the loop answers SYSTEM_BUSY.
	endsInFlightMax = 10000
	// producerReturnGrace is how long after start a round without a live
	// producer of a group does not count as a check: clients heartbeat
	// every 30 s (Go and Java), so a producer that outlived a broker
	// restart has registered again by then.
	producerReturnGrace = 30 * time.Second
	// scanBatchMax is how many half records one actor message examines;
	// a longer scan continues in a message Sent to itself, so END requests
	// are served in between.
	scanBatchMax = 256
	// createTopicTimeout bounds the metadata call that creates
	// CheckMaxTimeTopic (in a child actor; the discard does not wait).
	createTopicTimeout  = 3 * time.Second
	drainTimeoutDefault = 10 * time.Second
)

// Keys of the half and op queues (one queue each, as in Java).
var (
	halfKey = store.QueueKey{Topic: body.TransHalfTopic, QueueID: 0}
	opKey   = store.QueueKey{Topic: body.TransOpHalfTopic, QueueID: 0}
)

// CommitLog reads records at commit-log offsets; any goroutine
// (*commitlog.CommitLog).
type CommitLog interface {
	ReadMessage(offset int64) (message.Message, error)
}

// Queues reads consume queues lock-free (*queue.Registry).
type Queues interface {
	ReadUnits(key store.QueueKey, queueOffset int64, dst []consumequeue.Unit) ([]consumequeue.Unit, error)
	MinOffset(topic string, queueID int32) int64
	MaxOffset(topic string, queueID int32) int64
}

// Writer appends broker-built records (*writer.Writer).
type Writer interface {
	Put(m *message.Message, tagsCode int64, noWait bool, done func(writer.PutResult))
	StoreHost() netip.AddrPort
}

// Offsets holds the scan progress as consumer offsets (*offsets.Manager):
// Offset lock-free, Commit a non-blocking Send.
type Offsets interface {
	Offset(group, topic string, queueID int32) (int64, bool)
	Commit(group, topic string, queueID int32, offset int64)
}

// Producers lists a producer group's live connections lock-free
// (*clients.Manager).
type Producers interface {
	ProducerConns(group string) []*netio.Conn
}

// Topics reads topic configs lock-free and creates one (blocking, with the
// context's deadline) (*meta.Metadata).
type Topics interface {
	Topic(name string) (body.TopicConfig, bool)
	CreateTopic(ctx context.Context, tc body.TopicConfig) (body.TopicConfig, error)
}

// Config is what the transaction service needs. Every dependency must
// outlive the service (stop it before the writer).
type Config struct {
	Broker    config.Broker
	CommitLog CommitLog
	Queues    Queues
	Writer    Writer
	Offsets   Offsets
	Producers Producers
	Topics    Topics
	Logger    zerolog.Logger
	// Now is the clock of the scan (ages of half messages); nil means
	// time.Now. Tests substitute a fake.
	Now func() time.Time
}

func (c *Config) validate() error {
	switch {
	case c.CommitLog == nil, c.Queues == nil, c.Writer == nil, c.Offsets == nil, c.Producers == nil, c.Topics == nil:
		return errors.New("transaction: Config has a nil dependency")
	case c.Broker.TransactionCheckInterval <= 0:
		return errors.New("transaction: transactionCheckInterval must be positive")
	}
	if c.Now == nil {
		c.Now = wallclock.Now
	}
	return nil
}

// Service is the handle of the transaction actor.
type Service struct {
	cfg    Config
	log    zerolog.Logger
	system *actor.ActorSystem
	pid    *actor.PID
	gate   *admit.Gate // END_TRANSACTION requests
}

// supervisor resumes the actor after a panic (a broken invariant while
// handling one message): its maps are consistent between messages, and a
// restart would lose the writes in flight and the state of transactions
// whose records the scan already passed.
var supervisor = actor.NewOneForOneStrategy(10, time.Minute, func(reason interface{}) actor.Directive {
	return actor.ResumeDirective
})

// Spawn rebuilds the transaction state from the store (op queue, then the
// half queue from the saved progress) and starts the actor, whose first
// scan comes one transactionCheckInterval later. Blocking (it reads the
// store); call it at broker start, after the writer and before listening.
func Spawn(system *actor.ActorSystem, cfg Config) (*Service, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, system: system, log: cfg.Logger.With().Str("component", "transaction").Logger(),
		gate: admit.New("end transaction requests", endsInFlightMax)}
	a := newTxActor(s)
	a.rebuild()
	s.pid = system.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return a }, actor.WithGuardian(supervisor)))
	return s, nil
}

// Handlers returns the END_TRANSACTION handler. It runs on a gnet loop:
// it parses and checks the header there and Sends the request to the actor.
func (s *Service) Handlers() map[int32]func(*netio.Conn, *remoting.Command) {
	return map[int32]func(*netio.Conn, *remoting.Command){
		remoting.ReqEndTransaction: s.handleEnd,
	}
}

// Stop lets the actor finish the writes in flight (every accepted END is
// answered and its op record stored), saves the progress through Offsets
// and stops it. Call it before the writer and the offset manager stop.
// Idempotent. Blocking; not on gnet loops.
func (s *Service) Stop(ctx context.Context) error {
	if !s.gate.Stop() {
		return nil
	}
	timeout := drainTimeoutDefault
	if dl, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(dl), time.Millisecond)
	}
	_, err := s.system.Root.RequestFuture(s.pid, &drainRequest{}, timeout).Result()
	if err != nil {
		err = fmt.Errorf("%w: drain: %w", ErrStopped, err)
	}
	if perr := s.system.Root.PoisonFuture(s.pid).Wait(); perr != nil && err == nil {
		err = fmt.Errorf("%w: %w", ErrStopped, perr)
	}
	return err
}
