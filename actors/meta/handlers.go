package meta

import (
	"fmt"

	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
)

// serve answers one admin request (wire doc §6.6). Goroutine: the actor's.
// It returns the response instead of writing it so that tests can drive it
// without a connection.
func (a *metaActor) serve(cmd *remoting.Command) *remoting.Command {
	var (
		b   []byte
		err error
	)
	switch cmd.Code {
	case remoting.ReqUpdateAndCreateTopic:
		err = a.serveUpdateTopic(cmd)
	case remoting.ReqGetAllTopicConfig:
		t := a.m.topics.Load()
		b = body.EncodeJSON(body.TopicConfigSerializeWrapper{TopicConfigTable: t.byName, DataVersion: t.version})
	case remoting.ReqUpdateAndCreateSubscription:
		err = a.serveUpdateGroup(cmd)
	case remoting.ReqGetAllSubscriptionGroupConfig:
		g := a.m.groups.Load()
		b = body.EncodeJSON(body.SubscriptionGroupWrapper{
			SubscriptionGroupTable: g.byName, ForbiddenTable: g.forbidden, DataVersion: g.version,
		})
	case remoting.ReqGetTopicConfig:
		b, err = a.serveGetTopic(cmd)
	case remoting.ReqGetSubscriptionGroupConfig:
		b, err = a.serveGetGroup(cmd)
	default:
		err = fmt.Errorf("%w: request type %d not supported", reply.ErrNotSupported, cmd.Code)
	}
	if err != nil {
		a.m.log.Debug().Err(err).Int32("code", cmd.Code).Msg("admin request failed")
		return reply.Error(cmd, err)
	}
	resp := remoting.NewResponse(cmd, remoting.RespSuccess, "")
	resp.Body = b
	return resp
}

// serveUpdateTopic is UPDATE_AND_CREATE_TOPIC (17). Java requires every
// field; we require the ones without a sensible default (topic, queue nums,
// perm) and default the rest (defaultTopic is unused here).
func (a *metaActor) serveUpdateTopic(cmd *remoting.Command) error {
	topic, err := cmd.RequiredString("topic")
	if err != nil {
		return err
	}
	tc := body.TopicConfig{TopicName: topic, TopicFilterType: filterSingleTag}
	if tc.ReadQueueNums, err = cmd.RequiredInt32("readQueueNums"); err != nil {
		return err
	}
	if tc.WriteQueueNums, err = cmd.RequiredInt32("writeQueueNums"); err != nil {
		return err
	}
	if tc.Perm, err = cmd.RequiredInt32("perm"); err != nil {
		return err
	}
	if tc.TopicSysFlag, err = cmd.OptionalInt32("topicSysFlag", 0); err != nil {
		return err
	}
	if v, ok := cmd.Ext("topicFilterType"); ok {
		tc.TopicFilterType = v
	}
	tc.Order = cmd.OptionalBool("order", false)
	if err := body.ValidateTopic(topic); err != nil {
		return fmt.Errorf("%w: %w", reply.ErrInvalidParameter, err)
	}
	if a.isSystemTopic(topic) {
		return reply.Errorf(reply.ErrInvalidParameter, "The topic[%s] is conflict with system topic.", topic)
	}
	_, err = a.createTopic(tc)
	return err
}

// isSystemTopic reports names an admin may not (re)define: the auto-create
// template and the system topics of wire doc §10.1 this broker creates.
func (a *metaActor) isSystemTopic(topic string) bool {
	return topic == body.DefaultTopic || body.IsNotSendable(topic) ||
		topic == a.m.cfg.BrokerClusterName || topic == a.m.cfg.BrokerName
}

// serveUpdateGroup is UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200). Fields the
// body omits keep Java's defaults.
func (a *metaActor) serveUpdateGroup(cmd *remoting.Command) error {
	g := body.DefaultSubscriptionGroup("")
	if len(cmd.Body) == 0 {
		return fmt.Errorf("%w: subscription group config body is empty", reply.ErrInvalidParameter)
	}
	if err := body.DecodeJSON(cmd.Body, &g); err != nil {
		return fmt.Errorf("meta: decode subscription group config: %w", err)
	}
	return a.updateGroup(g)
}

// serveGetTopic is GET_TOPIC_CONFIG (351).
func (a *metaActor) serveGetTopic(cmd *remoting.Command) ([]byte, error) {
	topic, err := cmd.RequiredString("topic")
	if err != nil {
		return nil, err
	}
	tc, ok := a.m.Topic(topic)
	if !ok {
		return nil, reply.Errorf(reply.ErrTopicNotExist, "No topic in this broker. topic: %s", topic)
	}
	return body.EncodeJSON(tc), nil
}

// serveGetGroup is GET_SUBSCRIPTIONGROUP_CONFIG (352).
func (a *metaActor) serveGetGroup(cmd *remoting.Command) ([]byte, error) {
	group, err := cmd.RequiredString("group")
	if err != nil {
		return nil, err
	}
	g, ok := a.m.Group(group)
	if !ok {
		return nil, reply.Errorf(reply.ErrSubscriptionGroupNotExist, "No group in this broker. group: %s", group)
	}
	return body.EncodeJSON(g), nil
}
