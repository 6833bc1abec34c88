package admin

import (
	"math"
	"strconv"
	"sync/atomic"

	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
)

// versionResetOffset is MQVersion V3_0_7_SNAPSHOT: older clients cannot take
// RESET_CONSUMER_CLIENT_OFFSET.
const versionResetOffset = 28

// pushOpaque numbers the RESET_CONSUMER_CLIENT_OFFSET pushes. They are
// oneway; a negative opaque can never match a netio Conn.Invoke waiter
// should a client answer anyway.
var pushOpaque atomic.Int32

// resetOffset is INVOKE_BROKER_TO_RESET_OFFSET (222), Java 4.x's
// Broker2Client.resetOffset plus 5.x's queueId/offset. Worker.
//
//  1. For each write queue (or only queueId when given): the target is the
//     given offset (queueId and offset given, within [min, max]), the max
//     offset for timestamp -1, else the first offset stored at or after
//     timestamp. Without isForce a target beyond the group's current offset
//     keeps the current one. A queue the group has no offset on fails the
//     whole request, as in Java.
//  2. The group must have a live consumer (CONSUMER_NOT_ONLINE), each able
//     to take the push (version ≥ V3_0_7_SNAPSHOT).
//  3. The targets are stored as the group's offsets (so a consumer that
//     re-queries, or one started later, starts there), then pushed to every
//     consumer connection as RESET_CONSUMER_CLIENT_OFFSET (220, oneway) with
//     a ResetOffsetBody; the answer carries the same table.
func (a *Admin) resetOffset(cmd *remoting.Command) *remoting.Command {
	group, err := cmd.RequiredString("group")
	if err != nil {
		return reply.Error(cmd, err)
	}
	topic, err := cmd.RequiredString("topic")
	if err != nil {
		return reply.Error(cmd, err)
	}
	timestamp, err := cmd.RequiredInt64("timestamp")
	if err != nil {
		return reply.Error(cmd, err)
	}
	force := cmd.OptionalBool("isForce", false)
	queueID, err := cmd.OptionalInt32("queueId", -1)
	if err != nil {
		return reply.Error(cmd, err)
	}
	offset, err := cmd.OptionalInt64("offset", -1)
	if err != nil {
		return reply.Error(cmd, err)
	}
	tc, ok := a.cfg.Meta.Topic(topic)
	if !ok {
		return reply.Error(cmd, reply.Errorf(reply.ErrTopicNotExist,
			"[reset-offset] reset offset failed, no topic in this broker. topic=%s", topic))
	}
	queues := []int32{queueID}
	if queueID < 0 {
		queues = queues[:0]
		for q := int32(0); q < tc.WriteQueueNums; q++ {
			queues = append(queues, q)
		}
	} else if queueID >= max(tc.ReadQueueNums, tc.WriteQueueNums) {
		return reply.Error(cmd, reply.Errorf(reply.ErrInvalidParameter, "queueId[%d] is illegal, topic[%s]", queueID, topic))
	}

	brokerName := a.Config().BrokerName
	targets := make(map[int32]int64, len(queues))
	table := body.ResetOffsetBody{OffsetTable: make(map[body.MessageQueue]int64, len(queues))}
	for _, q := range queues {
		current, ok := a.cfg.Offsets.Offset(group, topic, q)
		if !ok {
			return reply.Error(cmd, reply.Errorf(reply.ErrSystem, "THe consumer group <%s> not exist", group))
		}
		var target int64
		switch {
		case queueID >= 0 && offset >= 0:
			lo, hi := a.cfg.Queues.MinOffset(topic, q), a.cfg.Queues.ServedMaxOffset(topic, q)
			if offset < lo || offset > hi {
				return reply.Error(cmd, reply.Errorf(reply.ErrSystem, "Target offset %d not in consume queue range [%d-%d]", offset, lo, hi))
			}
			target = offset
		case timestamp == -1:
			target = a.cfg.Queues.ServedMaxOffset(topic, q)
		default:
			target = a.cfg.Queues.SearchOffset(topic, q, timestamp)
		}
		target = max(target, 0)
		if !force && target >= current {
			target = current
		}
		targets[q] = target
		table.OffsetTable[body.MessageQueue{Topic: topic, BrokerName: brokerName, QueueID: q}] = target
	}

	ctx, cancel := a.callCtx()
	defer cancel()
	channels, err := a.cfg.Clients.ConsumerChannels(ctx, group)
	if err != nil {
		return reply.Error(cmd, err)
	}
	if len(channels) == 0 {
		return reply.Error(cmd, reply.Errorf(reply.ErrConsumerNotOnline,
			"Consumer not online, so can not reset offset, Group: %s Topic: %s Timestamp: %d", group, topic, timestamp))
	}
	for _, ch := range channels {
		if ch.Version < versionResetOffset {
			return reply.Error(cmd, reply.Errorf(reply.ErrSystem, "the client does not support this feature. version=%d", ch.Version))
		}
	}
	if err := a.cfg.Offsets.Set(ctx, group, topic, targets); err != nil {
		return reply.Error(cmd, err)
	}
	encoded := table.Encode()
	push := remoting.NewRequest(remoting.ReqResetConsumerClientOffset, map[string]string{
		"topic": topic, "group": group, "timestamp": strconv.FormatInt(timestamp, 10),
		"isForce": "false", "queueId": "-1",
	}, encoded)
	push.Flag |= remoting.FlagOneway
	for _, ch := range channels {
		push.Opaque = pushOpaque.Add(1) | math.MinInt32
		if err := ch.Conn.Write(push); err != nil {
			a.log.Warn().Err(err).Str("group", group).Str("client", ch.ClientID).Msg("reset offset not pushed")
		}
	}
	a.log.Info().Str("group", group).Str("topic", topic).Int64("timestamp", timestamp).Bool("force", force).
		Int("consumers", len(channels)).Msg("consumer offsets reset")
	resp := remoting.NewResponse(cmd, remoting.RespSuccess, "")
	resp.Body = encoded
	return resp
}
