package writer

import (
	"sync"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/scheduler"
)

// pageBytes is the OS page size flushCommitLogLeastPages counts in.
const pageBytes = 4096

// batchDone tells the flush actor what one writer batch appended: the new
// write position, its store time and the SYNC_FLUSH requests waiting for it
// (nil for ASYNC_FLUSH). This is the syncUpTo{offset, waiters} of the design.
type batchDone struct {
	end            int64
	storeTimestamp int64
	waiters        []*Append
}

// batchDones recycles batchDone messages with their waiters slices, so a
// SYNC_FLUSH batch costs no garbage (a fresh slice grew by appends: ~24 B a
// message). Hand-off: the writer takes one (newBatchDone), fills it and
// Sends it; from the Send on it is the flush actor's, which copies the
// waiters into its own list and puts it back (recycle) before the next
// message. Rejected: handing the slice back over a channel to the writer,
// a second queue to size for what the pool already does.
var batchDones = sync.Pool{New: func() any { return new(batchDone) }}

// newBatchDone returns an empty batchDone from the pool.
func newBatchDone() *batchDone { return batchDones.Get().(*batchDone) }

// recycle clears m, dropping its references to the waiters (answered and
// recycled Appends soon), and returns it to the pool. Flush actor only.
func (m *batchDone) recycle() {
	if cap(m.waiters) > 4096 {
		m.waiters = nil // a burst's slice: not kept for ever
	}
	clear(m.waiters)
	*m = batchDone{waiters: m.waiters[:0]}
	batchDones.Put(m)
}

// flushDone is the syncer's answer to each flush it ran (sync.go).
type flushDone struct {
	flushed int64
	err     error
}

// flushTick is the flush actor's periodic timer.
type flushTick struct{}

// mark remembers the store time of data ending at end, so that a flush up to
// end tells the checkpoint how new the durable data is.
type mark struct {
	end, storeTimestamp int64
}

// flushActor owns the SYNC_FLUSH waiters and the flush schedule; the fsync
// itself runs in the syncer so that the flush actor stays free to time
// waiters out while a slow disk blocks (clients give a send 3 s).
//
// Contract per flush (numbered duties):
//  1. at most one flush is outstanding (the syncer runs them one after the
//     other; Writer.syncBusy, sync.go);
//  2. a waiter is answered SUCCESS once flushed >= its end, or
//     FLUSH_DISK_TIMEOUT when it waited SyncFlushTimeout or the flush failed
//     (its message is stored either way);
//  3. every waiter is answered exactly once: it leaves the list when answered;
//  4. the checkpoint advances to the newest store time at or below flushed,
//     at most once per tick.
//  5. Config.OnFlushed is called after every flush that advanced flushed,
//     once its waiters are answered.
type flushActor struct {
	w        *Writer
	sync     bool
	waiters  []*Append // in end order: batches arrive in append order
	marks    []mark
	wrote    int64 // newest write position reported
	flushed  int64
	failed   bool // a flush failed: the log is not writable any more
	lastFull time.Time

	physTs, checkpointedTs int64

	sched  *scheduler.TimerScheduler
	cancel scheduler.CancelFunc
}

// newFlushActor starts from positions read before any actor ran, so that
// no batch can slip in between (Started runs asynchronously).
func newFlushActor(w *Writer, flushed, wrote int64) *flushActor {
	return &flushActor{w: w, sync: w.cfg.Broker.FlushDiskType == config.FlushSync, flushed: flushed, wrote: wrote}
}

func (f *flushActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		f.lastFull = time.Now()
		f.sched = scheduler.NewTimerScheduler(ctx)
		f.arm(ctx)
	case *batchDone:
		f.onBatch(m)
		m.recycle()
	case *flushDone:
		// On a SYNC_FLUSH broker the syncer has started the next flush
		// already (sync.go): these answers overlap it.
		f.onFlushed(m.flushed, m.err)
	case *flushTick:
		f.onTick()
		f.arm(ctx)
	case *actor.Stopping:
		f.stop()
	case *actor.Stopped:
		close(f.w.flushDone)
	}
}

func (f *flushActor) onBatch(m *batchDone) {
	if m.end > f.wrote {
		f.wrote = m.end
		f.marks = append(f.marks, mark{end: m.end, storeTimestamp: m.storeTimestamp})
		f.passMarks() // a flush may have covered the batch before it came
	}
	if len(m.waiters) == 0 {
		return
	}
	now := time.Now()
	for _, p := range m.waiters {
		p.waitSince = now
	}
	f.waiters = append(f.waiters, m.waiters...)
	// The syncer may have flushed past them before this batchDone arrived
	// (it flushes whatever is written, sync.go), or the log failed: answer
	// those now, as no later flushDone would.
	f.answerFlushed()
	if f.failed {
		f.answerAll(remoting.RespFlushDiskTimeout)
		return
	}
	if len(f.waiters) > 0 {
		f.w.requestFlush()
	}
}

