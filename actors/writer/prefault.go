package writer

import (
	"github.com/asynkron/protoactor-go/actor"
)

// prefaultAhead is how far past the write position the prefaulter prepares
// the commit log. An ASYNC_FLUSH broker only creates the next segment ahead
// (CommitLog.CreateAhead) once this distance reaches past the newest one:
// the writer writes with pwrite (CommitLog.Commit), so there is no page
// fault to take off it, and creating the segment (fallocate, mmap,
// directory sync) stays off the roll. A SYNC_FLUSH broker also writes zeros
// over this distance with pwrite and writes them back at once
// (CommitLog.PrefaultWritten, chosen in Spawn) so that its acknowledged
// flushes find the blocks written (no extent conversion per flush); the
// distance then bounds the extra zeros written and dirty in the page cache.
// The writer asks again each time it has written half of it, so at least
// 16 MiB stay ready: about 110 ms of writing at 140 MB/s (570k batched
// 128 B sends a second). It was sized when the writer stored into the
// mapping and the prefaulter faulted pages in (~1-3 µs a page here): with
// 8 MiB the writer still overtook it and took faults itself (9% of broker
// CPU in its stores, batched sends), with 32 MiB 2%.
const prefaultAhead = 32 << 20

// prefaultReq asks the prefaulter for one call of its prefault function.
// The writer sends at most one at a time: Writer.prefaultBusy is set by the
// writer when it sends and cleared by the prefaulter when it is done (a
// flag rather than an answer message, which would land in dead letters
// during Stop).
type prefaultReq struct{}

var thePrefaultReq = &prefaultReq{}

// prefaulter runs the prefault function Spawn chose (CommitLog.CreateAhead
// or PrefaultWritten) off the writer actor: segment creation and, for
// SYNC_FLUSH, the zero-fill and write-back of fresh pages happen here. It
// owns nothing; the commit log serializes its calls and never lets it touch
// a page below the write position.
type prefaulter struct {
	w *Writer
}

func (p *prefaulter) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *prefaultReq:
		// Deferred: after a panic (resumed, see spawn) the writer still
		// asks again; a flag left set would end prefaulting for good.
		defer p.w.prefaultBusy.Store(false)
		// A failure is not one of the log: appends fault pages in
		// themselves. The commit log logs it (the first at Warn).
		if _, err := p.w.deps.prefault(prefaultAhead); err != nil {
			p.w.log.Debug().Err(err).Msg("prefault failed")
		}
	case *actor.Stopped:
		close(p.w.prefaulterDone)
	}
}

// maybePrefault asks the prefaulter to move on once the writer has written
// half of prefaultAhead since its last request (and at start). Writer actor
// only.
func (a *writerActor) maybePrefault(ctx actor.Context) {
	if a.w.prefaulter == nil || a.w.prefaultBusy.Load() {
		return
	}
	pos := a.w.deps.log.WrotePosition()
	if a.prefaultAsked && pos < a.prefaultAt+prefaultAhead/2 {
		return
	}
	a.prefaultAsked, a.prefaultAt = true, pos
	a.w.prefaultBusy.Store(true)
	ctx.Send(a.w.prefaulter, thePrefaultReq)
}
