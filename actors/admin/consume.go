package admin

import (
	"sort"
	"strings"
	"time"

	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
)

// consumeStats is GET_CONSUME_STATS (208). Topics: topicList (5.x, ";"
// separated) as given; else topic, or every topic the group has offsets on,
// keeping only topics the group's live consumers subscribe when it has any
// (Java's rule). Per readable queue: brokerOffset (max offset),
// consumerOffset (0 when none), pullOffset (this broker keeps no separate
// pull offset, so the consumer offset), lastTimestamp (store time of the
// last consumed message, 0 when none). consumeTps sums the group's pull
// rate over the last minute on each topic.
func (x *adminActor) consumeStats(cmd *remoting.Command) *remoting.Command {
	a := x.a
	group, err := cmd.RequiredString("consumerGroup")
	if err != nil {
		return reply.Error(cmd, err)
	}
	var topics []string
	if list, _ := cmd.Ext("topicList"); strings.TrimSpace(list) != "" {
		for _, t := range strings.Split(list, ";") {
			if t = strings.TrimSpace(t); t != "" {
				topics = append(topics, t)
			}
		}
	} else {
		if t, _ := cmd.Ext("topic"); strings.TrimSpace(t) != "" {
			topics = []string{t}
		} else {
			topics = a.cfg.Offsets.TopicsOf(group)
		}
		if subscribed := a.cfg.Clients.SubscribedTopics(group); len(subscribed) > 0 {
			topics = intersect(topics, subscribed)
		}
	}
	now := time.Now()
	brokerName := a.Config().BrokerName
	cs := body.ConsumeStats{OffsetTable: map[body.MessageQueue]body.OffsetWrapper{}}
	for _, topic := range topics {
		tc, ok := a.cfg.Meta.Topic(topic)
		if !ok {
			continue
		}
		for q := int32(0); q < tc.ReadQueueNums; q++ {
			w := body.OffsetWrapper{BrokerOffset: max(a.cfg.Queues.ServedMaxOffset(topic, q), 0)}
			if off, ok := a.cfg.Offsets.Offset(group, topic, q); ok && off > 0 {
				w.ConsumerOffset = off
			}
			w.PullOffset = w.ConsumerOffset
			if w.ConsumerOffset > 0 {
				if ts, ok := a.cfg.Queues.StoreTime(topic, q, w.ConsumerOffset-1); ok && ts > 0 {
					w.LastTimestamp = ts
				}
			}
			cs.OffsetTable[body.MessageQueue{Topic: topic, BrokerName: brokerName, QueueID: q}] = w
		}
		cs.ConsumeTps += x.stats.consumeTps(now, group, topic)
	}
	resp := remoting.NewResponse(cmd, remoting.RespSuccess, "")
	resp.Body = cs.Encode()
	return resp
}

// topicStats is GET_TOPIC_STATS_INFO (202): per queue (max of read and
// write queue nums) min and max offset and the store time of the last
// message.
func (x *adminActor) topicStats(cmd *remoting.Command) *remoting.Command {
	a := x.a
	topic, err := cmd.RequiredString("topic")
	if err != nil {
		return reply.Error(cmd, err)
	}
	tc, ok := a.cfg.Meta.Topic(topic)
	if !ok {
		return reply.Error(cmd, reply.Errorf(reply.ErrTopicNotExist, "topic[%s] not exist", topic))
	}
	brokerName := a.Config().BrokerName
	ts := body.TopicStatsTable{OffsetTable: map[body.MessageQueue]body.TopicOffset{}}
	for q := int32(0); q < max(tc.ReadQueueNums, tc.WriteQueueNums); q++ {
		o := body.TopicOffset{
			MinOffset: max(a.cfg.Queues.MinOffset(topic, q), 0),
			MaxOffset: max(a.cfg.Queues.ServedMaxOffset(topic, q), 0),
		}
		if o.MaxOffset > 0 {
			if t, ok := a.cfg.Queues.StoreTime(topic, q, o.MaxOffset-1); ok {
				o.LastUpdateTimestamp = t
			}
		}
		ts.OffsetTable[body.MessageQueue{Topic: topic, BrokerName: brokerName, QueueID: q}] = o
	}
	resp := remoting.NewResponse(cmd, remoting.RespSuccess, "")
	resp.Body = ts.Encode()
	return resp
}

// consumeByWho is QUERY_TOPIC_CONSUME_BY_WHO (300): the groups whose live
// consumers subscribe topic plus the groups holding offsets on it, sorted.
func (x *adminActor) consumeByWho(cmd *remoting.Command) *remoting.Command {
	a := x.a
	topic, err := cmd.RequiredString("topic")
	if err != nil {
		return reply.Error(cmd, err)
	}
	seen := map[string]bool{}
	var groups []string
	for _, g := range append(a.cfg.Clients.GroupsSubscribing(topic), a.cfg.Offsets.GroupsOf(topic)...) {
		if !seen[g] {
			seen[g] = true
			groups = append(groups, g)
		}
	}
	sort.Strings(groups)
	resp := remoting.NewResponse(cmd, remoting.RespSuccess, "")
	resp.Body = body.EncodeJSON(body.GroupList{GroupList: groups})
	return resp
}

// intersect keeps the elements of list that are in set, in list's order.
func intersect(list, set []string) []string {
	in := make(map[string]bool, len(set))
	for _, s := range set {
		in[s] = true
	}
	var out []string
	for _, s := range list {
		if in[s] {
			out = append(out, s)
		}
	}
	return out
}
