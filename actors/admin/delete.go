package admin

import (
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/wire/remoting"
)

// deleteTopic is DELETE_TOPIC_IN_BROKER (215). Worker. In order:
//  1. meta removes the topic config (a blank or system topic is refused
//     with INVALID_PARAMETER) and notifies the registrar, which
//     re-registers: the NameServer drops the topic's route, and sends and
//     pulls answer TOPIC_NOT_EXIST from then on;
//  2. the offsets of every group on the topic go;
//  3. the writer appends what was submitted for it and forgets its queue
//     offsets, so a topic created again starts its queues at 0;
//  4. the topic's consume queues are destroyed (files, actors).
//
// An unknown topic still runs steps 2 to 4 (leftovers of an earlier
// deletion that failed half way) and answers SUCCESS, as Java does. A send
// racing the deletion (a producer that re-creates the topic through
// auto-create at once) may lose its consume-queue unit; the message stays in
// the commit log. The send path keeps its idle topic actor (used again if
// the topic is created again): stopping it would drop a send that a handler
// on a gnet loop routed to it just before.
func (a *Admin) deleteTopic(cmd *remoting.Command) *remoting.Command {
	topic, err := cmd.RequiredString("topic")
	if err != nil {
		return reply.Error(cmd, err)
	}
	ctx, cancel := a.callCtx()
	defer cancel()
	existed, err := a.cfg.Meta.DeleteTopic(ctx, topic)
	if err != nil {
		return reply.Error(cmd, err)
	}
	if err := a.cfg.Offsets.CleanTopic(ctx, topic); err != nil {
		return reply.Error(cmd, reply.Errorf(reply.ErrSystem, "topic %s deleted, offsets not cleaned: %v", topic, err))
	}
	if err := a.cfg.Writer.ForgetTopic(ctx, topic); err != nil {
		return reply.Error(cmd, reply.Errorf(reply.ErrSystem, "topic %s deleted, queue offsets not reset: %v", topic, err))
	}
	queues, err := a.cfg.Queues.DeleteTopic(ctx, topic)
	if err != nil {
		return reply.Error(cmd, reply.Errorf(reply.ErrSystem, "topic %s deleted, consume queues not destroyed: %v", topic, err))
	}
	a.log.Info().Str("topic", topic).Bool("existed", existed).Int("queues", queues).Msg("topic deleted in broker")
	return remoting.NewResponse(cmd, remoting.RespSuccess, "")
}

// deleteGroup is DELETE_SUBSCRIPTIONGROUP (207): the group's config, and its
// offsets when removeOffset (Java 4.x, mqadmin deleteSubGroup -r) or
// cleanOffset (5.x) is true. Worker.
func (a *Admin) deleteGroup(cmd *remoting.Command) *remoting.Command {
	group, err := cmd.RequiredString("groupName")
	if err != nil {
		return reply.Error(cmd, err)
	}
	ctx, cancel := a.callCtx()
	defer cancel()
	existed, err := a.cfg.Meta.DeleteGroup(ctx, group)
	if err != nil {
		return reply.Error(cmd, err)
	}
	clean := cmd.OptionalBool("removeOffset", false) || cmd.OptionalBool("cleanOffset", false)
	if clean {
		if err := a.cfg.Offsets.CleanGroup(ctx, group); err != nil {
			return reply.Error(cmd, reply.Errorf(reply.ErrSystem, "group %s deleted, offsets not cleaned: %v", group, err))
		}
	}
	a.log.Info().Str("group", group).Bool("existed", existed).Bool("cleanOffset", clean).Msg("subscription group deleted")
	return remoting.NewResponse(cmd, remoting.RespSuccess, "")
}
