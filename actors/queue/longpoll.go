package queue

import (
	"time"

	"github.com/actormq/actormq/storage/store"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/scheduler"
)

// sweepSlack lets one expiry also answer requests due within it, so many
// held requests with close deadlines cost one timer firing, not one each.
const sweepSlack = 20 * time.Millisecond

// sweepTick is the long-poll actor's one timer firing; gen tells a stale
// tick (from a timer replaced by an earlier one) from the current one.
type sweepTick struct{ gen uint64 }

// longPoll keeps the deadlines of the suspended pulls, which their queues'
// holders own (hold.go, with the contract between them): per queue, the
// earliest deadline it was told. One timer serves all: it is armed for the
// earliest deadline and only while a deadline is kept, so an idle broker
// runs no timer. When it fires, every queue whose deadline passed gets
// expireHeld and is forgotten.
type longPoll struct {
	r   *Registry
	due map[store.QueueKey]time.Time

	sched   *scheduler.TimerScheduler
	cancel  scheduler.CancelFunc
	armedAt time.Time // zero when no timer is armed
	gen     uint64
}

func newLongPoll(r *Registry) *longPoll {
	return &longPoll{r: r, due: make(map[store.QueueKey]time.Time)}
}

func (p *longPoll) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		p.sched = scheduler.NewTimerScheduler(ctx)
	case *holdUntil:
		if at, ok := p.due[m.key]; !ok || m.at.Before(at) {
			p.due[m.key] = m.at
		}
		p.arm(ctx, m.at)
	case *sweepTick:
		if m.gen == p.gen {
			p.armedAt = time.Time{}
			p.sweep(ctx)
		}
	case *actor.Stopping:
		if p.cancel != nil {
			p.cancel()
		}
	case *actor.Stopped:
		close(p.r.pollDone)
	}
}

// sweep sends expireHeld for every queue whose deadline passed (within
// sweepSlack) and re-arms for the next deadline.
func (p *longPoll) sweep(ctx actor.Context) {
	now := time.Now().Add(sweepSlack)
	var next time.Time
	for key, at := range p.due {
		if !at.After(now) {
			p.r.route(key, theExpire)
			delete(p.due, key)
			continue
		}
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	if !next.IsZero() {
		p.arm(ctx, next)
	}
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
