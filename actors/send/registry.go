package send

import (
	"context"
	"fmt"
	"time"

	"github.com/actormq/actormq/actors/reply"
	"github.com/asynkron/protoactor-go/actor"
)

// created reports the end of one auto-create attempt to the registry.
type created struct {
	topic string
	err   error
}

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
	case *created:
		a.onCreated(ctx, m)
	case *actor.Stopping:
		for topic, reqs := range a.pending {
			for _, req := range reqs {
				a.s.fail(req, errStopping)
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
	if s.stopped.Load() {
		s.fail(req, errStopping)
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
		ctx.Send(a.topicActor(ctx, topic), req)
		return
	}
	a.pending[topic] = []*sendReq{req}
	h := req.hdr
	timeout := s.cfg.AutoCreateTimeout
	ctx.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if _, ok := c.Message().(*actor.Started); !ok {
			return
		}
		// The control plane may block (persisting, registering); this child
		// absorbs the wait so the registry keeps routing.
		var err error
		if h.deadLetter {
			err = createDLQ(s.cfg.Topics, s.cfg.Groups, timeout, h.topic)
		} else {
			err = autoCreate(s.cfg.Topics, timeout, h.topic, h.defaultTopic, h.defaultTopicQueueNums)
		}
		c.Send(c.Parent(), &created{topic: h.topic, err: err})
		c.Stop(c.Self())
	}))
}

// autoCreate runs one AutoCreateTopic call; a panic in the control plane
// becomes an error so that the waiting sends are still answered.
func autoCreate(t Topics, timeout time.Duration, topic, defaultTopic string, queueNums int32) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: auto-create topic %s panicked: %v", reply.ErrSystem, topic, r)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if _, err := t.AutoCreateTopic(ctx, topic, defaultTopic, queueNums); err != nil {
		return fmt.Errorf("auto-create topic %s: %w", topic, err)
	}
	return nil
}

func (a *registryActor) onCreated(ctx actor.Context, m *created) {
	reqs := a.pending[m.topic]
	delete(a.pending, m.topic)
	if m.err == nil && a.s.stopped.Load() {
		m.err = errStopping
	}
	if m.err != nil {
		a.s.log.Debug().Err(m.err).Str("topic", m.topic).Msg("topic not created")
		for _, req := range reqs {
			a.s.fail(req, m.err)
		}
		return
	}
	pid := a.topicActor(ctx, m.topic)
	for _, req := range reqs {
		ctx.Send(pid, req)
	}
}

// topicActor returns the topic's actor, spawning and publishing it first
// when needed.
func (a *registryActor) topicActor(ctx actor.Context, topic string) *actor.PID {
	if v, ok := a.s.topics.Load(topic); ok {
		return v.(*topicEntry).pid
	}
	e := &topicEntry{done: make(chan struct{})}
	e.pid = ctx.Spawn(actor.PropsFromProducer(func() actor.Actor {
		return newTopicActor(a.s, topic, e.done)
	}))
	a.s.topics.Store(topic, e)
	return e.pid
}
