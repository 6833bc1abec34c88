package check

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/actormq/actormq/sim/history"
)

// checkLog runs log-valid, acked-once, at-most-once and phantom (log side).
func (c *checker) checkLog() {
	for _, p := range c.st.Problems {
		c.fail("log-valid", nil, "%s", p)
	}
	c.checkQueues()
	ids := make([]string, 0, len(c.log))
	for id := range c.log {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		recs := c.log[id]
		s := c.sends[id]
		switch {
		case s == nil:
			c.fail("phantom", nil, "record at commitlog offset %d (queue %d offset %d) carries id %q, never sent", recs[0].Phys, recs[0].Queue, recs[0].QueueOffset, id)
			continue
		case len(recs) > 1:
			c.fail("at-most-once", byID(id), "id %s is in the CommitLog %d times (offsets %v)", id, len(recs), physOffsets(recs))
		}
		if c.cfg.Body != nil && !bytes.Equal(recs[0].Body, c.cfg.Body(id)) {
			c.fail("log-valid", byID(id), "id %s: the stored body differs from the one sent", id)
		}
	}
	for id, s := range c.sends {
		if !s.acked() {
			continue
		}
		recs := c.log[id]
		switch {
		case len(recs) == 0 && c.damaged[id]:
		case len(recs) == 0:
			c.fail("acked-once", byID(id), "id %s was acknowledged (queue %d offset %d) but is not in the CommitLog", id, s.outcome.Queue, s.outcome.Offset)
		case recs[0].Queue != s.outcome.Queue || recs[0].QueueOffset != s.outcome.Offset:
			c.fail("acked-once", byID(id), "id %s was acknowledged at queue %d offset %d but is stored at queue %d offset %d",
				id, s.outcome.Queue, s.outcome.Offset, recs[0].Queue, recs[0].QueueOffset)
		}
	}
}

func physOffsets(recs []Record) []int64 {
	out := make([]int64, len(recs))
	for i, r := range recs {
		out[i] = r.Phys
	}
	return out
}

// checkQueues: per queue, dense queue offsets in the log, and a consume
// queue that indexes exactly those records.
func (c *checker) checkQueues() {
	byPhys := make(map[int64]*Record, len(c.st.Records))
	perQueue := map[QueueKey][]*Record{}
	for i := range c.st.Records {
		r := &c.st.Records[i]
		byPhys[r.Phys] = r
		if r.Topic == c.cfg.Topic {
			k := QueueKey{Topic: r.Topic, Queue: r.Queue}
			perQueue[k] = append(perQueue[k], r)
		}
	}
	for k, recs := range perQueue {
		for i := 1; i < len(recs); i++ {
			if recs[i].QueueOffset != recs[i-1].QueueOffset+1 {
				c.fail("log-valid", byQueue("", k.Queue), "queue %d: the record at commitlog offset %d has queue offset %d after %d (not dense)",
					k.Queue, recs[i].Phys, recs[i].QueueOffset, recs[i-1].QueueOffset)
			}
		}
		units := c.st.Queues[k]
		if len(recs) > 0 && int64(len(units)) != recs[len(recs)-1].QueueOffset+1 {
			c.fail("log-valid", byQueue("", k.Queue), "queue %d: consume queue has %d units, the CommitLog's last record of the queue has queue offset %d",
				k.Queue, len(units), recs[len(recs)-1].QueueOffset)
		}
	}
	for k, units := range c.st.Queues {
		if k.Topic != c.cfg.Topic {
			continue
		}
		for i, u := range units {
			if u.Size == 0 {
				continue // filler below the min offset
			}
			r := byPhys[u.Phys]
			if r == nil || r.Size != u.Size || r.Topic != k.Topic || r.Queue != k.Queue || r.QueueOffset != int64(i) {
				c.fail("log-valid", byQueue("", k.Queue), "queue %d unit %d (commitlog offset %d size %d) %s",
					k.Queue, i, u.Phys, u.Size, describeUnitTarget(r))
			}
		}
	}
}

func describeUnitTarget(r *Record) string {
	if r == nil {
		return "points at no record"
	}
	return fmt.Sprintf("points at a record of %s queue %d offset %d size %d", r.Topic, r.Queue, r.QueueOffset, r.Size)
}

// lostUnacked reports whether a missing delivered id is excused: never
// acknowledged, and a power cut came after its send; or damaged on disk.
func (c *checker) lostUnacked(id string) bool {
	s := c.sends[id]
	return c.damaged[id] || (s != nil && !s.acked() && c.cutAfter(s.send.Seq))
}

// deliveriesOf lists a group's Deliver events by id (used by several
// invariants).
func deliveriesOf(evs []history.Event, group string) map[string][]history.Event {
	out := map[string][]history.Event{}
	for _, e := range evs {
		if e.Kind == history.Deliver && e.Group == group {
			out[e.ID] = append(out[e.ID], e)
		}
	}
	return out
}
