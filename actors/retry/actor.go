package retry

import (
	"context"
	"math/rand/v2"

	"github.com/actormq/actormq/actors/meta"
	"github.com/actormq/actormq/actors/offload"
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/actors/writer"
	"github.com/actormq/actormq/internal/wallclock"
	"github.com/actormq/actormq/wire/body"
	"github.com/asynkron/protoactor-go/actor"
)

// retryActor runs steps 2-4 of the package comment. It owns creating: the
// groups and topics being created, by offload key, so that a burst of
// send-backs for one new group starts one creation of each.
type retryActor struct {
	s        *Service
	creating map[string]struct{}
}

func newRetryActor(s *Service) *retryActor {
	return &retryActor{s: s, creating: make(map[string]struct{})}
}

func (a *retryActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *sendBack:
		a.handle(ctx, m)
	case *offload.Done:
		delete(a.creating, m.Key)
		if m.Err != nil {
			// The records are stored; the next send-back of the group tries
			// again, and so does a heartbeat of its consumers for the group
			// and its retry topic.
			a.s.log.Warn().Err(m.Err).Str("creating", m.Key).Msg("send-back: creation failed")
		}
	case *actor.Stopped:
		close(a.s.done)
	}
}

// handle stores one send-back (or answers why not) and starts the
// creations its group and destination need.
func (a *retryActor) handle(ctx actor.Context, r *sendBack) {
	s := a.s
	// A panic here is a bug on one request; answer it so that the in-flight
	// count stays exact. Resuming the actor alone would drop it silently.
	defer func() {
		if p := recover(); p != nil {
			s.log.Error().Interface("panic", p).Str("group", r.hdr.group).Msg("send-back handling panicked")
			s.answer(r, reply.Errorf(reply.ErrSystem, "internal error"))
		}
	}()
	md, group := s.cfg.Meta, r.hdr.group
	g, known := md.Group(group)
	if !known && !s.cfg.Broker.AutoCreateSubscriptionGroup {
		s.answer(r, reply.Errorf(reply.ErrSubscriptionGroupNotExist, "subscription group not exist, %s", group))
		return
	}
	orig, err := s.cfg.Messages.ReadMessage(r.hdr.offset)
	if err != nil {
		s.log.Debug().Err(err).Int64("offset", r.hdr.offset).Msg("send-back of an unknown offset")
		s.answer(r, reply.Errorf(reply.ErrSystem, "look message by offset failed, %d", r.hdr.offset))
		return
	}
	// prepare creates the group when missing, and its retry topic, as a
	// heartbeat of a consumer of the group would.
	prepare := func(c context.Context) error {
		return md.PrepareConsumerGroups(c, []meta.ConsumerGroupSpec{{Group: group, UnitMode: r.hdr.unitMode}})
	}
	if !known {
		// The config the creation will give the group.
		g = body.DefaultSubscriptionGroup(group)
		a.create(ctx, "group "+group, prepare)
	}
	if g.RetryQueueNums <= 0 {
		// The group opted out of retries (Java answers SUCCESS too).
		s.answer(r, nil)
		return
	}
	maxTimes := g.RetryMaxTimes
	if r.hdr.hasMax {
		maxTimes = r.hdr.maxReconsumeTimes
	}
	dest := decide(orig.ReconsumeTimes, maxTimes, r.hdr.delayLevel)
	// Java picks a random queue among the group's retryQueueNums; the
	// retry topic may have been given fewer write queues since.
	topic, queueNums := body.RetryTopic(group), g.RetryQueueNums
	if dest.deadLetter {
		topic, queueNums = body.DLQTopic(group), 1
	}
	if tc, ok := md.Topic(topic); ok {
		if tc.Perm&body.PermWrite == 0 {
			s.answer(r, reply.Errorf(reply.ErrNoPermission, "the topic[%s] sending message is forbidden", topic))
			return
		}
		if !dest.deadLetter {
			queueNums = min(queueNums, tc.WriteQueueNums)
		}
		if queueNums <= 0 {
			s.answer(r, reply.Errorf(reply.ErrNoPermission, "the topic[%s] has no write queue", topic))
			return
		}
	} else if dest.deadLetter {
		a.create(ctx, "topic "+topic, func(c context.Context) error {
			if _, ok := md.Topic(topic); ok {
				return nil
			}
			_, err := md.CreateTopic(c, body.DLQTopicConfig(body.DLQTopic(group)))
			return err
		})
	} else if known {
		a.create(ctx, "topic "+topic, prepare)
	}
	m, tagsCode := rebuild(&orig, dest, topic, rand.Int32N(queueNums), s.levels, wallclock.Now())
	s.log.Debug().Str("group", group).Str("topic", topic).Bool("deadLetter", dest.deadLetter).
		Int32("delayLevel", dest.delayLevel).Int32("reconsumeTimes", m.ReconsumeTimes).Msg("send-back stored")
	s.cfg.Writer.Put(&m, tagsCode, true, func(res writer.PutResult) { s.answer(r, res.Err) })
}

// create starts the creation named key unless it is under way: a child
// runs it (blocking on the metadata actor, bounded by EnsureTimeout) and
// reports with an offload.Done.
func (a *retryActor) create(ctx actor.Context, key string, call func(context.Context) error) {
	if _, ok := a.creating[key]; ok {
		return
	}
	a.creating[key] = struct{}{}
	offload.Run(ctx, key, a.s.cfg.EnsureTimeout, call)
}