// onFlushed applies a flush result (duties 2–3 for flushed waiters).
func (f *flushActor) onFlushed(flushed int64, err error) {
	if err != nil {
		if !f.failed {
			f.w.log.Error().Err(err).Msg("commit log flush failed; the log is not writable any more")
		}
		f.failed = true
		f.answerAll(remoting.RespFlushDiskTimeout)
		return
	}
	advanced := flushed > f.flushed
	if advanced {
		f.flushed = flushed
	}
	if f.flushed >= f.wrote {
		f.lastFull = time.Now()
	}
	f.answerFlushed()
	if advanced && f.w.cfg.OnFlushed != nil {
		f.w.cfg.OnFlushed() // duty 5
	}
	f.passMarks()
}

// passMarks takes the store time of the newest batch at or below flushed
// for the checkpoint (duty 4).
func (f *flushActor) passMarks() {
	m := 0
	for m < len(f.marks) && f.marks[m].end <= f.flushed {
		f.physTs = f.marks[m].storeTimestamp
		m++
	}
	f.marks = f.marks[:copy(f.marks, f.marks[m:])]
}

// answerFlushed answers SUCCESS to the waiters whose records end at or
// below flushed: a prefix, as waiters are in end order (duty 2).
func (f *flushActor) answerFlushed() {
	n := 0
	for n < len(f.waiters) && f.waiters[n].end <= f.flushed {
		f.w.answer(f.waiters[n], remoting.RespSuccess)
		n++
	}
	f.waiters = f.drop(f.waiters, n)
}

// answerAll answers every waiter with code (duty 3).
func (f *flushActor) answerAll(code int32) {
	for _, p := range f.waiters {
		f.w.answer(p, code)
	}
	f.waiters = f.drop(f.waiters, len(f.waiters))
}

// drop removes the first n waiters, clearing their slots.
func (f *flushActor) drop(ws []*Append, n int) []*Append {
	if n == 0 {
		return ws
	}
	rest := copy(ws, ws[n:])
	clear(ws[rest:])
	return ws[:rest]
}

// onTick flushes when enough is dirty (ASYNC_FLUSH: flushCommitLogLeastPages
// or the thorough interval), times SYNC_FLUSH waiters out and writes the
// checkpoint.
func (f *flushActor) onTick() {
	b := &f.w.cfg.Broker
	if !f.failed {
		// SYNC_FLUSH flushes for waiters as they come; the tick only catches
		// data no one waits for (WAIT=false), whatever its size.
		dirty := f.wrote - f.flushed
		least := int64(b.FlushCommitLogLeastPages) * pageBytes
		if dirty > 0 && (f.sync || dirty >= least || time.Since(f.lastFull) >= f.w.cfg.FlushThoroughInterval) {
			f.w.requestFlush()
		}
	}
	f.expire(time.Now())
	f.checkpoint()
}

// expire answers FLUSH_DISK_TIMEOUT to waiters older than SyncFlushTimeout.
// They are the oldest, so they form a prefix.
func (f *flushActor) expire(now time.Time) {
	limit := f.w.cfg.Broker.SyncFlushTimeout
	n := 0
	for n < len(f.waiters) && now.Sub(f.waiters[n].waitSince) >= limit {
		f.w.answer(f.waiters[n], remoting.RespFlushDiskTimeout)
		n++
	}
	f.waiters = f.drop(f.waiters, n)
}

// checkpoint records the newest durable store times (duty 4). Nothing is
// written before both the commit log and the consume queues made progress
// since start: a zero would move the recovery point back to the beginning.
func (f *flushActor) checkpoint() {
	if f.physTs == 0 || f.physTs == f.checkpointedTs || f.w.deps.checkpoint == nil {
		return
	}
	logics := f.physTs
	if fn := f.w.cfg.LogicsTimestamp; fn != nil {
		logics = fn()
	}
	if logics == 0 {
		return
	}
	if err := f.w.deps.checkpoint(f.physTs, logics); err != nil {
		f.w.log.Error().Err(err).Msg("checkpoint update failed")
		return
	}
	f.checkpointedTs = f.physTs
}

// arm schedules the next tick: the async flush interval, which also bounds
// how late a SYNC_FLUSH timeout is noticed.
func (f *flushActor) arm(ctx actor.Context) {
	iv := f.w.cfg.Broker.FlushIntervalCommitLog
	if f.sync {
		iv = min(iv, f.w.cfg.Broker.SyncFlushTimeout/4)
	}
	f.cancel = f.sched.SendOnce(iv, ctx.Self(), &flushTick{})
}

// stop runs during a graceful Stop, after the writer and the syncer stopped:
// flush once more here (the only flusher left), answer every waiter and
// write the checkpoint.
func (f *flushActor) stop() {
	if f.cancel != nil {
		f.cancel()
	}
	// After a failure stop the syncer may still be flushing: no flush then.
	if f.w.stopping.Load() && !f.failed && (f.wrote > f.flushed || len(f.waiters) > 0) {
		flushed, err := f.w.deps.log.Flush()
		f.onFlushed(flushed, err)
	}
	f.answerAll(remoting.RespFlushDiskTimeout)
	f.waiters = nil
	f.checkpoint()
}
