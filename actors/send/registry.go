package send

import (
	"context"
	"fmt"
	"strings"

	"github.com/actormq/actormq/actors/actorsys"
	"github.com/actormq/actormq/actors/admit"
	"github.com/actormq/actormq/actors/offload"
	"github.com/actormq/actormq/actors/reply"
	"github.com/asynkron/protoactor-go/actor"
)

// registryActor spawns topic actors (its children) and runs topic
// auto-creation. It owns pending: the sends waiting for a topic being created.
// Only it writes Sender.topics.
type registryActor struct {
	s       *Sender
	pending map[string][]*sendReq
}

func newRegistryActor(s *Sender) *registryActor {
	return &registryActor{s: s, pending: make(map[string][]*sendReq)}
}

func (a *registryActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *sendReq:
		a.route(ctx, m)
	case *offload.Done:
		a.onCreated(ctx, m)
	case *actor.Stopping:
		for topic, reqs := range a.pending {
			for _, req := range reqs {
				a.s.fail(req, admit.ErrStopping)
			}
			delete(a.pending, topic)
		}
	case *actor.Stopped:
		close(a.s.regDone)
	}
}

// route forwards req to its topic actor, spawning it when the topic exists,
// or starts (or joins) the topic's creation.
func (a *registryActor) route(ctx actor.Context, req *sendReq) {
	s := a.s
	if s.gate.Stopped() {
		s.fail(req, admit.ErrStopping)
		return
	}
	topic := req.hdr.topic
	if reqs, ok := a.pending[topic]; ok {
		if len(reqs) >= s.cfg.CreatePendingMax {
			s.fail(req, fmt.Errorf("%w: [REJECTREQUEST]system busy, topic %s is being created", reply.ErrSystemBusy, topic))
			return
		}
		a.pending[topic] = append(reqs, req)
		return
	}
	if _, ok := s.cfg.Topics.Topic(topic); ok {
		s.deliver(a.topicActor(ctx, topic), req)
		return
	}
	// The header's strings alias req's request, which ends (fail) while
	// the pending key, the creation's key and its child (which may outlive
	// a timeout, and whose topic table keeps the name) still use them:
	// they get copies of their own.
	topic = strings.Clone(topic)
	a.pending[topic] = []*sendReq{req}
	// The control plane may block (persisting, registering); offload's
	// child absorbs the wait so the registry keeps routing.
	deadLetter, defaultTopic, queueNums := req.hdr.deadLetter, strings.Clone(req.hdr.defaultTopic), req.hdr.defaultTopicQueueNums
	offload.Run(ctx, topic, s.cfg.AutoCreateTimeout, func(c context.Context) error {
		if deadLetter {
			return createDLQ(c, s.cfg.Topics, s.cfg.Groups, topic)
		}
		return autoCreate(c, s.cfg.Topics, topic, defaultTopic, queueNums)
	})
}

// autoCreate runs one AutoCreateTopic call. Creation child (offload.Run).
func autoCreate(ctx context.Context, t Topics, topic, defaultTopic string, queueNums int32) error {
	if _, err := t.AutoCreateTopic(ctx, topic, defaultTopic, queueNums); err != nil {
		return fmt.Errorf("auto-create topic %s: %w", topic, err)
	}
	return nil
}

// onCreated routes (or fails) the sends that waited for the creation of
// topic m.Key.
func (a *registryActor) onCreated(ctx actor.Context, m *offload.Done) {
	topic, err := m.Key, m.Err
	reqs := a.pending[topic]
	delete(a.pending, topic)
	if err == nil && a.s.gate.Stopped() {
		err = admit.ErrStopping
	}
	if err != nil {
		a.s.log.Debug().Err(err).Str("topic", topic).Msg("topic not created")
		for _, req := range reqs {
			a.s.fail(req, err)
		}
		return
	}
	e := a.topicActor(ctx, topic)
	for _, req := range reqs {
		a.s.deliver(e, req)
	}
}

// topicActor returns the topic's actor, spawning and publishing it first
// when needed.
func (a *registryActor) topicActor(ctx actor.Context, topic string) *topicEntry {
	if v, ok := a.s.topics.Load(topic); ok {
		return v.(*topicEntry)
	}
	// topic may alias a request's pooled frame (remoting.Command.Release);
	// the entry lives as long as the broker, so it keeps a string of its own.
	topic = strings.Clone(topic)
	e := &topicEntry{done: make(chan struct{})}
	e.pid = ctx.Spawn(actor.PropsFromProducer(func() actor.Actor {
		return newTopicActor(a.s, topic, e)
	}, actor.WithDispatcher(a.s.turns), actor.WithMailbox(actorsys.Mailbox)))
	a.s.topics.Store(topic, e)
	return e
}
