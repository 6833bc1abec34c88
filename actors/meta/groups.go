package meta

import (
	"context"
	"fmt"
	"time"

	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/wire/body"
	"github.com/asynkron/protoactor-go/actor"
)

// topicSysFlagUnitSub is TopicSysFlag bit 1 (wire doc §10.3), set on the
// retry topic of a unit-mode consumer group.
const topicSysFlagUnitSub = 1 << 1

// ConsumerGroupSpec is one consumer group seen in a heartbeat.
type ConsumerGroupSpec struct {
	Group    string
	UnitMode bool
}

// EnsureGroup returns the group's config, auto-creating it with Java's
// defaults when AutoCreateSubscriptionGroup; otherwise a missing group fails
// with reply.ErrSubscriptionGroupNotExist.
// Blocking (future to the actor); never call it from a gnet loop.
func (m *Metadata) EnsureGroup(ctx context.Context, name string) (body.SubscriptionGroupConfig, error) {
	if g, ok := m.Group(name); ok {
		return g, nil
	}
	res, err := m.ask(ctx, &ensureGroup{name: name})
	if err != nil {
		return body.SubscriptionGroupConfig{}, err
	}
	return res.(groupReply).cfg, nil
}

// PrepareConsumerGroupsFuture asks the actor to make each group ready for
// consumption (wire doc §6.3 HEART_BEAT): the group is auto-created when
// missing and allowed (groups that are missing and not allowed are skipped),
// and its retry topic %RETRY%<group> is created when missing, with the group's
// retryQueueNums queues and perm RW. Non-blocking: it returns the future,
// which an actor can wait on with ReenterAfter; decode its outcome with
// PrepareResult. Any goroutine.
func (m *Metadata) PrepareConsumerGroupsFuture(specs []ConsumerGroupSpec, timeout time.Duration) *actor.Future {
	return m.system.Root.RequestFuture(m.pid, &prepareGroups{specs: specs}, timeout)
}

// PrepareResult decodes the outcome of a PrepareConsumerGroupsFuture.
func PrepareResult(res interface{}, err error) error {
	_, err = futureResult(res, err)
	return err
}

// PrepareConsumerGroups is the blocking form of PrepareConsumerGroupsFuture.
func (m *Metadata) PrepareConsumerGroups(ctx context.Context, specs []ConsumerGroupSpec) error {
	_, err := m.ask(ctx, &prepareGroups{specs: specs})
	return err
}

// ensureGroup is EnsureGroup on the actor goroutine.
func (a *metaActor) ensureGroup(name string) (body.SubscriptionGroupConfig, error) {
	if g, ok := a.m.Group(name); ok {
		return g, nil
	}
	if !a.m.cfg.AutoCreateSubscriptionGroup {
		return body.SubscriptionGroupConfig{}, reply.Errorf(reply.ErrSubscriptionGroupNotExist,
			"subscription group [%s] does not exist", name)
	}
	if err := body.ValidateGroup(name); err != nil {
		return body.SubscriptionGroupConfig{}, fmt.Errorf("%w: %w", reply.ErrInvalidParameter, err)
	}
	g := body.DefaultSubscriptionGroup(name)
	if err := a.putGroup(g); err != nil {
		return body.SubscriptionGroupConfig{}, err
	}
	a.m.log.Info().Str("group", name).Msg("subscription group auto-created")
	return g, nil
}

// updateGroup creates or replaces a group's config (admin request 200).
func (a *metaActor) updateGroup(g body.SubscriptionGroupConfig) error {
	if err := body.ValidateGroup(g.GroupName); err != nil {
		return fmt.Errorf("%w: %w", reply.ErrInvalidParameter, err)
	}
	return a.putGroup(normalizeGroup(g))
}

// putGroup applies the change contract of the package comment to one group.
func (a *metaActor) putGroup(g body.SubscriptionGroupConfig) error {
	cur := a.m.groups.Load()
	next := &groupTable{
		byName:    make(map[string]body.SubscriptionGroupConfig, len(cur.byName)+1),
		forbidden: cur.forbidden,
		version:   cur.version.Next(),
	}
	for k, v := range cur.byName {
		next.byName[k] = v
	}
	next.byName[g.GroupName] = g
	if err := a.persistGroups(next); err != nil {
		a.m.log.Error().Err(err).Str("group", g.GroupName).Msg("group change dropped")
		return err
	}
	a.m.groups.Store(next)
	return nil
}

// prepareGroups is PrepareConsumerGroups on the actor goroutine. It stops at
// the first persist failure; what was created before stays.
func (a *metaActor) prepareGroups(specs []ConsumerGroupSpec) error {
	for _, s := range specs {
		g, ok := a.m.Group(s.Group)
		if !ok {
			if !a.m.cfg.AutoCreateSubscriptionGroup {
				continue
			}
			var err error
			if g, err = a.ensureGroup(s.Group); err != nil {
				return err
			}
		}
		retry := body.RetryTopic(s.Group)
		if _, ok := a.m.Topic(retry); ok {
			continue
		}
		queues := g.RetryQueueNums
		if queues <= 0 {
			queues = 1
		}
		tc := newTopic(retry, queues, permRW)
		if s.UnitMode {
			tc.TopicSysFlag = topicSysFlagUnitSub
		}
		if err := body.ValidateTopic(retry); err != nil {
			return fmt.Errorf("%w: %w", reply.ErrInvalidParameter, err)
		}
		if err := a.putTopic(tc); err != nil {
			return err
		}
		a.m.log.Debug().Str("topic", retry).Msg("retry topic created")
	}
	return nil
}
