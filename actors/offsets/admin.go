package offsets

import (
	"context"
	"sort"
)

// What the admin requests (package actors/admin) read from and do to the
// offset table.

// Messages of the admin changes (answered with okReply or an error).
type (
	cleanTopic struct{ topic string }
	cleanGroup struct{ group string }
	setOffsets struct {
		group, topic string
		offsets      map[int32]int64
	}
)

// TopicsOf returns the topics group has offsets for, sorted (Java's
// whichTopicByConsumer). Lock-free; any goroutine.
func (m *Manager) TopicsOf(group string) []string {
	return m.distinct(func(k key) (string, bool) { return k.topic, k.group == group })
}

// GroupsOf returns the groups that have offsets on topic, sorted (Java's
// whichGroupByTopic). Lock-free; any goroutine.
func (m *Manager) GroupsOf(topic string) []string {
	return m.distinct(func(k key) (string, bool) { return k.group, k.topic == topic })
}

func (m *Manager) distinct(pick func(key) (string, bool)) []string {
	seen := map[string]bool{}
	var out []string
	m.live.Range(func(k, _ any) bool {
		if s, ok := pick(k.(key)); ok && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
		return true
	})
	sort.Strings(out)
	return out
}

// CleanTopic removes every offset on topic (topic deletion); the file is
// rewritten at the next flush. Blocking (future); not on gnet loops.
func (m *Manager) CleanTopic(ctx context.Context, topic string) error {
	_, err := m.ask(ctx, &cleanTopic{topic: topic})
	return err
}

// CleanGroup removes every offset of group (DELETE_SUBSCRIPTIONGROUP with
// cleanOffset). Blocking (future); not on gnet loops.
func (m *Manager) CleanGroup(ctx context.Context, group string) error {
	_, err := m.ask(ctx, &cleanGroup{group: group})
	return err
}

// Set stores offsets (queue id → offset) of group on topic at once, as a
// reset by the admin does; negative offsets are ignored. It returns when the
// offsets are visible to Offset and QUERY_CONSUMER_OFFSET. Blocking
// (future); not on gnet loops.
func (m *Manager) Set(ctx context.Context, group, topic string, offsets map[int32]int64) error {
	_, err := m.ask(ctx, &setOffsets{group: group, topic: topic, offsets: offsets})
	return err
}

// remove drops the entries pick selects. Offset actor.
func (a *offsetActor) remove(pick func(key) bool) {
	for k := range a.entries {
		if pick(k) {
			delete(a.entries, k)
			a.m.live.Delete(k)
			a.dirty = true
		}
	}
}
