package check

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/actormq/actormq/sim/history"
	"github.com/actormq/actormq/wire/remoting"
)

// checkDeliveries runs phantom (delivery side), corrupt-served,
// delivery-matches-log, pull-dense and delivered-all.
func (c *checker) checkDeliveries() {
	lost := map[string]bool{}
	type sessionState struct {
		next int64 // offset the next delivery must carry; -1 before the first
	}
	type sessionKey struct {
		group   string
		session int64
	}
	sessions := map[sessionKey]*sessionState{}
	seen := map[string]map[string]bool{} // group → ids delivered
	for _, e := range c.evs {
		switch e.Kind {
		case history.Deliver:
		case history.Pulled:
			s := sessions[sessionKey{e.Group, e.Session}]
			if s == nil {
				s = &sessionState{next: -1}
				sessions[sessionKey{e.Group, e.Session}] = s
			}
			switch {
			case e.Code == remoting.RespPullOffsetMoved:
				s.next = e.Offset
			case e.Offset != e.Req:
				c.fail("pull-dense", byQueue(e.Group, e.Queue), "group %s queue %d: a pull at %d answered code %d with nextBeginOffset %d",
					e.Group, e.Queue, e.Req, e.Code, e.Offset)
			}
			continue
		default:
			continue
		}
		c.stats.Delivered++
		if seen[e.Group] == nil {
			seen[e.Group] = map[string]bool{}
		}
		if seen[e.Group][e.ID] {
			c.stats.Redelivered++
		}
		seen[e.Group][e.ID] = true
		if e.Detail != "" {
			c.fail("corrupt-served", byID(e.ID), "group %s got a bad record at queue %d offset %d: %s", e.Group, e.Queue, e.Offset, e.Detail)
			continue
		}
		if c.sends[e.ID] == nil {
			c.fail("phantom", byQueue(e.Group, e.Queue), "group %s got id %q at queue %d offset %d, never sent", e.Group, e.ID, e.Queue, e.Offset)
			continue
		}
		if e.Offset != e.Req+int64(e.Index) {
			c.fail("pull-dense", byQueue(e.Group, e.Queue), "group %s queue %d: a pull at %d returned offset %d as record %d",
				e.Group, e.Queue, e.Req, e.Offset, e.Index)
		}
		s := sessions[sessionKey{e.Group, e.Session}]
		if s == nil {
			s = &sessionState{next: -1}
			sessions[sessionKey{e.Group, e.Session}] = s
		}
		if s.next >= 0 && e.Offset != s.next {
			c.fail("pull-dense", byQueue(e.Group, e.Queue), "group %s queue %d session %d: delivered offset %d, expected %d",
				e.Group, e.Queue, e.Session, e.Offset, s.next)
		}
		s.next = e.Offset + 1
		if c.st == nil {
			continue
		}
		recs := c.log[e.ID]
		switch {
		case len(recs) == 0 && c.lostUnacked(e.ID):
			if !lost[e.ID] {
				lost[e.ID] = true
				c.stats.LostUnacked++
			}
		case len(recs) == 0:
			c.fail("delivery-matches-log", byID(e.ID), "group %s got id %s at queue %d offset %d; it is not in the CommitLog and no power cut excuses it",
				e.Group, e.ID, e.Queue, e.Offset)
		case !slices.ContainsFunc(recs, func(r Record) bool { return r.Queue == e.Queue && r.QueueOffset == e.Offset }):
			c.fail("delivery-matches-log", byID(e.ID), "group %s got id %s at queue %d offset %d; the CommitLog has it at queue %d offset %d",
				e.Group, e.ID, e.Queue, e.Offset, recs[0].Queue, recs[0].QueueOffset)
		}
	}
	if c.st == nil || !c.cfg.Drained {
		return
	}
	for _, g := range c.cfg.Groups {
		var missing []Record
		for _, r := range c.st.Records {
			if r.Topic != c.cfg.Topic || r.ID == "" || seen[g.Name][r.ID] {
				continue
			}
			if c.reusedAfterDamage(g.Name, r) {
				c.stats.SkippedAfterDamage++
				continue
			}
			missing = append(missing, r)
		}
		for _, r := range missing[:min(len(missing), violationsMax)] {
			// Also what the group got at that queue offset instead.
			match := func(e history.Event) bool {
				return e.ID == r.ID || (e.Kind == history.Deliver && e.Group == g.Name && e.Queue == r.Queue && e.Offset == r.QueueOffset)
			}
			c.fail("delivered-all", match, "group %s never got id %s (queue %d offset %d; %d records missed in all)",
				g.Name, r.ID, r.Queue, r.QueueOffset, len(missing))
		}
	}
}

