package schedule

import (
	"errors"
	"time"

	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/actors/writer"
	"github.com/actormq/actormq/internal/wallclock"
	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/wire/message"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

// Messages a level actor receives. Each carries the epoch of the
// incarnation that asked for it; another incarnation ignores it.
type (
	// unitsArrived: the watched queue holds a unit at the read cursor.
	unitsArrived struct{ epoch uint64 }
	// tick: the timer fired (a unit came due, or a retry is due); gen
	// tells the current timer from one replaced since.
	tick struct{ epoch, gen uint64 }
	// putDone is the writer's answer to the Put of the unit at offset.
	putDone struct {
		epoch  uint64
		offset int64
		res    writer.PutResult
	}
	// drain: Stop began; start no Put, stop once none is in flight.
	drain struct{}
)

// Window entry states.
const (
	putInFlight uint8 = iota
	putFailed         // waiting for the retry timer
	unitDone          // stored, or skipped
)

// pending is one unit between the committed offset and the read cursor.
// It keeps the record's commit-log offset, not the message: a retry reads
// the record again, so a level holds no message bodies while it waits.
type pending struct {
	offset int64 // queue offset of the unit
	phys   int64 // commit-log offset of the record
	state  uint8
}

// levelActor delivers one delay level (package comment, contract 1–5).
// Invariant: window holds the units [committed, next) in queue order;
// window[0] is never done (advance pops done entries at once).
type levelActor struct {
	s     *Scheduler
	l     *level
	epoch uint64

	committed int64 // published in s.committed[l.n-1]
	next      int64 // read cursor
	window    []pending
	scratch   []consumequeue.Unit

	watching bool
	timer    *time.Timer
	armedAt  time.Time // zero when no timer is armed
	gen      uint64
	draining bool

	errLogs int // rate limit of the per-unit Error logs
}

func newLevelActor(s *Scheduler, l *level) *levelActor {
	return &levelActor{s: s, l: l, epoch: l.epochs.Add(1)}
}

func (a *levelActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.start()
		a.process(ctx)
	case unitsArrived:
		if m.epoch == a.epoch {
			a.watching = false
			a.process(ctx)
		}
	case tick:
		if m.epoch == a.epoch && m.gen == a.gen {
			a.armedAt = time.Time{}
			a.retryFailed(ctx)
			a.process(ctx)
		}
	case *putDone:
		if m.epoch == a.epoch {
			a.putDone(ctx, m)
		}
	case drain:
		a.draining = true
		a.stopTimer()
		a.finishDrain(ctx)
	case *actor.Restarting:
		a.stopTimer()
	case *actor.Stopping:
		a.stopTimer()
	case *actor.Stopped:
		close(a.l.done)
	}
}

// start positions the cursor at the committed offset, corrected into the
// queue's [min, max] range: units below min were deleted by retention; an
// offset beyond max means the queue lost units (its next units take those
// offsets and must not be skipped). Java 5.x corrects the same way.
func (a *levelActor) start() {
	s, key := a.s, a.l.key
	off := s.committed[a.l.n-1].Load()
	lo, hi := s.cfg.Queues.MinOffset(key.Topic, key.QueueID), s.cfg.Queues.MaxOffset(key.Topic, key.QueueID)
	if corrected := min(max(off, lo), hi); corrected != off {
		s.log.Warn().Int("level", a.l.n).Int64("offset", off).Int64("corrected", corrected).
			Int64("minOffset", lo).Int64("maxOffset", hi).Msg("delay offset outside its queue; corrected")
		off = corrected
	}
	a.committed, a.next = off, off
	a.publish()
	a.scratch = make([]consumequeue.Unit, 0, s.cfg.InflightMax)
}

// process reads units from the cursor and starts the Puts of those that are
// due, until the window is full, a unit is not due (timer armed), or the
// queue has nothing more (watch registered).
func (a *levelActor) process(ctx actor.Context) {
	if a.draining {
		return
	}
	s, key := a.s, a.l.key
	now := wallclock.Now().UnixMilli()
	// Skipped units are popped after each chunk (advance), so they never
	// fill the window with nothing in flight to wake the level again.
	defer a.advance()
	for ; len(a.window) < s.cfg.InflightMax; a.advance() {
		units, err := s.cfg.Queues.ReadUnits(key, a.next, a.scratch[:0:s.cfg.InflightMax-len(a.window)])
		if errors.Is(err, consumequeue.ErrOffsetGone) && len(a.window) == 0 {
			if lo := s.cfg.Queues.MinOffset(key.Topic, key.QueueID); lo > a.next {
				s.log.Warn().Int("level", a.l.n).Int64("offset", a.next).Int64("minOffset", lo).
					Msg("delayed messages deleted by retention before delivery; skipped")
				a.committed, a.next = lo, lo
				a.publish()
				continue
			}
		}
		if err != nil {
			a.logError().Err(err).Int("level", a.l.n).Int64("offset", a.next).Msg("read schedule queue failed; retrying")
			a.armAt(ctx, wallclock.Now().Add(s.cfg.RetryBackoff))
			return
		}
		if len(units) == 0 {
			a.watch(ctx)
			return
		}
		for _, u := range units {
			if u.IsFiller() || u.Size <= 0 {
				a.push(pending{offset: a.next, state: unitDone})
				continue
			}
			if due := a.deliverTime(u.TagsCode, now); due > now {
				a.armAt(ctx, time.UnixMilli(due))
				return
			}
			a.push(pending{offset: a.next, phys: u.CommitLogOffset})
			a.put(ctx, &a.window[len(a.window)-1])
		}
	}
}

