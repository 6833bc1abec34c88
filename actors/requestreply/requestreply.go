// Package requestreply serves SEND_REPLY_MESSAGE (324) and
// SEND_REPLY_MESSAGE_V2 (325): a responder's reply is pushed to the
// requesting producer's connection as PUSH_REPLY_MESSAGE_TO_CLIENT (326) and,
// with storeReplyMessageEnable, also stored (wire-protocol.md §6.4, §7, §16;
// client-quirks A6).
//
// Path of a reply:
//  1. gnet loop (handler): the send header (actors/send's decoding), broker
//     write permission, topic name, existence and queue id, the in-flight
//     bound; then a Send to the replier actor.
//  2. The replier actor spawns one short-lived worker per reply, so that a
//     slow requester (the push waits up to PushTimeout for its answer)
//     holds up no other reply.
//  3. The worker finds the connection of producer client REPLY_TO_CLIENT
//     (the client manager's lock-free snapshot), adds PUSH_REPLY_TIME and pushes the
//     reply with netio.Conn.Invoke; then, when storing is enabled, hands the
//     record to writer.Put, whose completion it Sends to itself.
//  4. It answers the responder: SUCCESS with msgId "0", the queue id and
//     queueOffset 0 when the push succeeded, else SYSTEM_ERROR with Java's
//     remark; a stored reply replaces msgId and queueOffset with the
//     stored record's (as Java does, whatever the push outcome). A failed
//     store changes nothing in the answer.
//
// Bounds: at most InflightMax replies are admitted at a time (admit.Gate,
// SYSTEM_BUSY beyond), and a worker lives at most PushTimeout plus its
// store. Java blocks a thread of its send pool on the push the same way. Stop
// ends the pushes in flight at once (their responders are answered
// SYSTEM_ERROR; the replies are still stored) and waits until every
// admitted reply has been answered.
//
// As in Java, the stored record keeps the responder's properties unchanged
// (PUSH_REPLY_TIME is only in the push) and no CLUSTER is added. A topic
// that does not exist is refused with TOPIC_NOT_EXIST rather than created:
// responders reply to <cluster>_REPLY_TOPIC, which the broker creates.
package requestreply

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"time"

	"github.com/actormq/actormq/actors/admit"
	"github.com/actormq/actormq/actors/clients"
	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/actors/send"
	"github.com/actormq/actormq/actors/writer"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

// ErrConfig is wrapped by Spawn's config validation failures.
var ErrConfig = errors.New("requestreply: invalid config")

// Topics reads the topic table snapshot; called on gnet loops, must not block.
type Topics interface {
	Topic(name string) (body.TopicConfig, bool)
}

// Producers finds the connection of a producer client (the client
// manager's lock-free snapshot); must not block.
type Producers interface {
	ProducerChannel(clientID string) (clients.Channel, bool)
}

// Writer stores replies (*writer.Writer).
type Writer interface {
	// Put appends m; done runs once with the outcome and must not block.
	Put(m *message.Message, tagsCode int64, noWait bool, done func(writer.PutResult))
	// ErrorResponse builds a send error response (with MSG_REGION, TRACE_ON).
	ErrorResponse(req *remoting.Command, err error) *remoting.Command
	// StoreHost is this broker's store address.
	StoreHost() netip.AddrPort
}

// Config configures Spawn. Broker, Topics, Producers and Writer are required.
type Config struct {
	Broker    config.Broker
	Topics    Topics
	Producers Producers
	Writer    Writer
	// StoreEnabled reports storeReplyMessageEnable as it is now (it may change
	// at runtime through UPDATE_BROKER_CONFIG). Nil: Broker's value.
	StoreEnabled func() bool
	Logger       zerolog.Logger
	// PushTimeout bounds the requester's answer to a push (Java: 10 s).
	PushTimeout time.Duration
	// InflightMax bounds the replies being handled; beyond it a reply is
	// answered SYSTEM_BUSY. Default 1000.
	InflightMax int64
}

// Replier is the handle of the replier actor. Its methods are safe from any
// goroutine.
type Replier struct {
	cfg     Config
	log     zerolog.Logger
	root    *actor.RootContext
	pid     *actor.PID
	traceOn string
	base    context.Context // cancelled by Stop: pushes in flight end at once
	cancel  context.CancelFunc
	gate    *admit.Gate
}

// replyReq is one admitted reply on its way to a worker.
type replyReq struct {
	conn    *netio.Conn
	cmd     *remoting.Command
	hdr     send.ReplyHeader
	queueID int32 // the queue a stored reply goes to (hdr.QueueID if >= 0)
}

// Spawn starts the replier actor. Workers are spawned per reply.
func Spawn(system *actor.ActorSystem, cfg Config) (*Replier, error) {
	if cfg.Topics == nil || cfg.Producers == nil || cfg.Writer == nil {
		return nil, fmt.Errorf("%w: Topics, Producers and Writer are required", ErrConfig)
	}
	if cfg.PushTimeout <= 0 {
		cfg.PushTimeout = 10 * time.Second
	}
	if cfg.InflightMax <= 0 {
		cfg.InflightMax = 1000
	}
	if cfg.Broker.RegionID == "" {
		cfg.Broker.RegionID = "DefaultRegion"
	}
	if cfg.StoreEnabled == nil {
		enabled := cfg.Broker.StoreReplyMessageEnable
		cfg.StoreEnabled = func() bool { return enabled }
	}
	r := &Replier{
		cfg:     cfg,
		log:     cfg.Logger.With().Str("component", "requestreply").Logger(),
		root:    system.Root,
		traceOn: strconv.FormatBool(cfg.Broker.TraceOn),
		gate:    admit.New("replies", cfg.InflightMax),
	}
	r.base, r.cancel = context.WithCancel(context.Background())
	// The replier keeps no state a failed message could break: resume. A
	// worker that fails is stopped (it answers through its own recover).
	resume := actor.NewOneForOneStrategy(10, time.Second, func(reason any) actor.Directive {
		r.log.Error().Interface("reason", reason).Msg("replier actor failed; resuming")
		return actor.ResumeDirective
	})
	stopWorker := actor.NewOneForOneStrategy(0, 0, func(reason any) actor.Directive {
		r.log.Error().Interface("reason", reason).Msg("reply worker failed; stopping it")
		return actor.StopDirective
	})
	var err error
	r.pid, err = system.Root.SpawnNamed(actor.PropsFromFunc(r.receive,
		actor.WithGuardian(resume), actor.WithSupervisor(stopWorker)), "requestreply")
	if err != nil {
		r.cancel()
		return nil, fmt.Errorf("requestreply: spawn: %w", err)
	}
	return r, nil
}

