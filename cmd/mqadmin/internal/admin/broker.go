package admin

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
)

// RuntimeInfo asks GET_BROKER_RUNTIME_INFO (28): the broker's KVTable.
func (a *Admin) RuntimeInfo(ctx context.Context, addr string) (map[string]string, error) {
	resp, err := a.broker(ctx, addr, remoting.NewRequest(remoting.ReqGetBrokerRuntimeInfo, nil, nil))
	if err != nil {
		return nil, err
	}
	var kv body.KVTable
	if err := body.DecodeJSON(resp.Body, &kv); err != nil {
		return nil, fmt.Errorf("runtime info of %s: %w", addr, err)
	}
	return kv.Table, nil
}

// Property is one key=value line of a broker's configuration.
type Property struct{ Key, Value string }

// BrokerConfig asks GET_BROKER_CONFIG (26) and parses the properties text
// body (key=value lines), sorted by key.
func (a *Admin) BrokerConfig(ctx context.Context, addr string) ([]Property, error) {
	resp, err := a.broker(ctx, addr, remoting.NewRequest(remoting.ReqGetBrokerConfig, nil, nil))
	if err != nil {
		return nil, err
	}
	return ParseProperties(string(resp.Body)), nil
}

// ParseProperties reads the key=value lines Java's properties2String
// writes; blank lines and '#' or '!' comments are skipped, the first '='
// (or ':') splits, and both sides are trimmed. Sorted by key.
func ParseProperties(text string) []Property {
	var out []Property
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			k, v, _ = strings.Cut(line, ":")
		}
		out = append(out, Property{Key: strings.TrimSpace(k), Value: strings.TrimSpace(v)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// UpdateBrokerConfig sends UPDATE_BROKER_CONFIG (25) with the body
// "key=value\n".
func (a *Admin) UpdateBrokerConfig(ctx context.Context, addr, key, value string) error {
	_, err := a.broker(ctx, addr, remoting.NewRequest(remoting.ReqUpdateBrokerConfig, nil, []byte(key+"="+value+"\n")))
	return err
}

// CreateTopic sends UPDATE_AND_CREATE_TOPIC (17) with Java's
// CreateTopicRequestHeader fields.
func (a *Admin) CreateTopic(ctx context.Context, addr string, tc body.TopicConfig) error {
	filter := tc.TopicFilterType
	if filter == "" {
		filter = "SINGLE_TAG"
	}
	ext := map[string]string{
		"topic":           tc.TopicName,
		"defaultTopic":    body.DefaultTopic,
		"readQueueNums":   strconv.Itoa(int(tc.ReadQueueNums)),
		"writeQueueNums":  strconv.Itoa(int(tc.WriteQueueNums)),
		"perm":            strconv.Itoa(int(tc.Perm)),
		"topicFilterType": filter,
		"topicSysFlag":    strconv.Itoa(int(tc.TopicSysFlag)),
		"order":           strconv.FormatBool(tc.Order),
	}
	_, err := a.broker(ctx, addr, remoting.NewRequest(remoting.ReqUpdateAndCreateTopic, ext, nil))
	return err
}

// DeleteTopicInBroker sends DELETE_TOPIC_IN_BROKER (215).
func (a *Admin) DeleteTopicInBroker(ctx context.Context, addr, topic string) error {
	_, err := a.broker(ctx, addr, remoting.NewRequest(remoting.ReqDeleteTopicInBroker, map[string]string{"topic": topic}, nil))
	return err
}

// CreateSubscriptionGroup sends UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200)
// with the group's configuration as the JSON body.
func (a *Admin) CreateSubscriptionGroup(ctx context.Context, addr string, cfg body.SubscriptionGroupConfig) error {
	_, err := a.broker(ctx, addr, remoting.NewRequest(remoting.ReqUpdateAndCreateSubscription, nil, body.EncodeJSON(cfg)))
	return err
}

// DeleteSubscriptionGroup sends DELETE_SUBSCRIPTIONGROUP (207). The
// offset flag goes under both names brokers read: removeOffset (4.x) and
// cleanOffset (5.x).
func (a *Admin) DeleteSubscriptionGroup(ctx context.Context, addr, group string, removeOffset bool) error {
	flag := strconv.FormatBool(removeOffset)
	ext := map[string]string{"groupName": group, "removeOffset": flag, "cleanOffset": flag}
	_, err := a.broker(ctx, addr, remoting.NewRequest(remoting.ReqDeleteSubscriptionGroup, ext, nil))
	return err
}

// TopicStats asks GET_TOPIC_STATS_INFO (202) of every master in the
// topic's route and merges the tables.
func (a *Admin) TopicStats(ctx context.Context, topic string) (map[body.MessageQueue]body.TopicOffset, error) {
	route, err := a.Route(ctx, topic)
	if err != nil {
		return nil, err
	}
	out := map[body.MessageQueue]body.TopicOffset{}
	_, addrs := RouteMasters(route)
	for _, addr := range addrs {
		table, err := a.TopicStatsOn(ctx, addr, topic)
		if err != nil {
			return nil, err
		}
		maps.Copy(out, table)
	}
	return out, nil
}

// TopicStatsOn asks GET_TOPIC_STATS_INFO (202) of one broker.
func (a *Admin) TopicStatsOn(ctx context.Context, addr, topic string) (map[body.MessageQueue]body.TopicOffset, error) {
	resp, err := a.broker(ctx, addr, remoting.NewRequest(remoting.ReqGetTopicStatsInfo, map[string]string{"topic": topic}, nil))
	if err != nil {
		return nil, fmt.Errorf("topic %s on %s: %w", topic, addr, err)
	}
	ts, err := body.DecodeTopicStatsTable(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("topic %s on %s: %w", topic, addr, err)
	}
	return ts.OffsetTable, nil
}

// ConsumeStats asks GET_CONSUME_STATS (208) of every master serving the
// group's retry topic (where Java looks for a group) and merges them; topic
// may be "" for all the group's topics. An empty result is
// CONSUMER_NOT_ONLINE, as in Java.
func (a *Admin) ConsumeStats(ctx context.Context, group, topic string) (body.ConsumeStats, error) {
	route, err := a.Route(ctx, body.RetryTopic(group))
	if err != nil {
		return body.ConsumeStats{}, fmt.Errorf("group %s: %w", group, err)
	}
	out := body.ConsumeStats{OffsetTable: map[body.MessageQueue]body.OffsetWrapper{}}
	_, addrs := RouteMasters(route)
	for _, addr := range addrs {
		cs, err := a.ConsumeStatsOn(ctx, addr, group, topic)
		if err != nil {
			return body.ConsumeStats{}, err
		}
		maps.Copy(out.OffsetTable, cs.OffsetTable)
		out.ConsumeTps += cs.ConsumeTps
	}
	if len(out.OffsetTable) == 0 {
		return body.ConsumeStats{}, fmt.Errorf("group %s: %w", group, &CodeError{Code: remoting.RespConsumerNotOnline,
			Remark: "no consume stats: the group has consumed nothing yet"})
	}
	return out, nil
}

// ConsumeStatsOn asks GET_CONSUME_STATS (208) of one broker; topic may be "".
func (a *Admin) ConsumeStatsOn(ctx context.Context, addr, group, topic string) (body.ConsumeStats, error) {
	ext := map[string]string{"consumerGroup": group}
	if topic != "" {
		ext["topic"] = topic
	}
	// Java allows three timeouts: the broker reads every queue's offsets.
	resp, err := a.invokeOK(ctx, brokerPeer, addr, remoting.NewRequest(remoting.ReqGetConsumeStats, ext, nil), 3)
	if err != nil {
		return body.ConsumeStats{}, fmt.Errorf("group %s on %s: %w", group, addr, err)
	}
	cs, err := body.DecodeConsumeStats(resp.Body)
	if err != nil {
		return body.ConsumeStats{}, fmt.Errorf("group %s on %s: %w", group, addr, err)
	}
	return cs, nil
}

// ConsumerConnection asks GET_CONSUMER_CONNECTION_LIST (203) of addr, or,
// when addr is "", of the first master serving the group's retry topic.
func (a *Admin) ConsumerConnection(ctx context.Context, group, addr string) (*body.ConsumerConnection, error) {
	if addr == "" {
		route, err := a.Route(ctx, body.RetryTopic(group))
		if err != nil {
			return nil, fmt.Errorf("group %s: %w", group, err)
		}
		_, addrs := RouteMasters(route)
		if len(addrs) == 0 {
			return nil, fmt.Errorf("group %s: no master serves %s", group, body.RetryTopic(group))
		}
		addr = addrs[0]
	}
	resp, err := a.broker(ctx, addr, remoting.NewRequest(remoting.ReqGetConsumerConnectionList, map[string]string{"consumerGroup": group}, nil))
	if err != nil {
		return nil, fmt.Errorf("group %s on %s: %w", group, addr, err)
	}
	var cc body.ConsumerConnection
	if err := body.DecodeJSON(resp.Body, &cc); err != nil {
		return nil, fmt.Errorf("group %s on %s: %w", group, addr, err)
	}
	if len(cc.ConnectionSet) == 0 {
		return nil, fmt.Errorf("group %s: %w", group, &CodeError{Code: remoting.RespConsumerNotOnline, Remark: "no consumer connection"})
	}
	return &cc, nil
}

// ConsumerRunningQueues asks GET_CONSUMER_RUNNING_INFO (307), which the
// broker forwards to the client, and returns the queues the client holds.
func (a *Admin) ConsumerRunningQueues(ctx context.Context, addr, group, clientID string) ([]body.MessageQueue, error) {
	ext := map[string]string{"consumerGroup": group, "clientId": clientID, "jstackEnable": "false"}
	resp, err := a.invokeOK(ctx, brokerPeer, addr, remoting.NewRequest(remoting.ReqGetConsumerRunningInfo, ext, nil), 4)
	if err != nil {
		return nil, err
	}
	if len(resp.Body) == 0 {
		// The Go client answers SUCCESS without a body when it cannot encode
		// its running info; the remark says why.
		return nil, fmt.Errorf("client %s answered without running info: %s", clientID, resp.Remark)
	}
	return DecodeRunningInfoQueues(resp.Body)
}

// DecodeRunningInfoQueues returns the queues of a ConsumerRunningInfo
// body's mqTable (a map keyed by MessageQueue objects, wire-protocol.md
// §8.7): the queues that client holds, sorted. It never panics.
func DecodeRunningInfoQueues(b []byte) ([]body.MessageQueue, error) {
	var out []body.MessageQueue
	err := body.DecodeFields(b, map[string]func([]byte) error{"mqTable": func(table []byte) error {
		return body.DecodeMQMap(table, func(mq body.MessageQueue, _ []byte) error {
			out = append(out, mq)
			return nil
		})
	}})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, body.CompareQueues)
	return slices.Compact(out), nil
}

// ResetOffset asks INVOKE_BROKER_TO_RESET_OFFSET (222) of every master in
// the topic's route and merges the new offsets (timestamp -1 = the end of
// each queue). cplus asks, as Java's -c does, with the C++ language code.
func (a *Admin) ResetOffset(ctx context.Context, topic, group string, timestamp int64, force, cplus bool) (map[body.MessageQueue]int64, error) {
	route, err := a.Route(ctx, topic)
	if err != nil {
		return nil, err
	}
	out := map[body.MessageQueue]int64{}
	ext := map[string]string{
		"topic": topic, "group": group, "timestamp": strconv.FormatInt(timestamp, 10),
		"isForce": strconv.FormatBool(force),
	}
	_, addrs := RouteMasters(route)
	for _, addr := range addrs {
		req := remoting.NewRequest(remoting.ReqInvokeBrokerToResetOffset, ext, nil)
		if cplus {
			req.Language = "CPP"
		}
		resp, err := a.broker(ctx, addr, req)
		if err != nil {
			return nil, fmt.Errorf("group %s on %s: %w", group, addr, err)
		}
		if len(resp.Body) == 0 {
			continue
		}
		reset, err := body.DecodeResetOffsetBody(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("group %s on %s: %w", group, addr, err)
		}
		maps.Copy(out, reset.OffsetTable)
	}
	return out, nil
}

// queueExt is the header naming one queue.
func queueExt(topic string, queueID int32) map[string]string {
	return map[string]string{"topic": topic, "queueId": strconv.Itoa(int(queueID))}
}

// MinOffset asks GET_MIN_OFFSET (31).
func (a *Admin) MinOffset(ctx context.Context, addr, topic string, queueID int32) (int64, error) {
	return a.offsetAnswer(ctx, addr, remoting.NewRequest(remoting.ReqGetMinOffset, queueExt(topic, queueID), nil))
}

// MaxOffset asks GET_MAX_OFFSET (30).
func (a *Admin) MaxOffset(ctx context.Context, addr, topic string, queueID int32) (int64, error) {
	return a.offsetAnswer(ctx, addr, remoting.NewRequest(remoting.ReqGetMaxOffset, queueExt(topic, queueID), nil))
}

// SearchOffset asks SEARCH_OFFSET_BY_TIMESTAMP (29): the first offset stored
// at or after timestamp.
func (a *Admin) SearchOffset(ctx context.Context, addr, topic string, queueID int32, timestamp int64) (int64, error) {
	ext := queueExt(topic, queueID)
	ext["timestamp"] = strconv.FormatInt(timestamp, 10)
	return a.offsetAnswer(ctx, addr, remoting.NewRequest(remoting.ReqSearchOffsetByTimestamp, ext, nil))
}

func (a *Admin) offsetAnswer(ctx context.Context, addr string, req *remoting.Command) (int64, error) {
	resp, err := a.broker(ctx, addr, req)
	if err != nil {
		return 0, err
	}
	v, err := resp.RequiredInt64("offset")
	if err != nil {
		return 0, fmt.Errorf("broker %s: answer to request %d: %w", addr, req.Code, err)
	}
	return v, nil
}

// UpdateConsumerOffset sends UPDATE_CONSUMER_OFFSET (15) and waits for the
// answer.
func (a *Admin) UpdateConsumerOffset(ctx context.Context, addr, group string, mq body.MessageQueue, offset int64) error {
	ext := queueExt(mq.Topic, mq.QueueID)
	ext["consumerGroup"] = group
	ext["commitOffset"] = strconv.FormatInt(offset, 10)
	_, err := a.broker(ctx, addr, remoting.NewRequest(remoting.ReqUpdateConsumerOffset, ext, nil))
	return err
}

// TopicConsumeGroups asks QUERY_TOPIC_CONSUME_BY_WHO (300): the groups
// consuming a topic on one broker.
func (a *Admin) TopicConsumeGroups(ctx context.Context, addr, topic string) ([]string, error) {
	resp, err := a.broker(ctx, addr, remoting.NewRequest(remoting.ReqQueryTopicConsumeByWho, map[string]string{"topic": topic}, nil))
	if err != nil {
		return nil, err
	}
	var gl body.GroupList
	if err := body.DecodeJSON(resp.Body, &gl); err != nil {
		return nil, fmt.Errorf("groups of %s on %s: %w", topic, addr, err)
	}
	return gl.GroupList, nil
}
