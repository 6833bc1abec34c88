package admin

import (
	"context"
	"fmt"
	"slices"

	"github.com/actormq/actormq/wire/body"
)

// RollbackStats is one queue of an offline offset reset.
type RollbackStats struct {
	Queue           body.MessageQueue
	BrokerOffset    int64
	ConsumerOffset  int64
	TimestampOffset int64 // the offset the timestamp maps to
	RollbackOffset  int64 // the offset committed (or kept)
}

// ResetOffsetOffline resets a group's offsets on a topic without the
// consumers' help, as Java's resetOffsetByTimestampOld does when the group
// is offline (the broker cannot push the reset to any client):
//
//  1. for each master of the topic, take the group's consume stats for the
//     topic, or, if it never consumed there, each queue's min..max range;
//  2. map timestamp to an offset per queue (-1 = the queue's max offset);
//  3. commit it with UPDATE_CONSUMER_OFFSET when force is set or it does not
//     move the group forward.
func (a *Admin) ResetOffsetOffline(ctx context.Context, topic, group string, timestamp int64, force bool) ([]RollbackStats, error) {
	route, err := a.Route(ctx, topic)
	if err != nil {
		return nil, err
	}
	var out []RollbackStats
	names, addrs := RouteMasters(route)
	for i, addr := range addrs {
		queues, err := a.groupProgress(ctx, addr, names[i], route, group, topic)
		if err != nil {
			return nil, err
		}
		for _, q := range queues {
			st, err := a.rollback(ctx, addr, group, q, timestamp, force)
			if err != nil {
				return nil, err
			}
			out = append(out, st)
		}
	}
	return out, nil
}

type queueProgress struct {
	mq body.MessageQueue
	w  body.OffsetWrapper
}

// groupProgress returns the group's offsets on one broker's queues of the
// topic, in queue order.
func (a *Admin) groupProgress(ctx context.Context, addr, brokerName string, route *body.TopicRouteData, group, topic string) ([]queueProgress, error) {
	cs, err := a.ConsumeStatsOn(ctx, addr, group, topic)
	if err != nil {
		return nil, err
	}
	var out []queueProgress
	for mq, w := range cs.OffsetTable {
		if mq.Topic == topic {
			out = append(out, queueProgress{mq: mq, w: w})
		}
	}
	if len(out) == 0 {
		stats, err := a.TopicStatsOn(ctx, addr, topic)
		if err != nil {
			return nil, err
		}
		for _, qd := range route.QueueDatas {
			if qd.BrokerName != brokerName {
				continue
			}
			for q := int32(0); q < qd.ReadQueueNums; q++ {
				mq := body.MessageQueue{Topic: topic, BrokerName: brokerName, QueueID: q}
				off := stats[mq]
				out = append(out, queueProgress{mq: mq, w: body.OffsetWrapper{BrokerOffset: off.MaxOffset, ConsumerOffset: off.MinOffset}})
			}
		}
	}
	slices.SortFunc(out, func(a, b queueProgress) int { return body.CompareQueues(a.mq, b.mq) })
	return out, nil
}

func (a *Admin) rollback(ctx context.Context, addr, group string, q queueProgress, timestamp int64, force bool) (RollbackStats, error) {
	var target int64
	var err error
	if timestamp == -1 {
		target, err = a.MaxOffset(ctx, addr, q.mq.Topic, q.mq.QueueID)
	} else {
		target, err = a.SearchOffset(ctx, addr, q.mq.Topic, q.mq.QueueID, timestamp)
	}
	if err != nil {
		return RollbackStats{}, fmt.Errorf("queue %s/%d on %s: %w", q.mq.Topic, q.mq.QueueID, addr, err)
	}
	st := RollbackStats{Queue: q.mq, BrokerOffset: q.w.BrokerOffset, ConsumerOffset: q.w.ConsumerOffset,
		TimestampOffset: target, RollbackOffset: q.w.ConsumerOffset}
	if force || target <= q.w.ConsumerOffset {
		st.RollbackOffset = target
		if err := a.UpdateConsumerOffset(ctx, addr, group, q.mq, target); err != nil {
			return RollbackStats{}, fmt.Errorf("queue %s/%d on %s: %w", q.mq.Topic, q.mq.QueueID, addr, err)
		}
	}
	return st, nil
}
