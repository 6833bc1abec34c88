// Package cleaner owns file retention of the broker's store
// (storage-format.md §11): one actor that, every Interval (10 s), decides
// whether to delete old CommitLog segments, deletes up to ten of them, tells
// the queue actors to drop consume-queue files below the new CommitLog min
// offset, and tracks the disk-full state that makes the broker refuse writes.
//
// One round, in order:
//  1. Read the disk usage ratio of the CommitLog partition.
//  2. Update the disk-full state (usage > 90 %), calling OnDiskFull on a change.
//  3. Decide: delete when the clock's hour is listed in deleteWhen, or usage >
//     diskMaxUsedSpaceRatio, or usage > 85 % with cleanFileForciblyEnable, or
//     a manual trigger (TRIGGER_DELETE_FILES) is pending. Force (delete files
//     that have not expired yet, oldest first) when usage > 85 % and
//     cleanFileForciblyEnable.
//  4. DeleteExpiredFiles(now − fileReservedTime, force, 10); the CommitLog
//     never deletes its newest segment.
//  5. When anything was deleted: Queues.DeleteBelow(CommitLog.MinOffset()),
//     and Config.Index.DeleteBelow (index files) when set.
//  6. When anything was deleted and the disk was full: read the usage again
//     and update the disk-full state (so sends are accepted without waiting
//     for the next round); then call OnFilesDeleted.
//
// The actor's only state is the pending manual trigger and its timer; the
// disk-full flag lives in the handle so that a supervisor restart cannot
// forget to report recovery from a full disk.
package cleaner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/actormq/actormq/actors/config"
)

// Sentinel errors.
var (
	// ErrConfig is wrapped when Spawn gets an unusable Config or a nil seam.
	ErrConfig = errors.New("cleaner: bad config")
	// ErrStopped is wrapped when Stop gives up waiting for the actor.
	ErrStopped = errors.New("cleaner: stop")
)

// Java's defaults that have no broker.conf key in 4.x (5.x store keys
// diskSpaceCleanForciblyRatio and diskSpaceWarningLevelRatio), in percent.
const (
	cleanForciblyPercent = 85 // above it, delete even non-expired files
	diskFullPercent      = 90 // above it, refuse writes until usage drops
	deleteFilesPerRound  = 10 // Java deleteFileBatchMax
	intervalDefault      = 10 * time.Second
	diskMaxPercentDef    = 75 // diskMaxUsedSpaceRatio default
)

// CommitLog is the part of storage/commitlog.CommitLog the cleaner uses.
// Both methods are called from the cleaner's actor goroutine.
type CommitLog interface {
	// DeleteExpiredFiles deletes up to maxFiles oldest segments modified
	// before expiredBefore (any age when force) and returns how many.
	DeleteExpiredFiles(expiredBefore time.Time, force bool, maxFiles int) (int, error)
	// MinOffset is the start offset of the oldest remaining segment.
	MinOffset() int64
}

// Queues is the data plane's queue registry.
type Queues interface {
	// DeleteBelow tells every queue actor to drop consume-queue files whose
	// units all point below commitLogMin. It must not block (a Send).
	DeleteBelow(commitLogMin int64)
}

// Disk reports the usage of the partition holding the CommitLog.
type Disk interface {
	// DiskUsageRatio is used/total, 0..1.
	DiskUsageRatio() (float64, error)
}

// Config configures the cleaner. It is not changed after Spawn.
type Config struct {
	// Broker supplies FileReservedTime, DeleteWhen, DiskMaxUsedSpaceRatio
	// (percent; 0 means 75) and CleanFileForciblyEnable.
	Broker config.Broker
	// Interval between rounds (Java cleanResourceInterval); 0 means 10 s.
	Interval time.Duration
	// Now is the clock; nil means time.Now. deleteWhen hours are compared
	// with Now().Hour(), so the clock's location decides the time zone.
	Now func() time.Time
	// OnDiskFull is called with true when usage rises above 90 % and with
	// false when it falls back, so that the broker answers sends with
	// SERVICE_NOT_AVAILABLE meanwhile. May be nil. It runs on the cleaner's
	// actor goroutine and must not block.
	OnDiskFull func(full bool)
	// OnFilesDeleted, when set, is called after a round deleted commit-log
	// files (step 6): the broker has the writer probe at once a commit log
	// that found no space for its next segment (writer.ProbeNow). It runs
	// on the cleaner's actor goroutine and must not block.
	OnFilesDeleted func()
	// Index, when set, is told the new CommitLog min offset after
	// deletions, as Queues is, to drop index files wholly below it. It must
	// not block (a Send).
	Index  Queues
	Logger zerolog.Logger
}

