// Package send owns the validation and encoding of sends: SEND_MESSAGE (10),
// SEND_MESSAGE_V2 (310) and SEND_BATCH_MESSAGE (320). One topic actor per
// topic checks a request against its topic, picks the queue and encodes the
// records (CRC, properties) off the writer's path; the commitlog writer
// (package writer) then only copies bytes and assigns offsets.
//
// Path of a send (wire-protocol.md §6.1 order):
//  1. gnet loop (handler): header, broker role and permission, topic name,
//     forbidden system topics, the batch-wide rules (retry topic, transaction
//     flag; Java checks them before the topic), writer availability, the
//     %RETRY% rule (retry.go) and the in-flight bound (admit.Gate). These
//     need no topic state, so bad requests never reach an actor.
//  2. Topic actor found in a sync.Map → its inbox (inbox.go: a slice the
//     actor drains whole, woken by one Send when it was empty); otherwise
//     Send to the send registry actor, which auto-creates the topic through
//     Topics (control plane, with a timeout, in a short-lived child so that
//     the registry keeps routing) and spawns the topic actor as its child.
//  3. Topic actor, once per turn for every send queued: topic permission,
//     queue id (negative = round robin; at most max(read, write) queue nums
//     as in Java), body and properties size, per-item batch rules; adds
//     CLUSTER, diverts a single message (below) and encodes its records
//     (encode.go) into the turn's writer.Batch, one writer.Append per send.
//     A send that fails is answered alone. The turn ends with one Submit.
//  4. The writer answers each producer (and calls Append.Done, which ends
//     the request's in-flight accounting).
//
// Pooled objects and their owners: a sendReq, and the request it owns (a
// pooled remoting frame: the header strings and body), belong to the loop
// that made it, then to the registry or topic actor holding it, then, once
// encoded, to the writer with its Append; the writer's Append.Done after
// the answer, or fail on any rejection, ends it (sendReq.end), exactly
// once. A rejection on the loop releases the request at once. Strings kept
// longer (topic actors' names, the registry's pending keys and creation
// arguments) are copies. A writer.Batch and its Appends belong to the topic
// actor until Submit, then to the writer.
//
// Diversions: a single message may be stored elsewhere than its header
// says. In the order they are checked:
//   - a %RETRY%<group> message that has been consumed its maximum number of
//     times goes to %DLQ%<group> queue 0, without delay (step 1,
//     divertRetry in retry.go: it needs only the group table, and it
//     decides which topic — so which topic actor — the send goes to;
//     the registry creates the DLQ topic when missing);
//   - a prepared transaction message goes to RMQ_SYS_TRANS_HALF_TOPIC
//     queue 0 with REAL_TOPIC and REAL_QID (step 3, transaction.DivertHalf;
//     package transaction commits it to the real queue later);
//   - else a message with DELAY > 0 goes to SCHEDULE_TOPIC_XXXX queue
//     level−1 with REAL_TOPIC and REAL_QID, and its delivery time as
//     tagsCode (step 3, schedule.Divert; package schedule delivers it when
//     due). A half message's DELAY applies when it is committed.
//
// The last two need the queue id the topic actor picks, hence step 3. A
// batch is never diverted: checkBatch refuses batches to %RETRY% topics and
// batches with delay or transaction flags. Every stored record has the
// transaction type NOT_TYPE, so that dispatch and recovery treat it as an
// ordinary record of its topic.
package send

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/actormq/actormq/actors/actorsys"
	"github.com/actormq/actormq/actors/admit"
	"github.com/actormq/actormq/actors/config"
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
var ErrConfig = errors.New("send: invalid config")

// errDiskFull answers sends while the disk is over the full threshold or a
// consume queue waits to retry a unit (queue.Registry.Full).
var errDiskFull = fmt.Errorf("%w: the broker's disk is full, or a consume queue lacks a file descriptor or memory for its next file; sends are refused until that passes", reply.ErrServiceNotAvailable)

// Topics is the metadata actor's side the send path needs.
type Topics interface {
	// Topic reads the topic table snapshot. Called on gnet loops and topic
	// actors: it must not block.
	Topic(name string) (body.TopicConfig, bool)
	// AutoCreateTopic creates topic from the template defaultTopic (wire doc
	// §6.1 step 5) and returns its config. It may block until ctx is done.
	// When the topic may not be created it returns an error wrapping
	// reply.ErrTopicNotExist (or another reply sentinel).
	AutoCreateTopic(ctx context.Context, topic, defaultTopic string, queueNums int32) (body.TopicConfig, error)
}

// Conn is the reply side of a connection (*netio.Conn implements it).
type Conn interface {
	writer.Conn
	RemoteAddr() string
}