// deliverTime is the unit's delivery time: its tagsCode, or now when that
// lies further ahead than one full delay of the level.
func (a *levelActor) deliverTime(tagsCode, now int64) int64 {
	if tagsCode > now+a.l.delay.Milliseconds() {
		return now
	}
	return tagsCode
}

// push appends e at the cursor.
func (a *levelActor) push(e pending) {
	a.window = append(a.window, e)
	a.next++
}

// put reads e's record, builds the real message and hands it to the
// writer; the answer comes back as putDone. A record that cannot be read or
// names no real queue is skipped (unitDone) with an Error log.
func (a *levelActor) put(ctx actor.Context, e *pending) {
	stored, err := a.s.cfg.Records.ReadMessage(e.phys)
	var m message.Message
	var tagsCode int64
	if err == nil {
		m, tagsCode, err = realMessage(&stored)
	}
	if err != nil {
		a.logError().Err(err).Int("level", a.l.n).Int64("queueOffset", e.offset).
			Int64("commitLogOffset", e.phys).Msg("delayed message unreadable; skipped")
		e.state = unitDone
		return
	}
	root, self, epoch, offset := ctx.ActorSystem().Root, ctx.Self(), a.epoch, e.offset
	e.state = putInFlight
	// Not noWait: under SYNC_FLUSH the offset then advances only over
	// durable messages (the real message still carries WAIT=false).
	a.s.cfg.Writer.Put(&m, tagsCode, false, func(res writer.PutResult) {
		root.Send(self, &putDone{epoch: epoch, offset: offset, res: res})
	})
}

// putDone records the writer's answer, advances, and goes on reading.
func (a *levelActor) putDone(ctx actor.Context, m *putDone) {
	i := m.offset - a.committed
	if i < 0 || i >= int64(len(a.window)) || a.window[i].state != putInFlight {
		a.s.log.Error().Int("level", a.l.n).Int64("offset", m.offset).Int64("committed", a.committed).
			Msg("put answer for no unit in flight; ignored")
		return
	}
	e := &a.window[i]
	switch err := m.res.Err; {
	case err == nil:
		a.s.log.Debug().Int("level", a.l.n).Int64("offset", m.offset).Str("msgId", m.res.MsgID).Msg("delayed message delivered")
		e.state = unitDone
	case errors.Is(err, reply.ErrMessageIllegal):
		// The record format refuses the message; a retry cannot succeed.
		a.logError().Err(err).Int("level", a.l.n).Int64("offset", m.offset).Msg("delayed message cannot be stored; skipped")
		e.state = unitDone
	default:
		a.logError().Err(err).Int("level", a.l.n).Int64("offset", m.offset).Msg("delivering delayed message failed; retrying")
		e.state = putFailed
		if !a.draining {
			a.armAt(ctx, wallclock.Now().Add(a.s.cfg.RetryBackoff))
		}
	}
	a.advance()
	if a.draining {
		a.finishDrain(ctx)
		return
	}
	a.process(ctx)
}

// retryFailed starts the Put of every failed entry again.
func (a *levelActor) retryFailed(ctx actor.Context) {
	if a.draining {
		return
	}
	for i := range a.window {
		if a.window[i].state == putFailed {
			a.put(ctx, &a.window[i])
		}
	}
}

// advance pops the done prefix of the window and publishes the new
// committed offset.
func (a *levelActor) advance() {
	n := 0
	for n < len(a.window) && a.window[n].state == unitDone {
		n++
	}
	if n == 0 {
		return
	}
	kept := copy(a.window, a.window[n:])
	clear(a.window[kept:])
	a.window = a.window[:kept]
	a.committed += int64(n)
	a.publish()
}

func (a *levelActor) publish() { a.s.committed[a.l.n-1].Store(a.committed) }

// finishDrain stops the actor once no Put is in flight. Failed entries are
// not retried while draining: they stay above the committed offset and are
// delivered after the restart.
func (a *levelActor) finishDrain(ctx actor.Context) {
	for i := range a.window {
		if a.window[i].state == putInFlight {
			return
		}
	}
	ctx.Stop(ctx.Self())
}

// watch asks the queue registry to tell us when a unit exists at the cursor.
func (a *levelActor) watch(ctx actor.Context) {
	if a.watching {
		return
	}
	a.watching = true
	root, self, epoch := ctx.ActorSystem().Root, ctx.Self(), a.epoch
	a.s.cfg.Queues.Watch(a.l.key, a.next, func() { root.Send(self, unitsArrived{epoch: epoch}) })
}

// armAt makes sure the timer fires no later than at.
func (a *levelActor) armAt(ctx actor.Context, at time.Time) {
	if !a.armedAt.IsZero() && !at.Before(a.armedAt) {
		return
	}
	a.stopTimer()
	a.gen++
	a.armedAt = at
	root, self, msg := ctx.ActorSystem().Root, ctx.Self(), tick{epoch: a.epoch, gen: a.gen}
	a.timer = time.AfterFunc(max(wallclock.Until(at), 0), func() { root.Send(self, msg) })
}

func (a *levelActor) stopTimer() {
	if a.timer != nil {
		a.timer.Stop()
		a.timer = nil
	}
	a.armedAt = time.Time{}
}

// logError is an Error event for the first few failures of this
// incarnation, Debug after that, so a broken queue cannot flood the log.
func (a *levelActor) logError() *zerolog.Event {
	a.errLogs++
	if a.errLogs <= 20 {
		return a.s.log.Error()
	}
	return a.s.log.Debug()
}
