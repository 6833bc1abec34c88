package queue

import (
	"time"

	"github.com/actormq/actormq/storage/store"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/scheduler"
)

// advanced tells the long-poll actor that a watched queue's max offset grew.
type advanced struct {
	key       store.QueueKey
	maxOffset int64
}

// sweepSlack lets one sweep also answer requests expiring within it, so
// many held requests with close deadlines cost one sweep, not one each.
const sweepSlack = 20 * time.Millisecond

// sweepTick is the long-poll actor's one timer firing; gen tells a stale
// tick (from a timer replaced by an earlier one) from the current one.
type sweepTick struct{ gen uint64 }

// longPoll holds suspended pulls keyed by topic@queueId (§13.3). A held
// request goes back to its queue actor, with suspension no longer allowed,
// when the queue advances past its offset or when its deadline passes; the
// queue actor then answers whatever the queue holds (PULL_NOT_FOUND at the
// deadline when nothing came). One timer serves all held requests: it is
// armed for the earliest deadline and only while something is held, so an
// idle broker runs no timer.
type longPoll struct {
	r     *Registry
	held  map[store.QueueKey][]*pullReq
	count int

	sched   *scheduler.TimerScheduler
	cancel  scheduler.CancelFunc
	armedAt time.Time // zero when no timer is armed
	gen     uint64
}

func newLongPoll(r *Registry) *longPoll {
	return &longPoll{r: r, held: make(map[store.QueueKey][]*pullReq)}
}

func (p *longPoll) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		p.sched = scheduler.NewTimerScheduler(ctx)
	case *pullReq:
		p.hold(ctx, m)
	case *advanced:
		p.wake(m)
	case *sweepTick:
		if m.gen == p.gen {
			p.armedAt = time.Time{}
			p.sweep(ctx)
		}
	case *actor.Stopping:
		if p.cancel != nil {
			p.cancel()
		}
		return
	case *actor.Stopped:
		close(p.r.pollDone)
		return
	}
	p.r.heldPulls.Store(int64(p.count))
}

func (p *longPoll) hold(ctx actor.Context, req *pullReq) {
	if p.count >= p.r.cfg.HeldPullsMax {
		// Full: let the queue actor answer now (PULL_NOT_FOUND); the client
		// pulls again at once.
		p.r.route(req.key, req)
		return
	}
	p.held[req.key] = append(p.held[req.key], req)
	p.count++
	p.arm(ctx, req.deadline)
}

// wake re-sends every request of the queue whose offset the queue has passed.
func (p *longPoll) wake(m *advanced) {
	reqs := p.held[m.key]
	if len(reqs) == 0 {
		return
	}
	kept := reqs[:0]
	for _, req := range reqs {
		if req.offset < m.maxOffset {
			p.r.route(req.key, req)
			p.count--
			continue
		}
		kept = append(kept, req)
	}
	p.store(m.key, reqs, kept)
}

// sweep re-sends every expired request and re-arms for the next deadline.
func (p *longPoll) sweep(ctx actor.Context) {
	now := time.Now().Add(sweepSlack)
	var next time.Time
	for key, reqs := range p.held {
		kept := reqs[:0]
		for _, req := range reqs {
			if !req.deadline.After(now) {
				p.r.route(req.key, req)
				p.count--
				continue
			}
			if next.IsZero() || req.deadline.Before(next) {
				next = req.deadline
			}
			kept = append(kept, req)
		}
		p.store(key, reqs, kept)
	}
	if !next.IsZero() {
		p.arm(ctx, next)
	}
}

// store replaces key's held list by kept (a prefix of reqs' array), clearing
// the dropped tail so released requests are not kept alive.
func (p *longPoll) store(key store.QueueKey, reqs, kept []*pullReq) {
	clear(reqs[len(kept):])
	if len(kept) == 0 {
		delete(p.held, key)
		return
	}
	p.held[key] = kept
}

// arm makes sure the timer fires no later than at.
func (p *longPoll) arm(ctx actor.Context, at time.Time) {
	if !p.armedAt.IsZero() && !at.Before(p.armedAt) {
		return
	}
	if p.cancel != nil {
		p.cancel()
	}
	p.gen++
	p.armedAt = at
	p.cancel = p.sched.SendOnce(max(time.Until(at), 0), ctx.Self(), &sweepTick{gen: p.gen})
}
