package meta

import (
	"fmt"
	"path/filepath"

	"github.com/actormq/actormq/storage/metadata"
	"github.com/actormq/actormq/wire/body"
)

// Topic defaults (wire doc §10).
const (
	filterSingleTag = "SINGLE_TAG"
	permRW          = body.PermRead | body.PermWrite
	permRWX         = body.PermRead | body.PermWrite | body.PermInherit
)

// load reads both files, applies the system topics and publishes the tables.
// Goroutine: the actor's (Started).
//
// Java writes these files with fastjson (unquoted integer keys, tab
// indentation); body.DecodeJSON accepts that form. We write compact standard
// JSON, which Java reads too. storage/metadata.LoadInto falls back to the
// .bak copy when the file is missing or unreadable.
func (a *metaActor) load() error {
	m := a.m
	if err := m.fs.MkdirAll(m.dir, 0o755); err != nil {
		return fmt.Errorf("%w: mkdir %s: %w", ErrLoad, m.dir, err)
	}

	var tw body.TopicConfigSerializeWrapper
	topicsFound, err := metadata.LoadInto(m.fs, m.path(TopicsFile), func(b []byte) error {
		tw = body.TopicConfigSerializeWrapper{}
		return body.DecodeJSON(b, &tw)
	})
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrLoad, TopicsFile, err)
	}
	topics := &topicTable{byName: make(map[string]body.TopicConfig, len(tw.TopicConfigTable)+4), version: tw.DataVersion}
	for name, tc := range tw.TopicConfigTable {
		tc.TopicName = name // the key is authoritative
		topics.byName[name] = normalizeTopic(tc)
	}
	if a.applySystemTopics(topics.byName) || !topicsFound {
		topics.version = topics.version.Next()
		if err := a.persistTopics(topics); err != nil {
			return err
		}
	}

	var gw body.SubscriptionGroupWrapper
	groupsFound, err := metadata.LoadInto(m.fs, m.path(GroupsFile), func(b []byte) error {
		gw = body.SubscriptionGroupWrapper{}
		return body.DecodeJSON(b, &gw)
	})
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrLoad, GroupsFile, err)
	}
	groups := &groupTable{
		byName:    make(map[string]body.SubscriptionGroupConfig, len(gw.SubscriptionGroupTable)),
		forbidden: gw.ForbiddenTable,
		version:   gw.DataVersion,
	}
	if groups.forbidden == nil {
		groups.forbidden = map[string]map[string]int32{}
	}
	for name, g := range gw.SubscriptionGroupTable {
		g.GroupName = name
		groups.byName[name] = normalizeGroup(g)
	}
	if !groupsFound {
		if err := a.persistGroups(groups); err != nil {
			return err
		}
	}

	m.topics.Store(topics)
	m.groups.Store(groups)
	m.log.Debug().Int("topics", len(topics.byName)).Int("groups", len(groups.byName)).
		Int64("topicsVersion", topics.version.Counter).Msg("metadata loaded")
	return nil
}

// applySystemTopics adds the topics the broker creates at start and reports
// whether the table changed. Existing entries (from the file) win, as in Java,
// where the file is loaded over the built-in entries. TBW102 exists only while
// autoCreateTopicEnable: its INHERIT bit is what allows auto-creation, so a
// leftover entry from an earlier run with the option on is removed.
func (a *metaActor) applySystemTopics(t map[string]body.TopicConfig) bool {
	cfg := a.m.cfg
	changed := false
	add := func(name string, queues, perm int32) {
		if name == "" {
			return
		}
		if _, ok := t[name]; ok {
			return
		}
		t[name] = newTopic(name, queues, perm)
		changed = true
	}
	if cfg.AutoCreateTopicEnable {
		queues := cfg.DefaultTopicQueueNums
		if queues <= 0 {
			queues = 8
		}
		add(body.DefaultTopic, queues, permRWX)
	} else if _, ok := t[body.DefaultTopic]; ok {
		delete(t, body.DefaultTopic)
		changed = true
	}
	add(body.SelfTestTopic, 1, permRW)
	// Broker-internal topics (storage-format.md §13): delay levels, half and
	// op messages of transactions, and the reply topic request-reply
	// responders send to.
	add(body.ScheduleTopic, int32(max(len(cfg.DelayLevels()), 1)), permRW)
	add(body.TransHalfTopic, 1, permRW)
	add(body.TransOpHalfTopic, 1, permRW)
	add(body.OffsetMovedTopic, 1, permRW)
	if cfg.BrokerClusterName != "" {
		add(cfg.BrokerClusterName+body.ReplyTopicSuffix, 1, permRW)
	}
	// Java gives these R|W|INHERIT when clusterTopicEnable / brokerTopicEnable
	// (both default true) so that tools can send to "the cluster" or "the
	// broker"; one queue is enough for that.
	add(cfg.BrokerClusterName, 1, permRWX)
	add(cfg.BrokerName, 1, permRWX)
	return changed
}

// persistTopics writes t to topics.json. Goroutine: the actor's.
func (a *metaActor) persistTopics(t *topicTable) error {
	data := body.EncodeJSON(body.TopicConfigSerializeWrapper{TopicConfigTable: t.byName, DataVersion: t.version})
	if err := metadata.Save(a.m.fs, a.m.path(TopicsFile), data); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrPersist, TopicsFile, err)
	}
	return nil
}

// persistGroups writes g to subscriptionGroup.json. Goroutine: the actor's.
func (a *metaActor) persistGroups(g *groupTable) error {
	data := body.EncodeJSON(body.SubscriptionGroupWrapper{
		SubscriptionGroupTable: g.byName, ForbiddenTable: g.forbidden, DataVersion: g.version,
	})
	if err := metadata.Save(a.m.fs, a.m.path(GroupsFile), data); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrPersist, GroupsFile, err)
	}
	return nil
}

// persistAll rewrites both files from the published tables (shutdown).
func (a *metaActor) persistAll() error {
	if err := a.persistTopics(a.m.topics.Load()); err != nil {
		return err
	}
	return a.persistGroups(a.m.groups.Load())
}

func (m *Metadata) path(name string) string { return filepath.Join(m.dir, name) }

// nextVersion is Java's DataVersion.nextVersion: new timestamp, counter+1.
func newTopic(name string, queues, perm int32) body.TopicConfig {
	return body.TopicConfig{
		TopicName: name, ReadQueueNums: queues, WriteQueueNums: queues, Perm: perm,
		TopicFilterType: filterSingleTag, Attributes: map[string]string{},
	}
}

// normalizeTopic fills what Java always writes, so re-encoded tables are
// complete (attributes `{}` rather than null).
func normalizeTopic(tc body.TopicConfig) body.TopicConfig {
	if tc.TopicFilterType == "" {
		tc.TopicFilterType = filterSingleTag
	}
	if tc.Attributes == nil {
		tc.Attributes = map[string]string{}
	}
	return tc
}

func normalizeGroup(g body.SubscriptionGroupConfig) body.SubscriptionGroupConfig {
	if g.Attributes == nil {
		g.Attributes = map[string]string{}
	}
	return g
}