// Config configures Spawn. Broker, Topics, Groups and Writer are required.
type Config struct {
	Broker config.Broker
	Topics Topics
	Groups Groups // the %RETRY% rule (retry.go)
	Writer *writer.Writer
	Logger zerolog.Logger
	// InflightMax bounds sends accepted but not yet answered; beyond it a
	// send is answered SYSTEM_BUSY at once. Default 20000.
	InflightMax int64
	// AutoCreateTimeout bounds one AutoCreateTopic call. It stays below the
	// clients' 3 s send timeout. Default 2 s.
	AutoCreateTimeout time.Duration
	// CreatePendingMax bounds the sends queued for one topic while it is
	// being created. Default 1000.
	CreatePendingMax int
}

// Sender is the handle of the send actors. Its methods are safe from any
// goroutine.
type Sender struct {
	cfg      Config
	log      zerolog.Logger
	root     *actor.RootContext
	w        *writer.Writer
	registry *actor.PID
	regDone  chan struct{}
	topics   sync.Map // topic name -> *topicEntry
	// turns runs the topic actors' turns: with many topics each turn
	// carries few sends, and a wake-up per topic actor on Hot cost a
	// goroutine hand-off per send (actorsys.Turns).
	turns   *actorsys.Turns
	gate    *admit.Gate
	release func() // s.gate.Leave, bound once: Append.Done
	// delayLevels is messageDelayLevel parsed (level i+1 at index i).
	delayLevels []time.Duration
	// clusterEntry is the CLUSTER property entry every stored record gets
	// ("CLUSTER\x01<name>\x02", "" without a cluster name), and
	// clusterEntrySep the same after a separator (encode.go, properties).
	clusterEntry, clusterEntrySep string
}

// topicEntry is a spawned topic actor.
type topicEntry struct {
	pid   *actor.PID
	done  chan struct{} // closed when the actor stopped
	inbox inbox         // its sends (inbox.go)
}

// Spawn starts the send registry actor; topic actors are spawned on demand.
func Spawn(system *actor.ActorSystem, cfg Config) (*Sender, error) {
	if cfg.Topics == nil || cfg.Groups == nil || cfg.Writer == nil {
		return nil, fmt.Errorf("%w: Topics, Groups and Writer are required", ErrConfig)
	}
	if cfg.InflightMax <= 0 {
		cfg.InflightMax = 20000
	}
	if cfg.AutoCreateTimeout <= 0 {
		cfg.AutoCreateTimeout = 2 * time.Second
	}
	if cfg.CreatePendingMax <= 0 {
		cfg.CreatePendingMax = 1000
	}
	if cfg.Broker.MaxMessageSize <= 0 {
		cfg.Broker.MaxMessageSize = 4 << 20
	}
	if cfg.Broker.BrokerPermission == 0 {
		cfg.Broker.BrokerPermission = body.PermRead | body.PermWrite
	}
	s := &Sender{
		cfg:         cfg,
		log:         cfg.Logger.With().Str("component", "send").Logger(),
		root:        system.Root,
		w:           cfg.Writer,
		regDone:     make(chan struct{}),
		gate:        admit.New("sends", cfg.InflightMax),
		turns:       actorsys.NewTurns(),
		delayLevels: cfg.Broker.DelayLevels(),
	}
	s.release = s.gate.Leave
	if c := cfg.Broker.BrokerClusterName; c != "" {
		s.clusterEntry = message.PropertyCluster + string(message.NameValueSeparator) + c + string(message.PropertySeparator)
		s.clusterEntrySep = string(message.PropertySeparator) + s.clusterEntry
	}
	// A panic while handling one send is a bug for that request; the actors
	// keep no state a failed message could break, so they resume.
	resume := actor.NewOneForOneStrategy(10, time.Second, func(reason any) actor.Directive {
		s.log.Error().Interface("reason", reason).Msg("send actor failed; resuming")
		return actor.ResumeDirective
	})
	var err error
	s.registry, err = system.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
		return newRegistryActor(s)
	}, actor.WithGuardian(resume), actor.WithSupervisor(resume)), "send-registry")
	if err != nil {
		return nil, fmt.Errorf("send: spawn registry actor: %w", err)
	}
	return s, nil
}

// Handlers maps the send request codes to handlers that run on gnet event
// loops; they never block.
func (s *Sender) Handlers() map[int32]func(c *netio.Conn, cmd *remoting.Command) {
	h := func(code int32) func(c *netio.Conn, cmd *remoting.Command) {
		return func(c *netio.Conn, cmd *remoting.Command) { s.handle(c, cmd, code) }
	}
	return map[int32]func(c *netio.Conn, cmd *remoting.Command){
		remoting.ReqSendMessage:      h(remoting.ReqSendMessage),
		remoting.ReqSendMessageV2:    h(remoting.ReqSendMessageV2),
		remoting.ReqSendBatchMessage: h(remoting.ReqSendBatchMessage),
	}
}

