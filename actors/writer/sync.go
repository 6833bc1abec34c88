package writer

import (
	"runtime"

	"github.com/actormq/actormq/actors/config"
	"github.com/asynkron/protoactor-go/actor"
)

// Group commit at the disk's pace.
//
// The syncer runs CommitLog.Flush (msync of everything written) one at a
// time. On a SYNC_FLUSH broker it starts the next flush as soon as one ends
// while the writer has written past it, instead of waiting for the flush
// actor to answer the last group and ask again: each flushDone goes to the
// flush actor, which answers that group while the disk works on the next.
// Records appended during a flush are covered by the very next one, so a
// waiter waits at most the rest of the running flush plus one more, and the
// fsync rate is the disk's, not the disk's plus two actor hops and the
// answers (perf trace of a loaded broker: 0.3–0.5 ms median between two
// msyncs, down to 0.07–0.11 ms this way). The loop ends when a flush finds
// nothing newly written; no flush runs for an idle log, and nothing sleeps.
//
// Writer.syncBusy says a flushReq is queued or a flush is running (duty 1 of
// the flush actor): whoever sets it from false sends the one flushReq, and
// the syncer clears it before it looks at the write position for the last
// time, so a write it misses finds the flag clear and sends a new request.
//
// Rejected: the flush actor asking for every flush (the old way; the hops
// and the answering stood between two fsyncs); a second flush in flight:
// measured on this VM (ext4, virtio disk, 40 KiB groups into written
// blocks), two concurrent msync loops reach 1,279 flushes/s against 1,082
// for one, but each takes 691 µs p50 instead of 399 (fdatasync: 3,276/s at
// 297 µs against 2,408/s at 207 µs), so a waiter, which waits for the rest
// of one flush plus the next, waits longer; flushing into written blocks
// (CommitLog.PrefaultWritten, prefault.go) is what shortens the flush.

// flushReq asks the syncer to flush (at most one is queued: syncBusy).
type flushReq struct{}

var theFlushReq = &flushReq{}

// requestFlush makes the syncer flush unless a flush is queued or running,
// which then covers or is followed by one covering what is written now.
// Any goroutine.
func (w *Writer) requestFlush() {
	if w.syncBusy.CompareAndSwap(false, true) {
		w.root.Send(w.syncer, theFlushReq)
	}
}

// syncer runs the fsyncs (CommitLog.Flush) off the flush actor, which stays
// free to answer and time waiters out while a slow disk blocks.
type syncer struct {
	w *Writer
	// again: flush on while the writer writes (SYNC_FLUSH); an ASYNC_FLUSH
	// broker flushes once per request (the flush actor's schedule).
	again bool
}

func (s *syncer) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *actor.Started:
		s.again = s.w.cfg.Broker.FlushDiskType == config.FlushSync
	case *flushReq:
		log := s.w.deps.log
		flushed, err := log.Flush()
		ctx.Send(s.w.flush, &flushDone{flushed: flushed, err: err})
		s.w.syncBusy.Store(false)
		// A failed log stays failed (sticky): no retry here; each later
		// batch's request gets the error at once.
		if s.again && err == nil && log.WrotePosition() > flushed {
			// Through the mailbox rather than a loop here, so that a stop
			// (poison) is not held off while the writer keeps writing.
			if s.w.syncBusy.CompareAndSwap(false, true) {
				ctx.Send(ctx.Self(), theFlushReq)
				// The flushDone Send readied the flush actor's goroutine
				// on this P, which the next msync would block until
				// sysmon retakes the P (measured: 150 µs median from
				// flushDone sent to received, 7 µs when the syncer idles
				// after it). Yield first, so the answers go out while the
				// disk works; another P picks the syncer up.
				runtime.Gosched()
			}
		}
	case *actor.Stopped:
		close(s.w.syncerDone)
	}
}
