// Package retry owns CONSUMER_SEND_MSG_BACK (36), the consumer's "consume
// this again later" (wire-protocol.md §6.3, §14): the failed message is
// copied into %RETRY%<group>, delayed by a delay level, or, once the group's
// maximum reconsume count is reached, into the dead-letter topic
// %DLQ%<group>. Both copies keep the message's properties, so UNIQ_KEY — the
// message id Go and Java consumers show — survives and consumers can
// de-duplicate.
//
// Path of a send-back:
//  1. gnet loop (handler): header, broker write permission, disk, the
//     in-flight bound; then a Send to the retry actor.
//  2. Retry actor, in this order, so that bad input changes nothing: the
//     group (unknown and not auto-creatable → SUBSCRIPTION_GROUP_NOT_EXIST);
//     the message at the commit-log offset (none → SYSTEM_ERROR "look
//     message by offset failed"); the group and its %RETRY% topic created
//     when missing (as a consumer's heartbeat would); retryQueueNums ≤ 0 → SUCCESS, message dropped; the
//     destination (decide); the destination topic created when missing
//     (%DLQ%: one queue, RW; %RETRY%: again as the heartbeat does).
//  3. Creating a group or topic is control plane: a short-lived child
//     actor waits for the metadata actor (bounded by EnsureTimeout) and
//     hands the outcome back; requests waiting for the same creation are
//     queued behind it and re-run when it is done.
//  4. The record is rebuilt (record.go), a retry diverted to
//     SCHEDULE_TOPIC_XXXX (schedule.Divert; the schedule actors deliver it
//     to %RETRY%<group> when due) and handed to the writer (writer.Put,
//     WAIT=false); its completion answers the consumer with SUCCESS or the
//     store's code.
//
// Go consumers ignore the answer (client-quirks A4.26): a failure loses the
// message for them, so valid input must always be stored.
package retry

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/meta"
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/actors/writer"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

// ErrConfig is wrapped by Spawn's config validation failures.
var ErrConfig = errors.New("retry: invalid config")

// errStopping answers send-backs that arrive or wait while the actor stops.
var errStopping = fmt.Errorf("%w: the broker is stopping", reply.ErrServiceNotAvailable)

// Meta is the metadata actor's side the retry actor needs (*meta.Metadata).
type Meta interface {
	// Group and Topic read the published tables. Lock-free; any goroutine.
	Group(name string) (body.SubscriptionGroupConfig, bool)
	Topic(name string) (body.TopicConfig, bool)
	// PrepareConsumerGroups and CreateTopic change the tables. They block
	// until ctx is done; the retry actor calls them from a child actor.
	PrepareConsumerGroups(ctx context.Context, specs []meta.ConsumerGroupSpec) error
	CreateTopic(ctx context.Context, tc body.TopicConfig) (body.TopicConfig, error)
}

// Messages reads a record by commit-log offset (*commitlog.CommitLog).
// ReadMessage refuses offsets that are not a record start. Any goroutine.
type Messages interface {
	ReadMessage(offset int64) (message.Message, error)
}

// Writer stores broker-built records (*writer.Writer). Any goroutine.
type Writer interface {
	Put(m *message.Message, tagsCode int64, noWait bool, done func(writer.PutResult))
	DiskFull() bool
}

// Config configures Spawn. Meta, Messages and Writer are required.
type Config struct {
	Broker   config.Broker
	Meta     Meta
	Messages Messages
	Writer   Writer
	Logger   zerolog.Logger
	// InflightMax bounds send-backs accepted but not yet answered; beyond
	// it one is answered SYSTEM_BUSY at once. Default 10000.
	InflightMax int64
	// EnsureTimeout bounds one group or topic creation. It stays below the
	// clients' 3 s send-back timeout. Default 2 s.
	EnsureTimeout time.Duration
	// PendingMax bounds the send-backs queued behind one creation.
	// Default 1000.
	PendingMax int
}

// Service is the handle of the retry actor. Its methods are safe from any
// goroutine.
type Service struct {
	cfg      Config
	log      zerolog.Logger
	system   *actor.ActorSystem
	pid      *actor.PID
	done     chan struct{} // closed when the actor stopped
	inflight atomic.Int64
	stopped  atomic.Bool
	levels   []time.Duration // messageDelayLevel parsed
}

// Spawn starts the retry actor.
func Spawn(system *actor.ActorSystem, cfg Config) (*Service, error) {
	if cfg.Meta == nil || cfg.Messages == nil || cfg.Writer == nil {
		return nil, fmt.Errorf("%w: Meta, Messages and Writer are required", ErrConfig)
	}
	if cfg.InflightMax <= 0 {
		cfg.InflightMax = 10000
	}
	if cfg.EnsureTimeout <= 0 {
		cfg.EnsureTimeout = 2 * time.Second
	}
	if cfg.PendingMax <= 0 {
		cfg.PendingMax = 1000
	}
	s := &Service{
		cfg:    cfg,
		log:    cfg.Logger.With().Str("component", "retry").Logger(),
		system: system,
		done:   make(chan struct{}),
		levels: cfg.Broker.DelayLevels(),
	}
	// A panic while handling one send-back is a bug for that request (the
	// actor answers it, see handle); the actor's state — the creations
	// under way — stays valid, so it resumes.
	resume := actor.NewOneForOneStrategy(10, time.Second, func(reason any) actor.Directive {
		s.log.Error().Interface("reason", reason).Msg("retry actor failed; resuming")
		return actor.ResumeDirective
	})
	var err error
	s.pid, err = system.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
		return newRetryActor(s)
	}, actor.WithGuardian(resume), actor.WithSupervisor(resume)), "retry")
	if err != nil {
		return nil, fmt.Errorf("retry: spawn actor: %w", err)
	}
	return s, nil
}