// handle runs the checks that need no topic state (package comment, step 1)
// and routes the request. gnet loop.
func (s *Sender) handle(c Conn, cmd *remoting.Command, code int32) {
	h, err := parseSendHeader(cmd, code != remoting.ReqSendMessage)
	// Everything past this point reads h; only the opaque and body of cmd
	// travel on, so its header fields (a recycled array, or a map) go back
	// for the next decode. (h's strings still alias cmd's frame, which
	// lives until cmd.Release.)
	cmd.ReleaseExt()
	if err == nil {
		if code == remoting.ReqSendBatchMessage {
			h.batch = true
		}
		err = s.precheck(&h)
	}
	if err == nil {
		err = s.gate.Enter()
	}
	if err != nil {
		// Rejected on the loop: the answer is encoded before Release.
		s.writeError(c, cmd, err)
		cmd.Release()
		return
	}
	s.route(s.newSendReq(c, cmd, &h))
}

// route hands an admitted send to its topic actor, or to the registry when
// the topic has none yet. It may run after Stop began (the loop admitted
// req just before): Stop keeps the registry up until every admitted send
// has left the gate, so req is answered, never lost in dead letters. gnet
// loop.
func (s *Sender) route(req *sendReq) {
	if v, ok := s.topics.Load(req.hdr.topic); ok {
		s.deliver(v.(*topicEntry), req)
		return
	}
	s.root.Send(s.registry, req)
}

// precheck is §6.1 steps 1, 3 and 4, the batch-wide part of step 8, plus
// availability, then step 7 (divertRetry), which may rewrite h.
func (s *Sender) precheck(h *sendHeader) error {
	b := &s.cfg.Broker
	if b.BrokerRole == config.RoleSlave {
		return fmt.Errorf("%w: [REJECTREQUEST]system busy, the broker is a slave", reply.ErrSystemBusy)
	}
	if b.BrokerPermission&body.PermWrite == 0 {
		return fmt.Errorf("%w: the broker[%s] sending message is forbidden", reply.ErrNoPermission, b.BrokerIP1)
	}
	if err := body.ValidateTopic(h.topic); err != nil {
		return fmt.Errorf("%w: %w", reply.ErrInvalidParameter, err)
	}
	if body.IsNotSendable(h.topic) {
		return fmt.Errorf("%w: sending message to topic[%s] is forbidden", reply.ErrNoPermission, h.topic)
	}
	if h.batch {
		// Java checks these before the topic exists (§6.1 step 8).
		if err := checkBatch(h.topic, h); err != nil {
			return err
		}
	}
	if s.gate.Stopped() || s.w.Closed() {
		return admit.ErrStopping
	}
	if err := s.w.WriteError(); err != nil {
		return err
	}
	if s.w.DiskFull() {
		return errDiskFull
	}
	return s.divertRetry(h)
}

// writeError answers a send with err's code, MSG_REGION and TRACE_ON.
func (s *Sender) writeError(c writer.Conn, cmd *remoting.Command, err error) {
	s.log.Debug().Err(err).Msg("send rejected")
	_ = c.Write(s.w.ErrorResponse(cmd, err))
}

// fail answers an admitted request with err and ends it (sendReq.end):
// its in-flight accounting, its request and req. Any goroutine that owns
// req.
func (s *Sender) fail(req *sendReq, err error) {
	s.writeError(req.conn, req.cmd, err)
	req.end()
}

// Stop stops accepting sends, drains every topic actor (their Appends reach
// the writer before it stops) and stops them, waits until every admitted
// send has been answered (admit.Gate.Drained) and then stops the registry.
// Call it before writer.Stop. Idempotent.
//
// Why the wait: a gnet loop may admit a send (gate.Enter) just before
// Stop and route it just after. A send to a topic actor that stopped is
// refused by its closed inbox, and one to the running registry by route's
// stop check; but one Sent to a registry that had already stopped went to
// dead letters: never answered, and the in-flight count never drained
// (TestStopAnswersSendRoutedAfterStop). While Stop waits, the writer is
// still running, so sends it holds are answered, and the registry answers
// late arrivals and pending creations (bounded by AutoCreateTimeout).
func (s *Sender) Stop(ctx context.Context) error {
	if !s.gate.Stop() {
		return nil
	}
	wait := func(ch <-chan struct{}) error {
		select {
		case <-ch:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("send: stop: %w", ctx.Err())
		}
	}
	// Topic actors are children of the registry: poisoning them first lets
	// each drain its mailbox; stopping the registry would stop them at once.
	var entries []*topicEntry
	s.topics.Range(func(_, v any) bool {
		e := v.(*topicEntry)
		s.root.Poison(e.pid)
		entries = append(entries, e)
		return true
	})
	for _, e := range entries {
		if err := wait(e.done); err != nil {
			return err
		}
	}
	if err := wait(s.gate.Drained()); err != nil {
		return err
	}
	s.root.Poison(s.registry)
	return wait(s.regDone)
}
