package admin

import (
	"encoding/json"
	"fmt"

	"github.com/actormq/actormq/wire/body"
)

// OffsetWrapper is one queue of a ConsumeStats body.
type OffsetWrapper struct {
	BrokerOffset   int64 `json:"brokerOffset"`
	ConsumerOffset int64 `json:"consumerOffset"`
	LastTimestamp  int64 `json:"lastTimestamp"`
}

// ConsumeStats is the GET_CONSUME_STATS body: a group's progress per queue.
type ConsumeStats struct {
	OffsetTable map[body.MessageQueue]OffsetWrapper
	ConsumeTps  float64
}

// TotalDiff is the sum of brokerOffset - consumerOffset over every queue.
func (c *ConsumeStats) TotalDiff() int64 {
	var diff int64
	for _, w := range c.OffsetTable {
		diff += w.BrokerOffset - w.ConsumerOffset
	}
	return diff
}

// DecodeConsumeStats decodes `{"offsetTable":{MessageQueue:OffsetWrapper},
// "consumeTps":d}` (wire-protocol.md §8.5, §8.7). It never panics.
func DecodeConsumeStats(b []byte) (*ConsumeStats, error) {
	entries, err := objectEntries(b)
	if err != nil {
		return nil, err
	}
	table, err := mqTable[OffsetWrapper](field(entries, "offsetTable"))
	if err != nil {
		return nil, err
	}
	cs := &ConsumeStats{OffsetTable: table}
	if raw := field(entries, "consumeTps"); raw != nil {
		if err := json.Unmarshal(raw, &cs.ConsumeTps); err != nil {
			return nil, fmt.Errorf("%w: consumeTps: %w", ErrBody, err)
		}
	}
	return cs, nil
}

// TopicOffset is one queue of a TopicStatsTable body.
type TopicOffset struct {
	MinOffset           int64 `json:"minOffset"`
	MaxOffset           int64 `json:"maxOffset"`
	LastUpdateTimestamp int64 `json:"lastUpdateTimestamp"`
}

// DecodeTopicStats decodes the GET_TOPIC_STATS_INFO body
// `{"offsetTable":{MessageQueue:TopicOffset}}`. It never panics.
func DecodeTopicStats(b []byte) (map[body.MessageQueue]TopicOffset, error) {
	entries, err := objectEntries(b)
	if err != nil {
		return nil, err
	}
	return mqTable[TopicOffset](field(entries, "offsetTable"))
}

// DecodeResetOffset decodes a ResetOffsetBody `{"offsetTable":{MessageQueue:offset}}`,
// the INVOKE_BROKER_TO_RESET_OFFSET answer. It never panics.
func DecodeResetOffset(b []byte) (map[body.MessageQueue]int64, error) {
	entries, err := objectEntries(b)
	if err != nil {
		return nil, err
	}
	return mqTable[int64](field(entries, "offsetTable"))
}

// DecodeRunningInfoQueues returns the queues of a ConsumerRunningInfo body's
// mqTable: the queues that client holds. It never panics.
func DecodeRunningInfoQueues(b []byte) ([]body.MessageQueue, error) {
	entries, err := objectEntries(b)
	if err != nil {
		return nil, err
	}
	table, err := mqTable[json.RawMessage](field(entries, "mqTable"))
	if err != nil {
		return nil, err
	}
	out := make([]body.MessageQueue, 0, len(table))
	for mq := range table {
		out = append(out, mq)
	}
	SortQueues(out)
	return out, nil
}

// Connection is one client connection of a ConsumerConnection body.
type Connection struct {
	ClientID   string `json:"clientId"`
	ClientAddr string `json:"clientAddr"`
	Language   string `json:"language"`
	Version    int32  `json:"version"`
}

// ConsumerConnection is the GET_CONSUMER_CONNECTION_LIST body.
type ConsumerConnection struct {
	ConnectionSet     []Connection                     `json:"connectionSet"`
	SubscriptionTable map[string]body.SubscriptionData `json:"subscriptionTable"`
	ConsumeType       string                           `json:"consumeType"`
	MessageModel      string                           `json:"messageModel"`
	ConsumeFromWhere  string                           `json:"consumeFromWhere"`
}

// MinVersion is the lowest client version of the group (Java's
// computeMinVersion), or 0 without connections.
func (c *ConsumerConnection) MinVersion() int32 {
	var v int32
	for i, conn := range c.ConnectionSet {
		if i == 0 || conn.Version < v {
			v = conn.Version
		}
	}
	return v
}