// Handlers maps CONSUMER_SEND_MSG_BACK to its handler, which runs on a gnet
// event loop and never blocks.
func (s *Service) Handlers() map[int32]func(*netio.Conn, *remoting.Command) {
	return map[int32]func(*netio.Conn, *remoting.Command){
		remoting.ReqConsumerSendMsgBack: func(c *netio.Conn, cmd *remoting.Command) { s.handle(c, cmd) },
	}
}

// sendBack is one accepted send-back on its way through the retry actor.
type sendBack struct {
	conn    *netio.Conn
	cmd     *remoting.Command
	hdr     header
	ensured int // creations run for it so far
}

// handle is step 1 of the package comment. gnet loop.
func (s *Service) handle(c *netio.Conn, cmd *remoting.Command) {
	h, err := parseHeader(cmd)
	if err == nil {
		err = s.precheck()
	}
	if err != nil {
		s.log.Debug().Err(err).Str("remote", c.RemoteAddr()).Msg("send-back rejected")
		reply.WriteError(c, cmd, err)
		return
	}
	if s.inflight.Add(1) > s.cfg.InflightMax {
		s.inflight.Add(-1)
		reply.WriteError(c, cmd, reply.Errorf(reply.ErrSystemBusy,
			"[REJECTREQUEST]system busy, %d send-backs in flight", s.cfg.InflightMax))
		return
	}
	s.system.Root.Send(s.pid, &sendBack{conn: c, cmd: cmd, hdr: h})
}

// precheck refuses send-backs the broker cannot store whatever they carry.
func (s *Service) precheck() error {
	b := &s.cfg.Broker
	switch {
	case s.stopped.Load():
		return errStopping
	case b.BrokerPermission&body.PermWrite == 0:
		return reply.Errorf(reply.ErrNoPermission, "the broker[%s] sending message is forbidden", b.BrokerIP1)
	case s.cfg.Writer.DiskFull():
		return reply.Errorf(reply.ErrServiceNotAvailable, "the broker's disk is full, send-back refused until space is freed")
	}
	return nil
}

// answer writes the response of an accepted send-back (err nil: SUCCESS)
// and ends its in-flight accounting. Any goroutine: Conn.Write is
// goroutine-safe and does not block.
func (s *Service) answer(r *sendBack, err error) {
	if err != nil {
		s.log.Debug().Err(err).Str("group", r.hdr.group).Int64("offset", r.hdr.offset).Msg("send-back failed")
		reply.WriteError(r.conn, r.cmd, err)
	} else {
		reply.WriteOK(r.conn, r.cmd, nil, nil)
	}
	s.inflight.Add(-1)
}

// Stop refuses new send-backs, lets the actor hand what is queued to the
// writer and stops it; send-backs still waiting for a creation are answered
// SERVICE_NOT_AVAILABLE. Call it before writer.Stop. Idempotent.
func (s *Service) Stop(ctx context.Context) error {
	if !s.stopped.CompareAndSwap(false, true) {
		return nil
	}
	s.system.Root.Poison(s.pid)
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("retry: stop: %w", ctx.Err())
	}
}

// header is ConsumerSendMsgBackRequestHeader (wire-protocol.md §6.3).
type header struct {
	offset      int64 // commit-log offset of the failed message
	group       string
	delayLevel  int32 // 0: the broker picks; < 0: straight to the DLQ
	originMsgID string
	originTopic string
	unitMode    bool
	// maxReconsumeTimes is the consumer's maximum when hasMax; otherwise
	// the group's retryMaxTimes applies.
	maxReconsumeTimes int32
	hasMax            bool
}

// parseHeader decodes and checks the header. Errors wrap
// remoting.ErrMissingField / ErrBadField (SYSTEM_ERROR, as Java answers a
// header it cannot decode) or reply.ErrInvalidParameter.
func parseHeader(cmd *remoting.Command) (header, error) {
	var h header
	var err error
	if h.offset, err = cmd.RequiredInt64("offset"); err != nil {
		return h, err
	}
	if h.group, err = cmd.RequiredString("group"); err != nil {
		return h, err
	}
	if h.delayLevel, err = cmd.RequiredInt32("delayLevel"); err != nil {
		return h, err
	}
	h.originMsgID, _ = cmd.Ext("originMsgId")
	h.originTopic, _ = cmd.Ext("originTopic")
	h.unitMode = cmd.OptionalBool("unitMode", false)
	if _, h.hasMax = cmd.Ext("maxReconsumeTimes"); h.hasMax {
		if h.maxReconsumeTimes, err = cmd.RequiredInt32("maxReconsumeTimes"); err != nil {
			return h, err
		}
	}
	if err := body.ValidateGroup(h.group); err != nil {
		return h, fmt.Errorf("%w: %w", reply.ErrInvalidParameter, err)
	}
	return h, nil
}
