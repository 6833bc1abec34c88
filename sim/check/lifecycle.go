package check

import (
	"strings"
	"time"

	"github.com/actormq/actormq/sim/history"
)

// checkLifecycle runs recovery and disk-full.
func (c *checker) checkLifecycle() {
	lifecycle := func(e history.Event) bool {
		switch e.Kind {
		case history.BrokerUp, history.BrokerDown, history.FaultOn, history.FaultOff, history.Note:
			return true
		}
		return false
	}
	var lastDown *history.Event
	for i, e := range c.evs {
		switch e.Kind {
		case history.BrokerDown:
			lastDown = &c.evs[i]
		case history.BrokerUp:
			lastDown = nil
			if c.cfg.RecoveryMax > 0 && e.Dur > c.cfg.RecoveryMax {
				c.fail("recovery", lifecycle, "the broker took %s to serve again after its start (bound %s)", e.Dur.Round(time.Millisecond), c.cfg.RecoveryMax)
			}
		case history.Note:
			if strings.HasPrefix(e.Detail, history.NoteStartFailed) {
				c.fail("recovery", lifecycle, "%s", e.Detail)
			}
		}
	}
	if lastDown != nil && lastDown.Detail != history.StopClean {
		c.fail("recovery", lifecycle, "the broker never served again after its %s stop at +%.3fs", lastDown.Detail, lastDown.At.Seconds())
	}
	c.checkDiskFull()
}

// checkDiskFull runs disk-full over every disk-full fault window.
func (c *checker) checkDiskFull() {
	var on *history.Event
	for i, e := range c.evs {
		if e.Detail != history.FaultDiskFull {
			continue
		}
		switch e.Kind {
		case history.FaultOn:
			on = &c.evs[i]
		case history.FaultOff:
			if on != nil {
				c.checkDiskFullWindow(on.At, e.At)
			}
			on = nil
		}
	}
}

func (c *checker) checkDiskFullWindow(from, to time.Duration) {
	window := func(e history.Event) bool {
		return e.Detail == history.FaultDiskFull || ((e.Kind == history.Ack || e.Kind == history.Refused) && e.At >= from && e.At <= to+c.cfg.DiskBackMax)
	}
	// The segment appends went to when the disk filled: the one holding
	// the last record acknowledged before. A record acknowledged while the
	// disk was full must sit in it (or an earlier one): a later segment
	// needed space the disk did not have.
	segEnd := int64(-1)
	if c.st != nil && c.cfg.CommitLogBytes > 0 {
		for id, s := range c.sends {
			if recs := c.log[id]; s.acked() && s.outcome.At < from && len(recs) > 0 {
				segEnd = max(segEnd, recs[0].Phys/c.cfg.CommitLogBytes*c.cfg.CommitLogBytes+c.cfg.CommitLogBytes)
			}
		}
	}
	var firstAckAfter time.Duration = -1
	for id, s := range c.sends {
		recs := c.log[id]
		if segEnd >= 0 && s.acked() && s.send.At >= from && s.outcome.At <= to && len(recs) > 0 && recs[0].Phys >= segEnd {
			c.fail("disk-full", byID(id), "id %s was acknowledged while the disk was full (+%.3fs to +%.3fs) and stored at commitlog offset %d, in a segment created after the disk filled (it ends at %d)",
				id, from.Seconds(), to.Seconds(), recs[0].Phys, segEnd)
		}
		if s.acked() && s.outcome.At > to && (firstAckAfter < 0 || s.outcome.At < firstAckAfter) {
			firstAckAfter = s.outcome.At
		}
	}
	switch {
	case firstAckAfter < 0:
		c.fail("disk-full", window, "no send was acknowledged after the disk had space again at +%.3fs", to.Seconds())
	case firstAckAfter > to+c.cfg.DiskBackMax:
		c.fail("disk-full", window, "the first send acknowledged after the disk had space again (+%.3fs) came at +%.3fs (bound %s)",
			to.Seconds(), firstAckAfter.Seconds(), c.cfg.DiskBackMax)
	}
}
