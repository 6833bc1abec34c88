package clients

import (
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
)

// unregister is UNREGISTER_CLIENT (35): remove the requesting connection from
// the named producer and consumer groups (ali-ons sends it on close).
func (a *managerActor) unregister(c *netio.Conn, cmd *remoting.Command) *remoting.Command {
	clientID, err := cmd.RequiredString("clientID")
	if err != nil {
		return reply.Error(cmd, err)
	}
	id := c.ID()
	if group, ok := cmd.Ext("producerGroup"); ok {
		if g := a.producers[group]; g != nil {
			a.removeProducer(group, g, id)
		}
	}
	if group, ok := cmd.Ext("consumerGroup"); ok {
		if g := a.consumers[group]; g != nil {
			if _, member := g.channels[id]; member {
				delete(g.channels, id)
				a.log.Debug().Str("group", group).Str("client", clientID).Msg("consumer unregistered")
				a.consumersLeft(g)
			}
		}
	}
	return remoting.NewResponse(cmd, remoting.RespSuccess, "")
}

// consumerList is GET_CONSUMER_LIST_BY_GROUP (38). Java answers an unknown or
// empty group with SYSTEM_ERROR and this remark.
func (a *managerActor) consumerList(cmd *remoting.Command) *remoting.Command {
	group, err := cmd.RequiredString("consumerGroup")
	if err != nil {
		return reply.Error(cmd, err)
	}
	g := a.consumers[group]
	if g == nil || len(g.channels) == 0 {
		return reply.Error(cmd, reply.Errorf(reply.ErrSystem, "no consumer for this group, %s", group))
	}
	resp := remoting.NewResponse(cmd, remoting.RespSuccess, "")
	resp.Body = body.EncodeJSON(body.ConsumerIDList{ConsumerIDList: g.clientIDs()})
	return resp
}

// consumerConnections is GET_CONSUMER_CONNECTION_LIST (203).
func (a *managerActor) consumerConnections(cmd *remoting.Command) *remoting.Command {
	group, err := cmd.RequiredString("consumerGroup")
	if err != nil {
		return reply.Error(cmd, err)
	}
	g := a.consumers[group]
	if g == nil || len(g.channels) == 0 {
		return reply.Error(cmd, reply.Errorf(reply.ErrConsumerNotOnline, "the consumer group[%s] not online", group))
	}
	cc := body.ConsumerConnection{
		ConnectionSet:     connections(g.channels),
		SubscriptionTable: g.subs,
		ConsumeType:       g.consumeType,
		MessageModel:      g.messageModel,
		ConsumeFromWhere:  g.consumeFromWhere,
	}
	resp := remoting.NewResponse(cmd, remoting.RespSuccess, "")
	resp.Body = body.EncodeJSON(cc)
	return resp
}
