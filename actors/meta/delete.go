package meta

import (
	"context"
	"strings"

	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/wire/body"
)

// Messages of the deletions (answered with deletedReply or an error).
type (
	deleteTopic  struct{ topic string }
	deleteGroup  struct{ group string }
	deletedReply struct{ existed bool }
)

// DeleteTopic removes topic's config (DELETE_TOPIC_IN_BROKER, wire doc
// §6.6), persists topics.json and notifies the OnTopicsChanged listeners, so
// the registrar re-registers and the NameServer drops the topic's route. A
// blank name or a topic the broker creates itself (TBW102, the system
// topics, the cluster and broker-name topics) fails with
// reply.ErrInvalidParameter; an unknown topic changes nothing and reports
// existed false. Blocking (future to the actor); never on a gnet loop.
func (m *Metadata) DeleteTopic(ctx context.Context, topic string) (existed bool, err error) {
	res, err := m.ask(ctx, &deleteTopic{topic: topic})
	if err != nil {
		return false, err
	}
	return res.(deletedReply).existed, nil
}

// DeleteGroup removes a subscription group's config (DELETE_SUBSCRIPTIONGROUP)
// and persists subscriptionGroup.json; an unknown group changes nothing and
// reports existed false. Blocking (future to the actor); never on a gnet
// loop.
func (m *Metadata) DeleteGroup(ctx context.Context, group string) (existed bool, err error) {
	res, err := m.ask(ctx, &deleteGroup{group: group})
	if err != nil {
		return false, err
	}
	return res.(deletedReply).existed, nil
}

// deleteTopic is DeleteTopic on the actor goroutine; it follows the change
// contract of the package comment.
func (a *metaActor) deleteTopic(topic string) (bool, error) {
	if strings.TrimSpace(topic) == "" {
		return false, reply.Errorf(reply.ErrInvalidParameter, "The specified topic is blank.")
	}
	if a.isSystemTopic(topic) {
		return false, reply.Errorf(reply.ErrInvalidParameter, "The topic[%s] is conflict with system topic.", topic)
	}
	cur := a.m.topics.Load()
	if _, ok := cur.byName[topic]; !ok {
		return false, nil
	}
	next := &topicTable{byName: make(map[string]body.TopicConfig, len(cur.byName)), version: cur.version.Next()}
	for k, v := range cur.byName {
		if k != topic {
			next.byName[k] = v
		}
	}
	if err := a.persistTopics(next); err != nil {
		a.m.log.Error().Err(err).Str("topic", topic).Msg("topic deletion dropped")
		return false, err
	}
	a.m.topics.Store(next)
	a.m.notifyTopicsChanged()
	a.m.log.Info().Str("topic", topic).Msg("topic deleted")
	return true, nil
}

// deleteGroup is DeleteGroup on the actor goroutine.
func (a *metaActor) deleteGroup(group string) (bool, error) {
	cur := a.m.groups.Load()
	if _, ok := cur.byName[group]; !ok {
		return false, nil
	}
	next := &groupTable{
		byName:    make(map[string]body.SubscriptionGroupConfig, len(cur.byName)),
		forbidden: cur.forbidden,
		version:   cur.version.Next(),
	}
	for k, v := range cur.byName {
		if k != group {
			next.byName[k] = v
		}
	}
	if err := a.persistGroups(next); err != nil {
		a.m.log.Error().Err(err).Str("group", group).Msg("group deletion dropped")
		return false, err
	}
	a.m.groups.Store(next)
	a.m.log.Info().Str("group", group).Msg("subscription group deleted")
	return true, nil
}
