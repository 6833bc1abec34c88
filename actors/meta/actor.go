package meta

import (
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
)

// Messages the metadata actor receives. Requests sent with a future are
// answered with the reply type named in their comment or with an error.
type (
	readyRequest   struct{}                      // okReply or the start error
	persistRequest struct{}                      // okReply or error
	createTopic    struct{ tc body.TopicConfig } // topicReply
	autoCreate     struct {                      // topicReply
		topic, defaultTopic string
		queueNums           int32
	}
	ensureGroup   struct{ name string }               // groupReply
	prepareGroups struct{ specs []ConsumerGroupSpec } // okReply
	connRequest   struct {                            // answered on c
		c   *netio.Conn
		cmd *remoting.Command
	}
	okReply    struct{}
	topicReply struct{ tc body.TopicConfig }
	groupReply struct{ cfg body.SubscriptionGroupConfig }
)

// metaActor owns the two tables. Its state lives in the Metadata's atomic
// pointers (it is their only writer), so a restarted instance needs nothing
// but the files.
type metaActor struct {
	m *Metadata
	// startErr is the load/persist failure of the last Started; while it is
	// set the actor answers every request with it.
	startErr error
}

// Receive dispatches one message. Goroutine: the actor's.
func (a *metaActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		a.start(ctx)
	case *readyRequest:
		a.respond(ctx, okReply{}, a.startErr)
	case *persistRequest:
		a.respond(ctx, okReply{}, a.persistAll())
	case *createTopic:
		tc, err := a.createTopic(msg.tc)
		a.respond(ctx, topicReply{tc}, err)
	case *autoCreate:
		tc, err := a.autoCreateTopic(msg.topic, msg.defaultTopic, msg.queueNums)
		a.respond(ctx, topicReply{tc}, err)
	case *ensureGroup:
		cfg, err := a.ensureGroup(msg.name)
		a.respond(ctx, groupReply{cfg}, err)
	case *prepareGroups:
		a.respond(ctx, okReply{}, a.prepareGroups(msg.specs))
	case *deleteTopic:
		existed, err := a.deleteTopic(msg.topic)
		a.respond(ctx, deletedReply{existed}, err)
	case *deleteGroup:
		existed, err := a.deleteGroup(msg.group)
		a.respond(ctx, deletedReply{existed}, err)
	case *connRequest:
		if a.startErr != nil {
			_ = msg.c.Write(reply.Error(msg.cmd, a.startErr))
			return
		}
		_ = msg.c.Write(a.serve(msg.cmd))
	}
}

// start loads the files and applies the system topics. On the first start the
// error reaches Spawn through readyRequest; after a supervisor restart there
// is no caller left to tell, so the actor logs it and stops itself, as a
// storage failure must not be retried in a loop.
func (a *metaActor) start(ctx actor.Context) {
	a.startErr = a.load()
	if a.startErr == nil {
		return
	}
	a.m.log.Error().Err(a.startErr).Msg("metadata actor cannot start")
	if a.m.topics.Load() != nil { // a restart: Spawn succeeded earlier
		ctx.Stop(ctx.Self())
	}
}

// respond answers a future request with res, or with err when it is set.
func (a *metaActor) respond(ctx actor.Context, res interface{}, err error) {
	if a.startErr != nil {
		err = a.startErr
	}
	if err != nil {
		ctx.Respond(err)
		return
	}
	ctx.Respond(res)
}
