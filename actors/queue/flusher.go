package queue

import (
	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/scheduler"
)

// flushTick fires the consume-queue flusher.
type flushTick struct{}

// cqFlusher flushes every consume queue every CQFlushInterval (Java's
// flushIntervalConsumeQueue) off the queue actors, so a slow msync never
// delays a Put or a pull (ConsumeQueue.Flush may run on any goroutine). The
// timer is re-armed after each round rather than repeating, so a slow disk
// cannot pile ticks up in the mailbox.
type cqFlusher struct {
	r      *Registry
	sched  *scheduler.TimerScheduler
	cancel scheduler.CancelFunc
}

func (f *cqFlusher) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *actor.Started:
		f.sched = scheduler.NewTimerScheduler(ctx)
		f.arm(ctx)
	case *flushTick:
		f.r.flushAll()
		f.arm(ctx)
	case *actor.Stopping:
		if f.cancel != nil {
			f.cancel()
		}
	case *actor.Stopped:
		close(f.r.flusherDone)
	}
}

func (f *cqFlusher) arm(ctx actor.Context) {
	f.cancel = f.sched.SendOnce(f.r.cfg.CQFlushInterval, ctx.Self(), &flushTick{})
}
