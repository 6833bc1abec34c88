package send

import (
	"context"
	"strings"

	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
)

// Groups is the side of the metadata actor the %RETRY% rule needs
// (*meta.Metadata).
type Groups interface {
	// Group reads the group table snapshot. Lock-free; called on gnet loops.
	Group(name string) (body.SubscriptionGroupConfig, bool)
	// CreateTopic creates (or replaces) a topic. It may block until ctx is
	// done: the registry calls it from its short-lived creation child.
	CreateTopic(ctx context.Context, tc body.TopicConfig) (body.TopicConfig, error)
}

// divertRetry is §6.1 step 7, for clients that re-send a failed message to
// %RETRY%<group> themselves (ali-ons, and Java when CONSUMER_SEND_MSG_BACK
// fails): the group must exist, and a message already consumed its
// maximum number of times — header maxReconsumeTimes when sent, else the
// group's retryMaxTimes — is stored in %DLQ%<group> queue 0 instead, with
// no delay. Batches to %RETRY% topics are refused earlier (checkBatch).
//
// It only reads the lock-free group table and rewrites h, so it runs on the
// gnet loop; the DLQ topic, when missing, is created by the registry
// (createDLQ) like any auto-created topic. Go producers always send
// maxReconsumeTimes=0, so, as with Java brokers, their direct sends to a
// retry topic are dead letters at once.
func (s *Sender) divertRetry(h *sendHeader) error {
	group, ok := strings.CutPrefix(h.topic, body.RetryGroupPrefix)
	if !ok || h.batch {
		return nil
	}
	g, ok := s.cfg.Groups.Group(group)
	if !ok {
		return reply.Errorf(reply.ErrSubscriptionGroupNotExist, "subscription group not exist, %s", group)
	}
	maxTimes := g.RetryMaxTimes
	if h.hasMaxReconsumeTimes {
		maxTimes = h.maxReconsumeTimes
	}
	if h.reconsumeTimes < maxTimes {
		return nil
	}
	h.topic, h.queueID, h.deadLetter = body.DLQTopic(group), 0, true
	h.properties = message.RemoveProperty(h.properties, message.PropertyDelay)
	return nil
}

// createDLQ creates a dead-letter topic (body.DLQTopicConfig, as the retry
// actor does) unless it exists. Creation child (offload.Run).
func createDLQ(ctx context.Context, t Topics, g Groups, topic string) error {
	if _, ok := t.Topic(topic); ok {
		return nil
	}
	_, err := g.CreateTopic(ctx, body.DLQTopicConfig(topic))
	return err
}
