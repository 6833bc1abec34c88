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
//     in-flight bound (admit.Gate); then a Send to the retry actor.
//  2. Retry actor, in this order, so that bad input changes nothing: the
//     group (unknown and not auto-creatable → SUBSCRIPTION_GROUP_NOT_EXIST;
//     unknown and auto-creatable → Java's default group config); the
//     message at the commit-log offset (none → SYSTEM_ERROR "look message
//     by offset failed"); retryQueueNums ≤ 0 → SUCCESS, message dropped;
//     the destination (decide) and, when its topic exists, that topic's
//     write permission and queues.
//  3. The record is rebuilt (record.go), a retry diverted to
//     SCHEDULE_TOPIC_XXXX (schedule.Divert; the schedule actors deliver it
//     to %RETRY%<group> when due) and handed to the writer (writer.Put,
//     WAIT=false); its completion answers the consumer with SUCCESS or the
//     store's code.
//  4. A missing group or destination topic is created beside the store,
//     not before it: the group with its %RETRY% topic as a consumer's
//     heartbeat would, a %DLQ% topic with one queue, RW. Creating is control
//     plane (the metadata actor persists and registers), so a short-lived
//     child waits for it (offload.Run, bounded by EnsureTimeout); one
//     creation per group or topic runs at a time. writer.Put needs no topic,
//     and consumers find the records once the topic is routed.
//
// Go consumers ignore the answer (client-quirks A4.26): an error answer
// loses the message for them (only a transport error or a timeout makes
// them consume it again locally), so valid input must always be stored.
// Hence step 4: a send-back never waits for, or fails with, a creation.
// Java creates the DLQ topic before storing, inside the request.
package retry

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

// Meta is the metadata actor's side the retry actor needs (*meta.Metadata).
type Meta interface {
	// Group and Topic read the published tables. Lock-free; any goroutine.
	Group(name string) (body.SubscriptionGroupConfig, bool)
	Topic(name string) (body.TopicConfig, bool)
	// PrepareConsumerGroups and CreateTopic change the tables. They block
	// until ctx is done; the retry actor calls them from a child actor
	// (offload.Run).
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
	// EnsureTimeout bounds one group or topic creation (no send-back waits
	// for it). Default 2 s.
	EnsureTimeout time.Duration
}

// Service is the handle of the retry actor. Its methods are safe from any
// goroutine.
type Service struct {
	cfg    Config
	log    zerolog.Logger
	system *actor.ActorSystem
	pid    *actor.PID
	done   chan struct{} // closed when the actor stopped
	gate   *admit.Gate
	levels []time.Duration // messageDelayLevel parsed
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
	s := &Service{
		cfg:    cfg,
		log:    cfg.Logger.With().Str("component", "retry").Logger(),
		system: system,
		done:   make(chan struct{}),
		gate:   admit.New("send-backs", cfg.InflightMax),
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
	conn *netio.Conn
	cmd  *remoting.Command
	hdr  header
}

// handle is step 1 of the package comment. gnet loop.
func (s *Service) handle(c *netio.Conn, cmd *remoting.Command) {
	h, err := parseHeader(cmd)
	if err == nil {
		err = s.precheck()
	}
	if err == nil {
		err = s.gate.Enter()
	}
	if err != nil {
		s.log.Debug().Err(err).Str("remote", c.RemoteAddr()).Msg("send-back rejected")
		reply.WriteError(c, cmd, err)
		return
	}
	s.system.Root.Send(s.pid, &sendBack{conn: c, cmd: cmd, hdr: h})
}

// precheck refuses send-backs the broker cannot store whatever they carry.
func (s *Service) precheck() error {
	b := &s.cfg.Broker
	switch {
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
	s.gate.Leave()
}

// Stop refuses new send-backs, lets the actor hand what is queued to the
// writer (which answers them) and stops it. Call it before writer.Stop.
// Idempotent.
func (s *Service) Stop(ctx context.Context) error {
	if !s.gate.Stop() {
		return nil
	}
	return actorsys.PoisonAndWait(ctx, s.system.Root, s.pid, s.done, "retry")
}

// header is ConsumerSendMsgBackRequestHeader (wire-protocol.md §6.3) as far
// as the broker uses it. originMsgId and originTopic are not read: the
// stored message's own properties say the same (rebuild), as in Java.
type header struct {
	offset     int64 // commit-log offset of the failed message
	group      string
	delayLevel int32 // 0: the broker picks; < 0: straight to the DLQ
	unitMode   bool
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
