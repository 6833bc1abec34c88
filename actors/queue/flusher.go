package queue

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/scheduler"
)

// flushTick fires the consume-queue flusher.
type flushTick struct{}

// cqFlusher flushes consume queues every CQFlushInterval (Java's
// flushIntervalConsumeQueue) off the queue actors, so a slow msync never
// delays a Put or a pull (ConsumeQueue.FlushPages may run on any
// goroutine). The timer is re-armed after each round rather than
// repeating, so a slow disk cannot pile ticks up in the mailbox.
//
// A round starts write-back (no msync: ConsumeQueue.FlushPages) only of
// queues with FlushConsumeQueueLeastPages pages pending, and looks only at the queues whose end changed page since it
// last looked or that created a file (Registry.flushAll; a new queue's
// directory entries are fsynced by the first round after its first Put,
// not left to the thorough round); every CQFlushThoroughInterval it flushes
// all of them and the checkpoint advances (Java's FlushConsumeQueueService).
// Flushing every queue every round was rejected: with 10,000 queues each
// getting a few units a second, a round cost 10,000 msyncs (a disk write
// each, and a write fault when the queue next writes the page), which took
// more than the interval and most of the broker's CPU besides.
type cqFlusher struct {
	r            *Registry
	sched        *scheduler.TimerScheduler
	cancel       scheduler.CancelFunc
	lastThorough time.Time
}

func (f *cqFlusher) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *actor.Started:
		f.sched = scheduler.NewTimerScheduler(ctx)
		f.lastThorough = time.Now()
		f.arm(ctx)
	case *flushTick:
		least := f.r.cfg.Broker.FlushConsumeQueueLeastPages
		if now := time.Now(); now.Sub(f.lastThorough) >= f.r.cfg.CQFlushThoroughInterval {
			least, f.lastThorough = 0, now
		}
		f.r.flushAll(least)
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
