package locks

import (
	"time"

	"github.com/actormq/actormq/wire/body"
)

// holder is the client holding one queue's lock and its last renewal.
type holder struct {
	clientID string
	renewed  time.Time
}

// table is the lock state: consumer group → message queue → holder. It is
// plain data owned by the locks actor; expiry is evaluated when a lock is
// asked for, so no timer runs.
type table struct {
	expiry time.Duration
	groups map[string]map[body.MessageQueue]*holder
}

func newTable(expiry time.Duration) *table {
	return &table{expiry: expiry, groups: make(map[string]map[body.MessageQueue]*holder)}
}

// lock grants clientID each queue of mqs that is free, expired or already
// its own (a renewal), and returns the queues it now holds, each once, in
// request order (Java's lockOKMQSet).
func (t *table) lock(group, clientID string, mqs []body.MessageQueue, now time.Time) []body.MessageQueue {
	held := t.groups[group]
	if held == nil {
		held = make(map[body.MessageQueue]*holder, len(mqs))
		t.groups[group] = held
	}
	ok := make([]body.MessageQueue, 0, len(mqs))
	seen := make(map[body.MessageQueue]bool, len(mqs))
	for _, mq := range mqs {
		if seen[mq] {
			continue
		}
		seen[mq] = true
		h := held[mq]
		if h != nil && h.clientID != clientID && now.Sub(h.renewed) <= t.expiry {
			continue // another client's live lock
		}
		if h == nil {
			h = &holder{}
			held[mq] = h
		}
		h.clientID, h.renewed = clientID, now
		ok = append(ok, mq)
	}
	if len(held) == 0 {
		delete(t.groups, group)
	}
	return ok
}

// unlock releases the queues of mqs that clientID holds; others' locks
// stay.
func (t *table) unlock(group, clientID string, mqs []body.MessageQueue) {
	held := t.groups[group]
	for _, mq := range mqs {
		if h := held[mq]; h != nil && h.clientID == clientID {
			delete(held, mq)
		}
	}
	if held != nil && len(held) == 0 {
		delete(t.groups, group)
	}
}

// releaseClient releases every lock clientID holds, in every group, and
// returns how many.
func (t *table) releaseClient(clientID string) int {
	n := 0
	for group, held := range t.groups {
		for mq, h := range held {
			if h.clientID == clientID {
				delete(held, mq)
				n++
			}
		}
		if len(held) == 0 {
			delete(t.groups, group)
		}
	}
	return n
}
