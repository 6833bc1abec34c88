package offsets

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/storage/metadata"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
)

// Messages the offset actor receives.
type (
	readyRequest   struct{} // answered with okReply or the load error
	persistRequest struct{} // answered with okReply or the persist error
	commit         struct {
		key    key
		offset int64
	}
	connRequest struct {
		c   *netio.Conn
		cmd *remoting.Command
	}
	flushTick struct{}
	okReply   struct{}
)

// offsetActor owns the table. Goroutine: the actor's, for all methods.
type offsetActor struct {
	m        *Manager
	entries  map[key]*atomic.Int64 // the same pointers as m.live
	version  body.DataVersion
	dirty    bool
	timer    *time.Timer
	startErr error
}

// Receive dispatches one message.
func (a *offsetActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		a.startErr = a.load()
		if a.startErr != nil {
			a.m.log.Error().Err(a.startErr).Msg("offset actor cannot start")
			return
		}
		a.armTimer(ctx)
	case *actor.Restarting:
		a.stopTimer()
		a.flush("restart")
	case *actor.Stopping:
		a.stopTimer()
		a.flush("stop")
	case *readyRequest:
		a.respond(ctx, a.startErr)
	case *persistRequest:
		a.respond(ctx, a.persist())
	case *commit:
		a.store(msg.key, msg.offset)
	case *cleanTopic:
		a.remove(func(k key) bool { return k.topic == msg.topic })
		a.respond(ctx, a.startErr)
	case *cleanGroup:
		a.remove(func(k key) bool { return k.group == msg.group })
		a.respond(ctx, a.startErr)
	case *setOffsets:
		for q, off := range msg.offsets {
			a.store(key{group: msg.group, topic: msg.topic, queueID: q}, off)
		}
		a.respond(ctx, a.startErr)
	case *flushTick:
		a.flush("periodic")
		a.armTimer(ctx)
	case *connRequest:
		_ = msg.c.Write(a.serve(msg.cmd))
	}
}

func (a *offsetActor) respond(ctx actor.Context, err error) {
	if err != nil {
		ctx.Respond(err)
		return
	}
	ctx.Respond(okReply{})
}

// armTimer schedules the next periodic flush with a one-shot runtime timer
// that Sends a tick (no goroutine to track; Stopping cancels it).
func (a *offsetActor) armTimer(ctx actor.Context) {
	system, self := ctx.ActorSystem(), ctx.Self()
	a.timer = time.AfterFunc(a.m.cfg.FlushConsumerOffsetInterval, func() { system.Root.Send(self, &flushTick{}) })
}

func (a *offsetActor) stopTimer() {
	if a.timer != nil {
		a.timer.Stop()
	}
}

// store sets one offset; negative offsets are ignored.
func (a *offsetActor) store(k key, offset int64) {
	if offset < 0 || a.entries == nil {
		return
	}
	v := a.entries[k]
	if v == nil {
		// A new key is kept for the broker's life: its strings get memory
		// of their own rather than keep a decoded request's whole header
		// copy alive. (Commit is asynchronous, so a caller whose strings
		// view a pooled frame must pass owned ones, as the pull handler
		// does: a copy made here would be too late.) Once per key.
		k.group, k.topic = strings.Clone(k.group), strings.Clone(k.topic)
		v = new(atomic.Int64)
		v.Store(offset)
		a.entries[k] = v
		a.m.live.Store(k, v)
		a.dirty = true
		return
	}
	if v.Load() != offset {
		v.Store(offset)
		a.dirty = true
	}
}

// load reads the file and publishes its offsets. Goroutine: Started.
func (a *offsetActor) load() error {
	m := a.m
	if err := m.fs.MkdirAll(filepath.Dir(m.path), 0o755); err != nil {
		return fmt.Errorf("%w: %w", ErrLoad, err)
	}
	var w body.ConsumerOffsetWrapper
	if _, err := metadata.LoadInto(m.fs, m.path, func(b []byte) error {
		w = body.ConsumerOffsetWrapper{}
		return body.DecodeJSON(b, &w)
	}); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrLoad, FileName, err)
	}
	m.live.Range(func(k, _ any) bool { m.live.Delete(k); return true })
	a.entries = make(map[key]*atomic.Int64)
	a.version = w.DataVersion
	for topicAtGroup, queues := range w.OffsetTable {
		topic, group, ok := strings.Cut(topicAtGroup, "@")
		if !ok || topic == "" || group == "" {
			m.log.Warn().Str("key", topicAtGroup).Msg("offset entry without topic@group skipped")
			continue
		}
		for q, off := range queues {
			a.store(key{group: group, topic: topic, queueID: q}, off)
		}
	}
	a.dirty = false
	m.log.Debug().Int("offsets", len(a.entries)).Msg("consumer offsets loaded")
	return nil
}

