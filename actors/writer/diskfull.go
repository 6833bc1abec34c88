package writer

import (
	"errors"
	"time"

	"github.com/actormq/actormq/storage/commitlog"
)

// diskFullProbeDefault is how often a commit log that ran out of space is
// probed for space again.
const diskFullProbeDefault = time.Second

// probeTick asks the writer actor to probe a commit log that is read-only
// for lack of space.
type probeTick struct{}

// Disk full (the store's answer to ENOSPC), in order:
//  1. an Append fails with commitlog.ErrDiskFull (no space for the next
//     segment); the writer marks the store full, which DiskFull reports, so
//     the send side refuses sends with SERVICE_NOT_AVAILABLE before they
//     reach the writer, and arms one timer;
//  2. appends that still arrive (queued, broker-internal Puts) fail at once
//     inside the commit log: nothing is retried per record;
//  3. on each tick the writer actor runs CommitLog.Probe, which retries the
//     segment creation; until it succeeds the timer is re-armed;
//  4. once it succeeds the mark is cleared and sends are accepted again.
//     The cleaner asks for a probe at once after it deleted files
//     (ProbeNow), so sends need not wait for the next tick.
//
// A sticky failure met by the probe (an I/O error rather than a lack of
// space) ends probing: the commit log then answers every append with its
// sticky error, which is also SERVICE_NOT_AVAILABLE.

// WriteError is the error sends and Puts are refused with while the store
// takes no writes for a reason other than space: a consume queue's sticky
// flush failure (Config.QueuesError), which wraps
// consumequeue.ErrNotWritable and so is answered SERVICE_NOT_AVAILABLE.
// Unlike a full disk it is not probed: a retried flush would report
// success for units that never reached the disk (consumequeue, failLocked),
// and only a restart re-dispatches them from the checkpoint. Checked
// before a send reaches a topic actor and at Put, as Java's
// DefaultMessageStore checks RunningFlags before every put; sends already
// on their way are stored. Lock-free; any goroutine.
func (w *Writer) WriteError() error {
	if w.cfg.QueuesError == nil {
		return nil
	}
	return w.cfg.QueuesError()
}

// noteAppendError reacts to a failed Append (step 1). Writer actor.
func (a *writerActor) noteAppendError(err error) {
	if !errors.Is(err, commitlog.ErrDiskFull) || a.w.storeFull.Load() {
		return
	}
	a.w.storeFull.Store(true)
	a.w.log.Error().Err(err).Msg("commit log out of space: refusing sends until space is freed")
	a.armProbe()
}

// armProbe schedules the next probe (step 3): a one-shot timer that Sends
// to the writer, not a goroutine of ours; after Stop the tick is dropped.
// One timer at a time: a probe that ProbeNow asked for and that still finds
// no space re-arms nothing while the timer's own tick is on its way, so
// ProbeNow calls never add timer chains. Writer actor.
func (a *writerActor) armProbe() {
	w := a.w
	if w.probeArmed.Swap(true) {
		return
	}
	tick := func() {
		w.probeArmed.Store(false)
		if !w.closed.Load() {
			w.root.Send(w.pid, &probeTick{})
		}
	}
	if w.deps.afterFunc != nil {
		w.deps.afterFunc(w.cfg.DiskFullProbeInterval, tick)
		return
	}
	time.AfterFunc(w.cfg.DiskFullProbeInterval, tick)
}

// ProbeNow asks the writer actor to probe a commit log that is read-only
// for lack of space now rather than at the next tick (step 4): the
// cleaner calls it after a round deleted files. Nothing happens while the
// commit log has space. Any goroutine; never blocks (a Send).
func (w *Writer) ProbeNow() {
	if w.storeFull.Load() && !w.closed.Load() {
		w.root.Send(w.pid, &probeTick{})
	}
}

// probe runs one probe (steps 3 and 4). Writer actor; it is also sent once
// at start, for a commit log that recovery left without space.
func (a *writerActor) probe() {
	if a.w.deps.probe == nil {
		return
	}
	err := a.w.deps.probe()
	switch {
	case err == nil:
		if a.w.storeFull.Swap(false) {
			a.w.log.Info().Msg("commit log has space again: accepting sends")
		}
	case errors.Is(err, commitlog.ErrDiskFull):
		if !a.w.storeFull.Swap(true) {
			a.w.log.Error().Err(err).Msg("commit log out of space: refusing sends until space is freed")
		}
		a.armProbe()
	default:
		a.w.storeFull.Store(false)
		a.w.log.Error().Err(err).Msg("commit log probe failed; the commit log is not writable any more")
	}
}
