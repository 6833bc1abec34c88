package cleaner

import (
	"math"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Messages of the cleaner actor.
type (
	// tick starts a round. Each armed timer sends its own *tick and the
	// actor runs only the one it armed last: a tick already queued when a
	// restart re-armed the timer would otherwise start a second timer chain.
	tick          struct{}
	triggerDelete struct{}
)

// cleanerActor runs the rounds. Goroutine: the actor's, for all methods.
type cleanerActor struct {
	c       *Cleaner
	manual  bool        // a TriggerDelete waits for the next round
	timer   *time.Timer // the armed one-shot timer; nil when none
	pending *tick       // the tick the armed timer sends
}

// Receive dispatches one message.
func (a *cleanerActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		a.arm(ctx)
	case *actor.Restarting, *actor.Stopping:
		a.disarm()
	case *actor.Stopped:
		a.c.stopped()
	case triggerDelete:
		a.manual = true
	case *tick:
		if msg != a.pending {
			return // from a timer of an earlier incarnation
		}
		a.pending = nil
		a.round()
		a.arm(ctx)
	}
}

// arm schedules the next round with a one-shot runtime timer that Sends a
// tick: no goroutine of ours to track, and disarm cancels it. A periodic
// time.Ticker was rejected: ticks would pile up in the mailbox behind a slow
// round (a disk stalling on unlink) and run back to back.
func (a *cleanerActor) arm(ctx actor.Context) {
	system, self, t := ctx.ActorSystem(), ctx.Self(), &tick{}
	a.pending = t
	a.timer = time.AfterFunc(a.c.cfg.Interval, func() { system.Root.Send(self, t) })
}

func (a *cleanerActor) disarm() {
	if a.timer != nil {
		a.timer.Stop()
		a.timer = nil
	}
	a.pending = nil
}

// plan is what one round does.
type plan struct {
	delete bool
	force  bool
}

// decide applies §11's conditions. ratioKnown is false when the disk usage
// could not be read: then neither usage condition holds (a failing statfs
// must not force-delete unexpired data), but the hour and the manual trigger
// still do.
func decide(cfg *Config, now time.Time, ratio float64, ratioKnown, manual bool) plan {
	var p plan
	if ratioKnown {
		forcible := cfg.Broker.CleanFileForciblyEnable && above(ratio, cleanForciblyPercent)
		p.force = forcible
		// Java deletes on high usage only when diskMaxUsedSpaceRatio is
		// crossed, and "clean immediately" then only sets force; we also
		// start a round above 85 % so that a diskMaxUsedSpaceRatio set
		// above 85 cannot leave a nearly full disk waiting for deleteWhen.
		p.delete = above(ratio, cfg.Broker.DiskMaxUsedSpaceRatio) || forcible
	}
	if manual || slices.Contains(cfg.Broker.DeleteWhen, now.Hour()) {
		p.delete = true
	}
	return p
}

// above reports ratio > percent/100.
func above(ratio float64, percent int) bool { return ratio > float64(percent)/100 }

// round runs one cleaning round (see the package comment for the steps).
func (a *cleanerActor) round() {
	c := a.c
	now := c.cfg.Now()
	ratio, err := c.disk.DiskUsageRatio()
	known := err == nil && !math.IsNaN(ratio) && ratio >= 0
	if err != nil {
		c.log.Warn().Err(err).Msg("cannot read disk usage; usage-based cleaning skipped")
	} else if !known {
		c.log.Warn().Float64("ratio", ratio).Msg("disk usage ratio out of range; usage-based cleaning skipped")
	}
	if known {
		a.setDiskFull(above(ratio, diskFullPercent), ratio)
	}
	manual := a.manual
	a.manual = false
	p := decide(&c.cfg, now, ratio, known, manual)
	c.log.Debug().Float64("ratio", ratio).Bool("delete", p.delete).Bool("force", p.force).
		Bool("manual", manual).Msg("cleaner round")
	if !p.delete {
		return
	}
	n, err := c.clog.DeleteExpiredFiles(now.Add(-c.cfg.Broker.FileReservedTime), p.force, deleteFilesPerRound)
	if err != nil {
		// The next round retries; files deleted before the error still
		// moved the min offset, so the queues are told below.
		c.log.Warn().Err(err).Int("deleted", n).Msg("commitlog file deletion failed")
	}
	if n <= 0 {
		return
	}
	minOffset := c.clog.MinOffset()
	c.queues.DeleteBelow(minOffset)
	if c.cfg.Index != nil {
		c.cfg.Index.DeleteBelow(minOffset)
	}
	c.log.Info().Int("deleted", n).Int64("minOffset", minOffset).Bool("force", p.force).
		Float64("diskRatio", ratio).Msg("deleted commitlog files")
	a.recheckDiskFull()
	if c.cfg.OnFilesDeleted != nil {
		c.cfg.OnFilesDeleted()
	}
}

// recheckDiskFull reads the disk usage again after a round deleted files
// while the disk was full (step 6), so that sends are accepted as soon as
// the deletion brought usage below the mark rather than at the next round,
// an Interval (10 s) later. Only while full: otherwise the reading could
// change nothing, and rounds stay one usage read each. An unreadable usage
// leaves the state to the next round, as in round. The queues' and index
// files below the new minimum are deleted by their actors after this read;
// the next round counts the space they free.
func (a *cleanerActor) recheckDiskFull() {
	c := a.c
	if !c.diskFull.Load() {
		return
	}
	ratio, err := c.disk.DiskUsageRatio()
	if err != nil || math.IsNaN(ratio) || ratio < 0 {
		return
	}
	a.setDiskFull(above(ratio, diskFullPercent), ratio)
}

// setDiskFull records the disk-full state and reports a change.
func (a *cleanerActor) setDiskFull(full bool, ratio float64) {
	c := a.c
	if c.diskFull.Load() == full {
		return
	}
	c.diskFull.Store(full)
	if full {
		c.log.Warn().Float64("ratio", ratio).Msg("disk full: refusing writes")
	} else {
		c.log.Info().Float64("ratio", ratio).Msg("disk usage back below the full mark: accepting writes")
	}
	if c.cfg.OnDiskFull != nil {
		c.cfg.OnDiskFull(full)
	}
}