// Handlers maps 324 and 325 to handlers that run on gnet loops; they never
// block.
func (r *Replier) Handlers() map[int32]func(*netio.Conn, *remoting.Command) {
	return map[int32]func(*netio.Conn, *remoting.Command){
		remoting.ReqSendReplyMessage:   r.handle,
		remoting.ReqSendReplyMessageV2: r.handle,
	}
}

// handle checks what needs no actor (package comment, step 1). gnet loop.
//
// Ownership of cmd: a 324/325 request is a pooled frame (remoting's
// framepool: hdr's strings and cmd.Body alias its buffer). handle releases
// it after answering a refused reply; an admitted one passes to its worker,
// which releases it after its answer (worker.answer), once the push has
// been encoded and the store has completed.
func (r *Replier) handle(c *netio.Conn, cmd *remoting.Command) {
	h, err := send.ParseReplyHeader(cmd)
	if err != nil {
		r.writeError(c, cmd, err)
		cmd.Release()
		return
	}
	qid, err := r.check(&h)
	if err == nil {
		err = r.gate.Enter()
	}
	if err != nil {
		r.writeError(c, cmd, err)
		cmd.Release()
		return
	}
	r.root.Send(r.pid, &replyReq{conn: c, cmd: cmd, hdr: h, queueID: qid})
}

// check is Java's msgCheck for a reply: broker write permission, topic name,
// existence and queue id. It returns the queue a stored reply goes to.
func (r *Replier) check(h *send.ReplyHeader) (int32, error) {
	b := &r.cfg.Broker
	if b.BrokerPermission != 0 && b.BrokerPermission&body.PermWrite == 0 {
		return 0, reply.Errorf(reply.ErrNoPermission, "the broker[%s] sending message is forbidden", b.BrokerIP1)
	}
	if err := body.ValidateTopic(h.Topic); err != nil {
		return 0, fmt.Errorf("%w: %w", reply.ErrInvalidParameter, err)
	}
	if body.IsNotSendable(h.Topic) {
		return 0, reply.Errorf(reply.ErrNoPermission, "sending message to topic[%s] is forbidden", h.Topic)
	}
	tc, ok := r.cfg.Topics.Topic(h.Topic)
	if !ok {
		return 0, reply.Errorf(reply.ErrTopicNotExist, "topic[%s] not exist, apply first please!", h.Topic)
	}
	if limit := max(tc.ReadQueueNums, tc.WriteQueueNums); h.QueueID >= limit {
		return 0, reply.Errorf(reply.ErrInvalidParameter, "request queueId[%d] is illegal, topic[%s] queue nums %d",
			h.QueueID, h.Topic, limit)
	}
	if h.QueueID >= 0 {
		return h.QueueID, nil
	}
	if tc.WriteQueueNums <= 0 {
		return 0, reply.Errorf(reply.ErrInvalidParameter, "topic[%s] has no write queue", h.Topic)
	}
	return rand.Int32N(tc.WriteQueueNums), nil
}

// writeError answers with err's code plus MSG_REGION and TRACE_ON, which
// every reply response carries as every send response does.
func (r *Replier) writeError(c *netio.Conn, cmd *remoting.Command, err error) {
	r.log.Debug().Err(err).Msg("reply rejected")
	_ = c.Write(r.cfg.Writer.ErrorResponse(cmd, err))
}

// receive is the replier actor: one worker per reply.
func (r *Replier) receive(ctx actor.Context) {
	if req, ok := ctx.Message().(*replyReq); ok {
		w := &worker{r: r, req: req}
		ctx.Spawn(actor.PropsFromProducer(func() actor.Actor { return w }))
	}
}

// Stop refuses new replies, ends the pushes in flight, waits until every
// admitted reply is answered (its store completed) and stops the actors.
// Call it before the writer stops. Idempotent.
func (r *Replier) Stop(ctx context.Context) error {
	if !r.gate.Stop() {
		return nil
	}
	r.cancel()
	select {
	case <-r.gate.Drained():
	case <-ctx.Done():
		return fmt.Errorf("requestreply: stop: %w", ctx.Err())
	}
	if err := r.root.PoisonFuture(r.pid).Wait(); err != nil {
		return fmt.Errorf("requestreply: stop: %w", err)
	}
	return nil
}

// bornHost parses the responder's "ip:port" for BORNHOST; IPv4-mapped
// addresses become IPv4 so the record keeps 8-byte hosts.
func bornHost(remote string) netip.AddrPort {
	if p, err := netip.ParseAddrPort(remote); err == nil {
		return netip.AddrPortFrom(p.Addr().Unmap().WithZone(""), p.Port())
	}
	return netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
}
