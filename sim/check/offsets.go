package check

import (
	"slices"
	"time"

	"github.com/actormq/actormq/sim/history"
)

// offsetKey names one consumer offset.
type offsetKey struct {
	group, topic string
	queue        int32
}

// commitRec is one commit of the current broker run: acknowledged, or sent
// with an unknown outcome.
type commitRec struct {
	value int64
	at    time.Duration
	acked bool
}

// offsetState follows one consumer offset through the history.
type offsetState struct {
	run   []commitRec // commits since the broker last started
	floor int64       // the lowest value the broker may hold from earlier runs; -1: none
	known map[int64]bool
}

// lowest is the lowest value the broker may hold for this offset if it
// persisted at cutoff: the last acknowledged commit at or before cutoff
// (the floor when there is none in this run), or any value committed
// after it. ok is false when nothing at all must be held.
func (s *offsetState) lowest(cutoff time.Duration) (v int64, ok bool) {
	base, from := s.floor, 0
	for i, r := range s.run {
		if r.acked && r.at <= cutoff {
			base, from = r.value, i+1
		}
	}
	v, ok = base, base >= 0
	for _, r := range s.run[from:] {
		if !ok || r.value < v {
			v, ok = r.value, true
		}
	}
	return v, ok
}

// offsetEventsShown bounds the commits and reads an offsets violation
// shows.
const offsetEventsShown = 20

// offsetWindow matches the last commits and reads of read's group queue
// up to read.
func (c *checker) offsetWindow(read history.Event) func(history.Event) bool {
	var seqs []int64
	for _, e := range c.evs[:read.Seq+1] {
		switch e.Kind {
		case history.Commit, history.CommitSent, history.OffsetRead:
			if e.Queue == read.Queue && e.Group == read.Group {
				seqs = append(seqs, e.Seq)
			}
		}
	}
	seqs = seqs[max(len(seqs)-offsetEventsShown, 0):]
	return func(e history.Event) bool { return slices.Contains(seqs, e.Seq) }
}

// crashWindow is how far back a crash may revert consumer offsets: two
// persist periods (one may be running late) and a second of slack.
func (c *checker) crashWindow() time.Duration { return 2*c.cfg.OffsetFlush + time.Second }

// checkOffsets runs offsets (see the package comment for the rule).
func (c *checker) checkOffsets() {
	states := map[offsetKey]*offsetState{}
	state := func(e history.Event) *offsetState {
		k := offsetKey{e.Group, e.Topic, e.Queue}
		s := states[k]
		if s == nil {
			s = &offsetState{floor: -1, known: map[int64]bool{}}
			states[k] = s
		}
		return s
	}
	const forever = time.Duration(1<<63 - 1)
	down := false         // between a BrokerDown and the next BrokerUp
	lastDown := int64(-1) // Seq of the last BrokerDown
	// earlier reports whether e's request was sent before the last stop:
	// an earlier broker run may have answered it.
	earlier := func(e history.Event) bool { return e.Issued > 0 && e.Issued <= lastDown }
	for _, e := range c.evs {
		switch e.Kind {
		case history.Commit, history.CommitSent:
			s := state(e)
			s.known[e.Offset] = true
			if down || earlier(e) {
				// Answered by a broker that went down, recorded after
				// the stop began: it may or may not have been persisted.
				if s.floor >= 0 {
					s.floor = min(s.floor, e.Offset)
				}
				continue
			}
			s.run = append(s.run, commitRec{value: e.Offset, at: e.At, acked: e.Kind == history.Commit})
		case history.BrokerUp:
			down = false
		case history.BrokerDown:
			down, lastDown = true, e.Seq
			cutoff := e.At
			if e.Detail != history.StopClean {
				cutoff -= c.crashWindow()
			}
			for _, s := range states {
				if v, ok := s.lowest(cutoff); ok {
					s.floor = v
				}
				s.run = s.run[:0]
			}
		case history.OffsetRead:
			s := state(e)
			lb, ok := s.lowest(forever)
			switch {
			case ok && e.Offset < lb && !earlier(e):
				c.fail("offsets", c.offsetWindow(e), "group %s queue %d: read offset %d, below %d which the broker must still hold",
					e.Group, e.Queue, e.Offset, lb)
			case e.Offset > 0 && !s.known[e.Offset]:
				// 0 without a commit is the young-queue rule's answer for
				// a group that has none (wire-protocol.md §6.3).
				c.fail("offsets", c.offsetWindow(e), "group %s queue %d: read offset %d, which no consumer committed",
					e.Group, e.Queue, e.Offset)
			}
		}
	}
}