// reusedAfterDamage reports whether r was stored (its send answered)
// after the driver damaged a record of its queue at or below r's offset,
// at an offset the group had consumed past by then: recovery cut the queue
// back at the damage, r got a queue offset again that the group's
// consumers remember as consumed, and they skip it (RocketMQ's consumers
// do the same: a queue offset is not expected to be reused).
func (c *checker) reusedAfterDamage(group string, r Record) bool {
	s := c.sends[r.ID]
	if s == nil {
		return false
	}
	stored := s.send.Seq
	if s.outcome.Kind != "" {
		stored = s.outcome.Seq
	}
	reached := int64(-1) // the group's highest delivered offset of r's queue so far
	for _, e := range c.evs {
		switch {
		case e.Seq > stored:
			return false
		case e.Kind == history.Deliver && e.Group == group && e.Queue == r.Queue:
			reached = max(reached, e.Offset)
		case e.Kind == history.Damaged && e.Queue == r.Queue && e.Offset <= r.QueueOffset && r.QueueOffset <= reached:
			return true
		}
	}
	return false
}

// checkOrder runs order: per orderly session, per key, acknowledged
// messages in send order; and in the log, per key, in send order.
func (c *checker) checkOrder() {
	last := map[string]map[string]history.Event{} // group/session → key → last delivery
	for _, e := range c.evs {
		if e.Kind != history.Deliver || !c.groups[e.Group].Orderly || e.Detail != "" {
			continue
		}
		s := c.sends[e.ID]
		if s == nil || s.send.Key == "" || !s.acked() {
			continue
		}
		session := e.Group + "/" + strconv.FormatInt(e.Session, 10)
		if last[session] == nil {
			last[session] = map[string]history.Event{}
		}
		prev, ok := last[session][s.send.Key]
		if ok && c.sends[prev.ID].send.KeySeq > s.send.KeySeq {
			c.fail("order", byID(prev.ID, e.ID), "group %s session %d: key %s message #%d (%s) delivered after #%d (%s)",
				e.Group, e.Session, s.send.Key, s.send.KeySeq, e.ID, c.sends[prev.ID].send.KeySeq, prev.ID)
		}
		last[session][s.send.Key] = e
	}
	if c.st == nil {
		return
	}
	byKey := map[string][]*sendInfo{}
	for _, s := range c.sends {
		if s.send.Key != "" && s.acked() && len(c.log[s.send.ID]) > 0 {
			byKey[s.send.Key] = append(byKey[s.send.Key], s)
		}
	}
	for key, ss := range byKey {
		slices.SortFunc(ss, func(a, b *sendInfo) int { return cmp.Compare(a.send.KeySeq, b.send.KeySeq) })
		for i := 1; i < len(ss); i++ {
			a, b := c.log[ss[i-1].send.ID][0], c.log[ss[i].send.ID][0]
			if a.Queue != b.Queue || a.QueueOffset > b.QueueOffset {
				c.fail("order", byID(ss[i-1].send.ID, ss[i].send.ID), "key %s: #%d is stored at queue %d offset %d, after #%d at queue %d offset %d",
					key, ss[i-1].send.KeySeq, a.Queue, a.QueueOffset, ss[i].send.KeySeq, b.Queue, b.QueueOffset)
			}
		}
	}
}

// checkLocks runs lock-exclusive: every delivery to an orderly consumer
// comes from a pull it sent while it held the queue's lock (granted or
// renewed before the pull), and no other consumer of the group was granted
// that lock after it and before the pull, unless the broker restarted in
// between (it forgets its locks; the consumer learns at its next renewal).
func (c *checker) checkLocks() {
	type lockKey struct {
		group string
		queue int32
	}
	locks := map[lockKey][]history.Event{} // Lock and Unlock events in order
	var downs []int64                      // Seq of every BrokerDown
	restartBetween := func(a, b int64) bool {
		return slices.ContainsFunc(downs, func(d int64) bool { return a < d && d < b })
	}
	for _, e := range c.evs {
		k := lockKey{e.Group, e.Queue}
		switch {
		case e.Kind == history.BrokerDown:
			downs = append(downs, e.Seq)
		case e.Kind == history.Lock || e.Kind == history.Unlock:
			locks[k] = append(locks[k], e)
		case e.Kind == history.Deliver && c.groups[e.Group].Orderly:
			held, holderSince := false, int64(-1)
			var rival *history.Event
			for i, l := range locks[k] {
				if l.Seq >= e.Issued {
					break
				}
				switch {
				case l.Actor == e.Actor && l.Kind == history.Lock:
					held, holderSince, rival = true, l.Seq, nil
				case l.Actor == e.Actor:
					held = false
				case l.Kind == history.Lock && held && !restartBetween(holderSince, l.Seq):
					rival = &locks[k][i]
				}
			}
			switch {
			case !held:
				c.fail("lock-exclusive", byQueue(e.Group, e.Queue), "group %s queue %d: %s got offset %d from a pull it sent without holding the lock",
					e.Group, e.Queue, e.Actor, e.Offset)
			case rival != nil:
				c.fail("lock-exclusive", byQueue(e.Group, e.Queue), "group %s queue %d: %s got offset %d from a pull sent after %s was granted the lock (%s's lock since event #%d)",
					e.Group, e.Queue, e.Actor, e.Offset, rival.Actor, e.Actor, holderSince)
			}
		}
	}
}