// flush persists when something changed; errors are logged (the periodic and
// shutdown paths have no caller to tell) and the table stays dirty, so the
// next tick retries with the newest offsets.
func (a *offsetActor) flush(why string) {
	if !a.dirty {
		return
	}
	if err := a.persist(); err != nil {
		a.m.log.Error().Err(err).Str("why", why).Msg("cannot persist consumer offsets")
	}
}

// persist writes the table (atomic replace through storage/metadata).
func (a *offsetActor) persist() error {
	if a.entries == nil {
		return a.startErr
	}
	version := a.version.Next()
	data := body.EncodeJSON(a.wrapper(version))
	if err := metadata.Save(a.m.fs, a.m.path, data); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrPersist, FileName, err)
	}
	a.version, a.dirty = version, false
	return nil
}

// wrapper builds the file/GET_ALL_CONSUMER_OFFSET shape of the table.
func (a *offsetActor) wrapper(version body.DataVersion) body.ConsumerOffsetWrapper {
	t := make(map[string]map[int32]int64)
	for k, v := range a.entries {
		tg := k.topic + "@" + k.group
		qs := t[tg]
		if qs == nil {
			qs = make(map[int32]int64)
			t[tg] = qs
		}
		qs[k.queueID] = v.Load()
	}
	return body.ConsumerOffsetWrapper{OffsetTable: t, DataVersion: version}
}

// serve answers one request.
func (a *offsetActor) serve(cmd *remoting.Command) *remoting.Command {
	if a.startErr != nil {
		return reply.Error(cmd, a.startErr)
	}
	switch cmd.Code {
	case remoting.ReqQueryConsumerOffset:
		return a.query(cmd)
	case remoting.ReqUpdateConsumerOffset:
		return a.update(cmd)
	case remoting.ReqGetAllConsumerOffset:
		resp := remoting.NewResponse(cmd, remoting.RespSuccess, "")
		resp.Body = body.EncodeJSON(a.wrapper(a.version))
		return resp
	}
	return reply.Error(cmd, reply.ErrNotSupported)
}

// header reads the (consumerGroup, topic, queueId) all three requests carry.
func header(cmd *remoting.Command) (key, error) {
	group, err := cmd.RequiredString("consumerGroup")
	if err != nil {
		return key{}, err
	}
	topic, err := cmd.RequiredString("topic")
	if err != nil {
		return key{}, err
	}
	q, err := cmd.RequiredInt32("queueId")
	if err != nil {
		return key{}, err
	}
	return key{group: group, topic: topic, queueID: q}, nil
}

// query is QUERY_CONSUMER_OFFSET (14). A stored offset wins. Without one, a
// group that never committed starts at 0 when the queue still holds its very
// first message (min offset 0, something written): that is what lets a new
// CONSUME_FROM_LAST_OFFSET consumer see messages sent before it started
// (client-quirks A4.27). setZeroIfNotFound (5.x) absent counts as true.
func (a *offsetActor) query(cmd *remoting.Command) *remoting.Command {
	k, err := header(cmd)
	if err != nil {
		return reply.Error(cmd, err)
	}
	offset := int64(-1)
	if v := a.entries[k]; v != nil {
		offset = v.Load()
	} else if cmd.OptionalBool("setZeroIfNotFound", true) && a.m.queues != nil &&
		a.m.queues.MinOffset(k.topic, k.queueID) == 0 && a.m.queues.MaxOffset(k.topic, k.queueID) > 0 {
		offset = 0
	}
	if offset < 0 {
		return remoting.NewResponse(cmd, remoting.RespQueryNotFound, "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first")
	}
	resp := remoting.NewResponse(cmd, remoting.RespSuccess, "")
	resp.SetExt("offset", strconv.FormatInt(offset, 10))
	return resp
}

// update is UPDATE_CONSUMER_OFFSET (15), stored unconditionally as in 4.9.
func (a *offsetActor) update(cmd *remoting.Command) *remoting.Command {
	k, err := header(cmd)
	if err != nil {
		return reply.Error(cmd, err)
	}
	offset, err := cmd.RequiredInt64("commitOffset")
	if err != nil {
		return reply.Error(cmd, err)
	}
	a.store(k, offset)
	return remoting.NewResponse(cmd, remoting.RespSuccess, "")
}

// nextVersion is Java's DataVersion.nextVersion: new timestamp, counter+1.
