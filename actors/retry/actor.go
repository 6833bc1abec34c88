package retry

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/actormq/actormq/actors/meta"
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/actors/writer"
	"github.com/actormq/actormq/wire/body"
	"github.com/asynkron/protoactor-go/actor"
)

// ensureAttemptsMax bounds the creations one send-back may wait for: the
// group, then its destination topic, plus one for a topic deleted again
// in between. Beyond it the send-back fails instead of looping.
const ensureAttemptsMax = 3

// ensured reports the end of one creation to the retry actor.
type ensured struct {
	key string
	err error
}

// retryActor runs steps 2-4 of the package comment. It owns pending: the
// send-backs waiting for a group or topic being created, by creation key.
type retryActor struct {
	s       *Service
	pending map[string][]*sendBack
}

func newRetryActor(s *Service) *retryActor {
	return &retryActor{s: s, pending: make(map[string][]*sendBack)}
}

func (a *retryActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *sendBack:
		a.handle(ctx, m)
	case *ensured:
		a.onEnsured(ctx, m)
	case *actor.Stopping:
		for key, reqs := range a.pending {
			for _, r := range reqs {
				a.s.answer(r, errStopping)
			}
			delete(a.pending, key)
		}
	case *actor.Stopped:
		close(a.s.done)
	}
}

// handle runs one send-back as far as it can go now: to the writer, to an
// answer, or into pending behind a creation.
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
		a.ensure(ctx, r, "group "+group, prepare)
		return
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
	topic, create := body.RetryTopic(group), prepare
	if dest.deadLetter {
		topic = body.DLQTopic(group)
		create = func(c context.Context) error {
			if _, ok := md.Topic(topic); ok {
				return nil
			}
			_, err := md.CreateTopic(c, dlqTopic(group))
			return err
		}
	}
	tc, ok := md.Topic(topic)
	if !ok {
		a.ensure(ctx, r, "topic "+topic, create)
		return
	}
	if tc.Perm&body.PermWrite == 0 {
		s.answer(r, reply.Errorf(reply.ErrNoPermission, "the topic[%s] sending message is forbidden", topic))
		return
	}
	var queueID int32
	if !dest.deadLetter {
		// Java picks a random queue among the group's retryQueueNums; the
		// topic may have been given fewer write queues since.
		n := min(g.RetryQueueNums, tc.WriteQueueNums)
		if n <= 0 {
			s.answer(r, reply.Errorf(reply.ErrNoPermission, "the topic[%s] has no write queue", topic))
			return
		}
		queueID = rand.Int32N(n)
	}
	m, tagsCode := rebuild(&orig, dest, topic, queueID, s.levels, time.Now())
	s.log.Debug().Str("group", group).Str("topic", topic).Bool("deadLetter", dest.deadLetter).
		Int32("delayLevel", dest.delayLevel).Int32("reconsumeTimes", m.ReconsumeTimes).Msg("send-back stored")
	s.cfg.Writer.Put(&m, tagsCode, true, func(res writer.PutResult) { s.answer(r, res.Err) })
}

// ensure queues r behind the creation named key, starting it when it is not
// under way: a child actor runs create (blocking on the metadata actor,
// bounded by EnsureTimeout) so that this actor keeps serving, and reports
// back with ensured.
func (a *retryActor) ensure(ctx actor.Context, r *sendBack, key string, create func(context.Context) error) {
	s := a.s
	if r.ensured >= ensureAttemptsMax {
		s.answer(r, reply.Errorf(reply.ErrSystem, "%s still missing after %d creations", key, r.ensured))
		return
	}
	r.ensured++
	if reqs, ok := a.pending[key]; ok {
		if len(reqs) >= s.cfg.PendingMax {
			s.answer(r, reply.Errorf(reply.ErrSystemBusy, "[REJECTREQUEST]system busy, %s is being created", key))
			return
		}
		a.pending[key] = append(reqs, r)
		return
	}
	a.pending[key] = []*sendBack{r}
	timeout := s.cfg.EnsureTimeout
	ctx.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if _, ok := c.Message().(*actor.Started); !ok {
			return
		}
		c.Send(c.Parent(), &ensured{key: key, err: runCreate(create, timeout, key)})
		c.Stop(c.Self())
	}))
}

// runCreate runs one creation with its deadline; a panic in the control
// plane becomes an error so that the waiting send-backs are still answered.
func runCreate(create func(context.Context) error, timeout time.Duration, key string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = reply.Errorf(reply.ErrSystem, "creating %s panicked: %v", key, p)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := create(ctx); err != nil {
		return fmt.Errorf("retry: create %s: %w", key, err)
	}
	return nil
}

// onEnsured re-runs the send-backs that waited for a creation, or fails
// them with its error.
func (a *retryActor) onEnsured(ctx actor.Context, m *ensured) {
	reqs, ok := a.pending[m.key]
	if !ok {
		return // answered by Stopping already
	}
	delete(a.pending, m.key)
	if m.err != nil {
		a.s.log.Warn().Err(m.err).Int("waiting", len(reqs)).Msg("send-back: creation failed")
	}
	for _, r := range reqs {
		if m.err != nil {
			a.s.answer(r, m.err)
			continue
		}
		a.handle(ctx, r)
	}
}
