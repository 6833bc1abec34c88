package meta

import (
	"context"
	"fmt"
	"strings"

	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/wire/body"
)

// CreateTopic creates or replaces the config of tc.TopicName, persists it,
// bumps the DataVersion and notifies the OnTopicsChanged listeners. It fails
// with reply.ErrInvalidParameter for a bad name, permission or queue count.
// Blocking (future to the actor); never call it from a gnet loop.
func (m *Metadata) CreateTopic(ctx context.Context, tc body.TopicConfig) (body.TopicConfig, error) {
	res, err := m.ask(ctx, &createTopic{tc: tc})
	if err != nil {
		return body.TopicConfig{}, err
	}
	return res.(topicReply).tc, nil
}

// AutoCreateTopic creates topic on first send (wire doc §6.1 step 5) and
// returns its config; it returns the existing config when the topic exists.
// %RETRY% topics get one queue, perm RW. Any other topic needs defaultTopic
// to exist with the INHERIT perm; it gets min(queueNums, template
// writeQueueNums) queues and the template's perm without INHERIT. Otherwise
// the error is reply.ErrTopicNotExist with Java's remark.
// Blocking (future to the actor); never call it from a gnet loop.
func (m *Metadata) AutoCreateTopic(ctx context.Context, topic, defaultTopic string, queueNums int32) (body.TopicConfig, error) {
	if tc, ok := m.Topic(topic); ok {
		return tc, nil
	}
	res, err := m.ask(ctx, &autoCreate{topic: topic, defaultTopic: defaultTopic, queueNums: queueNums})
	if err != nil {
		return body.TopicConfig{}, err
	}
	return res.(topicReply).tc, nil
}

// validateTopicConfig checks what an admin or a caller may set.
func validateTopicConfig(tc body.TopicConfig) error {
	if err := body.ValidateTopic(tc.TopicName); err != nil {
		return fmt.Errorf("%w: %w", reply.ErrInvalidParameter, err)
	}
	if tc.Perm < 0 || tc.Perm >= 8 {
		return reply.Errorf(reply.ErrInvalidParameter, "topic[%s] perm %d is invalid", tc.TopicName, tc.Perm)
	}
	if tc.ReadQueueNums < 0 || tc.WriteQueueNums < 0 {
		return reply.Errorf(reply.ErrInvalidParameter, "topic[%s] queue nums must not be negative", tc.TopicName)
	}
	return nil
}

// createTopic is CreateTopic on the actor goroutine.
func (a *metaActor) createTopic(tc body.TopicConfig) (body.TopicConfig, error) {
	if err := validateTopicConfig(tc); err != nil {
		return body.TopicConfig{}, err
	}
	tc = normalizeTopic(tc)
	if err := a.putTopic(tc); err != nil {
		return body.TopicConfig{}, err
	}
	a.m.log.Debug().Str("topic", tc.TopicName).Int32("queues", tc.WriteQueueNums).Int32("perm", tc.Perm).Msg("topic created or updated")
	return tc, nil
}

// autoCreateTopic is AutoCreateTopic on the actor goroutine. Checking again
// here makes concurrent auto-creates of one topic idempotent.
func (a *metaActor) autoCreateTopic(topic, defaultTopic string, queueNums int32) (body.TopicConfig, error) {
	if tc, ok := a.m.Topic(topic); ok {
		return tc, nil
	}
	if err := body.ValidateTopic(topic); err != nil {
		return body.TopicConfig{}, fmt.Errorf("%w: %w", reply.ErrInvalidParameter, err)
	}
	var tc body.TopicConfig
	if strings.HasPrefix(topic, body.RetryGroupPrefix) {
		tc = newTopic(topic, 1, permRW)
	} else {
		tmpl, ok := a.m.Topic(defaultTopic)
		if !ok || tmpl.Perm&body.PermInherit == 0 {
			return body.TopicConfig{}, reply.Errorf(reply.ErrTopicNotExist,
				"topic[%s] not exist, apply first please!", topic)
		}
		queues := min(queueNums, tmpl.WriteQueueNums)
		if queues < 0 {
			queues = 0
		}
		tc = newTopic(topic, queues, tmpl.Perm&^body.PermInherit)
		tc.TopicFilterType = tmpl.TopicFilterType
	}
	if err := a.putTopic(tc); err != nil {
		return body.TopicConfig{}, err
	}
	a.m.log.Info().Str("topic", topic).Str("defaultTopic", defaultTopic).Int32("queues", tc.WriteQueueNums).Msg("topic auto-created")
	return tc, nil
}

// putTopic applies the change contract of the package comment to one topic.
func (a *metaActor) putTopic(tc body.TopicConfig) error {
	cur := a.m.topics.Load()
	next := &topicTable{byName: make(map[string]body.TopicConfig, len(cur.byName)+1), version: cur.version.Next()}
	for k, v := range cur.byName {
		next.byName[k] = v
	}
	next.byName[tc.TopicName] = tc
	if err := a.persistTopics(next); err != nil {
		a.m.log.Error().Err(err).Str("topic", tc.TopicName).Msg("topic change dropped")
		return err
	}
	a.m.topics.Store(next)
	a.m.notifyTopicsChanged()
	return nil
}