// Validate fills defaults and rejects impossible settings.
func (c *Config) Validate() error {
	if c.Interval == 0 {
		c.Interval = intervalDefault
	}
	if c.Interval < 0 {
		return fmt.Errorf("%w: Interval %v is negative", ErrConfig, c.Interval)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Broker.DiskMaxUsedSpaceRatio == 0 {
		c.Broker.DiskMaxUsedSpaceRatio = diskMaxPercentDef
	}
	if r := c.Broker.DiskMaxUsedSpaceRatio; r < 1 || r > 100 {
		return fmt.Errorf("%w: diskMaxUsedSpaceRatio %d outside 1..100", ErrConfig, r)
	}
	if c.Broker.FileReservedTime < 0 {
		return fmt.Errorf("%w: fileReservedTime %v is negative", ErrConfig, c.Broker.FileReservedTime)
	}
	for _, h := range c.Broker.DeleteWhen {
		if h < 0 || h > 23 {
			return fmt.Errorf("%w: deleteWhen hour %d outside 0..23", ErrConfig, h)
		}
	}
	return nil
}

// Cleaner is the handle of the cleaner actor.
type Cleaner struct {
	system *actor.ActorSystem
	pid    *actor.PID
	cfg    Config
	log    zerolog.Logger
	clog   CommitLog
	queues Queues
	disk   Disk

	// diskFull is written only by the actor (which calls OnDiskFull on each
	// change) and read by anyone through DiskFull.
	diskFull atomic.Bool
	stopping atomic.Bool
	done     chan struct{} // closed when the actor has stopped
	doneOnce sync.Once
}

// supervisor restarts the cleaner after a panic (a broken invariant in a
// seam): the actor holds nothing worth keeping but the manual trigger, and
// Started re-arms the timer. Ten restarts a minute is a crash loop; the
// strategy then stops the actor and retention stops, which Stop still
// handles.
var supervisor = actor.NewOneForOneStrategy(10, time.Minute, func(reason interface{}) actor.Directive {
	return actor.RestartDirective
})

// Spawn validates cfg and starts the cleaner actor; the first round runs one
// Interval later. Any goroutine; not a gnet loop.
func Spawn(system *actor.ActorSystem, cfg Config, log CommitLog, queues Queues, disk Disk) (*Cleaner, error) {
	if system == nil || log == nil || queues == nil || disk == nil {
		return nil, fmt.Errorf("%w: nil actor system, commit log, queues or disk", ErrConfig)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Cleaner{
		system: system, cfg: cfg, clog: log, queues: queues, disk: disk,
		log:  cfg.Logger.With().Str("component", "cleaner").Logger(),
		done: make(chan struct{}),
	}
	props := actor.PropsFromProducer(func() actor.Actor { return &cleanerActor{c: c} },
		actor.WithGuardian(supervisor))
	c.pid = system.Root.Spawn(props)
	return c, nil
}

// TriggerDelete asks for one deletion round at the next tick whatever the
// hour and disk usage (TRIGGER_DELETE_FILES). Non-blocking Send; any
// goroutine, including gnet loops. Ignored after Stop.
func (c *Cleaner) TriggerDelete() {
	if c.stopping.Load() {
		return
	}
	c.system.Root.Send(c.pid, triggerDelete{})
}

// DiskFull reports whether the last round found usage above 90 %.
// Lock-free; any goroutine.
func (c *Cleaner) DiskFull() bool { return c.diskFull.Load() }

// Stop stops the timer and the actor after the round in progress, waiting
// until ctx is done. Idempotent: later calls wait for the same stop.
// Blocking; not on gnet loops.
func (c *Cleaner) Stop(ctx context.Context) error {
	if c.stopping.CompareAndSwap(false, true) {
		c.system.Root.Stop(c.pid)
	}
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrStopped, ctx.Err())
	}
}

// stopped marks the actor gone. Actor goroutine (Stopped).
func (c *Cleaner) stopped() { c.doneOnce.Do(func() { close(c.done) }) }
