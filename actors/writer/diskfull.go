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
//
// A sticky failure met by the probe (an I/O error rather than a lack of
// space) ends probing: the commit log then answers every append with its
// sticky error, which is also SERVICE_NOT_AVAILABLE.

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
func (a *writerActor) armProbe() {
	w := a.w
	time.AfterFunc(w.cfg.DiskFullProbeInterval, func() {
		if !w.closed.Load() {
			w.root.Send(w.pid, &probeTick{})
		}
	})
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
