package clients

import (
	"fmt"
	"time"

	"github.com/actormq/actormq/actors/meta"
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
)

// heartbeat applies HEART_BEAT (34) following the order in the package
// comment, then answers.
func (a *managerActor) heartbeat(ctx actor.Context, c *netio.Conn, cmd *remoting.Command) {
	var hb body.HeartbeatData
	if err := body.DecodeJSON(cmd.Body, &hb); err != nil {
		a.log.Debug().Err(err).Str("conn", c.RemoteAddr()).Msg("bad heartbeat body")
		reply.WriteError(c, cmd, fmt.Errorf("clients: decode heartbeat: %w", err))
		return
	}
	now := a.opt.now()
	var prepare []meta.ConsumerGroupSpec
	for i := range hb.ConsumerDataSet {
		cd := &hb.ConsumerDataSet[i]
		if err := body.ValidateGroup(cd.GroupName); err != nil {
			a.log.Debug().Err(err).Str("client", hb.ClientID).Msg("heartbeat group skipped")
			continue
		}
		_, known := a.meta.Group(cd.GroupName)
		if !known && !a.cfg.AutoCreateSubscriptionGroup {
			// Java 4.9 would still register it; the wire doc (§6.3) skips it,
			// so pulls answer SUBSCRIPTION_NOT_EXIST rather than consuming a
			// group the operator has not created.
			a.log.Debug().Str("group", cd.GroupName).Str("client", hb.ClientID).Msg("unknown group skipped")
			continue
		}
		if _, ok := a.meta.Topic(body.RetryTopic(cd.GroupName)); !known || !ok {
			prepare = append(prepare, meta.ConsumerGroupSpec{Group: cd.GroupName, UnitMode: cd.UnitMode})
		}
		a.registerConsumer(c, cmd, hb.ClientID, cd, now)
	}
	for _, pd := range hb.ProducerDataSet {
		if pd.GroupName != "" {
			a.registerProducer(c, cmd, hb.ClientID, pd.GroupName, now)
		}
	}
	if len(prepare) == 0 {
		reply.WriteOK(c, cmd, nil, nil)
		return
	}
	// Wait for the metadata actor without blocking this one: registrations
	// are already applied, so messages handled in between see them.
	fut := a.meta.PrepareConsumerGroupsFuture(prepare, prepareTimeout)
	ctx.ReenterAfter(fut, func(res interface{}, err error) {
		if err := meta.PrepareResult(res, err); err != nil {
			a.log.Warn().Err(err).Str("client", hb.ClientID).Msg("heartbeat: cannot create group or retry topic")
			reply.WriteError(c, cmd, err)
			return
		}
		reply.WriteOK(c, cmd, nil, nil)
	})
}

// registerConsumer registers c in the consumer group of cd, replaces the
// group's subscription table (§13.4), publishes the view when it changed and
// notifies the group when a member joined or topics came or went.
func (a *managerActor) registerConsumer(c *netio.Conn, cmd *remoting.Command, clientID string, cd *body.ConsumerData, now time.Time) {
	g := a.consumers[cd.GroupName]
	if g == nil {
		g = &consumerGroup{
			name:     cd.GroupName,
			channels: make(map[uint64]*channel),
			subs:     make(map[string]body.SubscriptionData),
		}
		a.consumers[cd.GroupName] = g
	}
	model := cd.MessageModel
	if model == "" {
		model = Clustering
	}
	modelChanged := g.messageModel != model
	g.consumeType, g.messageModel, g.consumeFromWhere = cd.ConsumeType, model, cd.ConsumeFromWhere

	joined := a.updateChannel(g.channels, c, cmd, clientID, now)
	topicsChanged, subsChanged := g.updateSubscriptions(cd.SubscriptionDataSet)
	if joined || subsChanged || modelChanged {
		a.publish(g)
	}
	if joined || topicsChanged {
		a.log.Debug().Str("group", g.name).Str("client", clientID).Bool("joined", joined).
			Bool("topicsChanged", topicsChanged).Msg("consumer group changed")
		a.notifyIDsChanged(g)
	}
}

// registerProducer registers c in a producer group.
func (a *managerActor) registerProducer(c *netio.Conn, cmd *remoting.Command, clientID, group string, now time.Time) {
	g := a.producers[group]
	if g == nil {
		g = &producerGroup{channels: make(map[uint64]*channel)}
		a.producers[group] = g
	}
	if a.updateChannel(g.channels, c, cmd, clientID, now) {
		a.log.Debug().Str("group", group).Str("client", clientID).Msg("producer registered")
		a.publishProducers(group, g)
		a.publishProducerClient(clientID)
	}
}

// updateChannel adds or refreshes c in chs and reports whether it is new.
func (a *managerActor) updateChannel(chs map[uint64]*channel, c *netio.Conn, cmd *remoting.Command, clientID string, now time.Time) bool {
	ch, ok := chs[c.ID()]
	if !ok {
		chs[c.ID()] = &channel{conn: c, clientID: clientID, language: cmd.Language, version: cmd.Version, lastUpdate: now}
		return true
	}
	if ch.clientID != clientID {
		// Java logs and replaces the same way: one connection, one client.
		a.log.Warn().Str("old", ch.clientID).Str("new", clientID).Str("conn", c.RemoteAddr()).Msg("client id changed on a connection")
		ch.clientID = clientID
	}
	ch.language, ch.version, ch.lastUpdate = cmd.Language, cmd.Version, now
	return false
}

// updateSubscriptions applies one heartbeat's subscriptions (§13.4): new
// topics are inserted, an entry is replaced only by a larger subVersion, and
// topics absent from the heartbeat are removed. topicsChanged reports inserts
// and removals (what Java notifies on); anyChanged also counts replacements
// (what the published view must reflect).
func (g *consumerGroup) updateSubscriptions(list []body.SubscriptionData) (topicsChanged, anyChanged bool) {
	seen := make(map[string]bool, len(list))
	for _, s := range list {
		seen[s.Topic] = true
		old, ok := g.subs[s.Topic]
		switch {
		case !ok:
			g.subs[s.Topic] = s
			topicsChanged, anyChanged = true, true
		case s.SubVersion > old.SubVersion:
			g.subs[s.Topic] = s
			anyChanged = true
		}
	}
	for topic := range g.subs {
		if !seen[topic] {
			delete(g.subs, topic)
			topicsChanged, anyChanged = true, true
		}
	}
	return topicsChanged, anyChanged
}
