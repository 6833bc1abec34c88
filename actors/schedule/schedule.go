// Package schedule owns delayed delivery (storage-format.md §12.1,
// wire-protocol.md §14): the diversion of a message with a delay level into
// SCHEDULE_TOPIC_XXXX (Divert, called by the send path and the retry actor),
// one level actor per delay level that re-publishes due messages to their
// real topic and queue, and delayOffset.json, the delivery progress of each
// level (GET_ALL_DELAY_OFFSET answers it).
//
// Actors (spawned by Spawn; names "schedule-level-<n>", "schedule-offsets"):
//
//	level actor     one per level of messageDelayLevel (masters only). Owns
//	                its read cursor, the window of Puts in flight and one
//	                timer; publishes its committed offset in an atomic.
//	offsets actor   owns delayOffset.json: persists the published offsets
//	                every flushDelayOffsetInterval and at Stop, answers
//	                GET_ALL_DELAY_OFFSET.
//
// A level actor's contract, per unit of queue level−1, in queue order:
//  1. fillers are skipped;
//  2. deliver time = tagsCode, corrected to now when it lies further in the
//     future than now + the level's delay (a unit written under a longer
//     delay configuration, or a clock step), as Java does;
//  3. not due: one timer for the remaining time, nothing else runs;
//  4. due: read the record (ReadMessage), build the real message (real.go)
//     and Put it; a record that cannot be read or has no real topic is
//     skipped with an Error log (never a stuck level);
//  5. the committed offset advances over a unit only once its Put
//     succeeded (or it was skipped), in queue order; a failed Put is
//     retried after RetryBackoff, by the same timer.
//
// Up to InflightMax Puts are in flight per level, so a burst of due messages
// (retries after an outage) is not paced by one writer round trip each.
// With nothing left to read a level asks the queue registry to Watch its
// queue and costs nothing until a unit arrives: no timer, no polling.
//
// Persistence: the committed offsets are persisted every
// flushDelayOffsetInterval and at Stop. Stop lets every level finish its
// Puts in flight first, so a clean restart neither repeats nor loses a
// message. After a crash the persisted offsets lag: messages delivered since
// are delivered again (at least once), and none is delivered early because
// the deliver time lives in the consume-queue unit, which recovery rebuilds
// (store.Config.DelayLevels).
package schedule

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/writer"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/storage/vfs"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

// Sentinel errors.
var (
	// ErrConfig is wrapped by Spawn's config validation failures.
	ErrConfig = errors.New("schedule: invalid config")
	// ErrLoad is wrapped when delayOffset.json cannot be read.
	ErrLoad = errors.New("schedule: load delay offsets")
	// ErrPersist is wrapped when delayOffset.json cannot be written.
	ErrPersist = errors.New("schedule: persist delay offsets")
	// ErrStop is wrapped when Stop does not finish before its context ends.
	ErrStop = errors.New("schedule: stop")
)

// FileName is the offsets file under <storePathRootDir>/config/.
const FileName = "delayOffset.json"

// Queues is the consume-queue side a level reads (*queue.Registry). All
// methods are safe from any goroutine and never block.
type Queues interface {
	ReadUnits(key store.QueueKey, queueOffset int64, dst []consumequeue.Unit) ([]consumequeue.Unit, error)
	MinOffset(topic string, queueID int32) int64
	MaxOffset(topic string, queueID int32) int64
	// Watch calls fn once the queue holds a unit at queue offset from.
	Watch(key store.QueueKey, from int64, fn func())
}

// Records reads commit-log records (*commitlog.CommitLog). Any goroutine.
type Records interface {
	ReadMessage(offset int64) (message.Message, error)
}

// Putter appends broker-built messages (*writer.Writer); see writer.Put for
// the contract of done.
type Putter interface {
	Put(m *message.Message, tagsCode int64, noWait bool, done func(writer.PutResult))
}

// Config configures Spawn. Broker, Queues, Records and Writer are required.
type Config struct {
	// Broker supplies storePathRootDir, brokerRole (a SLAVE delivers
	// nothing), messageDelayLevel and flushDelayOffsetInterval.
	Broker  config.Broker
	Queues  Queues
	Records Records
	Writer  Putter
	FS      vfs.FS // default vfs.Default
	Logger  zerolog.Logger

	// InflightMax bounds the Puts one level has in flight. Default 32.
	InflightMax int
	// RetryBackoff is the wait before a failed Put or consume-queue read is
	// retried. Default 1 s (Java 4.9 waits 10 s; a shorter wait delays a
	// message less after a transient writer failure and costs one timer).
	RetryBackoff time.Duration
}

func (c *Config) validate() error {
	switch {
	case c.Queues == nil:
		return fmt.Errorf("%w: Queues is nil", ErrConfig)
	case c.Records == nil:
		return fmt.Errorf("%w: Records is nil", ErrConfig)
	case c.Writer == nil:
		return fmt.Errorf("%w: Writer is nil", ErrConfig)
	}
	if c.FS == nil {
		c.FS = vfs.Default
	}
	if c.InflightMax <= 0 {
		c.InflightMax = 32
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = time.Second
	}
	if c.Broker.FlushDelayOffsetInterval <= 0 {
		c.Broker.FlushDelayOffsetInterval = 10 * time.Second
	}
	return nil
}

// Scheduler is the handle of the level actors and the offsets actor. Its
// methods are safe from any goroutine.
type Scheduler struct {
	cfg    Config
	log    zerolog.Logger
	root   *actor.RootContext
	path   string
	delays []time.Duration // element i: the delay of level i+1

	// committed[i] is level i+1's next offset to deliver. Only that level's
	// actor writes it (before Spawn returns: Spawn); the offsets actor reads it.
	committed []atomic.Int64
	// extra holds levels of the loaded file beyond messageDelayLevel, kept
	// as loaded so that shrinking the configuration loses no progress.
	// Immutable after Spawn.
	extra map[int32]int64

	levels      []*level
	offsets     *actor.PID
	offsetsDone chan struct{}
	stopping    atomic.Bool
}

// level is what outlives one incarnation of a level actor.
type level struct {
	n     int // 1-based level
	key   store.QueueKey
	delay time.Duration
	pid   *actor.PID
	done  chan struct{} // closed when the actor has stopped for good
	// epochs numbers the incarnations (a supervisor restart makes a new
	// one), so answers meant for an earlier one are ignored.
	epochs atomic.Uint64
}

// Spawn loads delayOffset.json and starts the offsets actor and, unless the
// broker is a SLAVE, one level actor per delay level. The queue registry and
// the writer must be running. Blocking (file I/O); call it at broker start.
func Spawn(system *actor.ActorSystem, cfg Config) (*Scheduler, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Scheduler{
		cfg:         cfg,
		log:         cfg.Logger.With().Str("component", "schedule").Logger(),
		root:        system.Root,
		path:        filepath.Join(cfg.Broker.StorePathRootDir, "config", FileName),
		delays:      cfg.Broker.DelayLevels(),
		offsetsDone: make(chan struct{}),
	}
	s.committed = make([]atomic.Int64, len(s.delays))
	version, err := s.load()
	if err != nil {
		return nil, err
	}
	s.offsets, err = system.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
		return &offsetsActor{s: s, version: version}
	}, actor.WithGuardian(offsetsSupervisor(s.log))), "schedule-offsets")
	if err != nil {
		return nil, fmt.Errorf("schedule: spawn offsets actor: %w", err)
	}
	if cfg.Broker.BrokerRole == config.RoleSlave {
		s.log.Info().Msg("slave: delay levels are not delivered here")
		return s, nil
	}
	sup := levelSupervisor(s.log)
	for i, d := range s.delays {
		l := &level{n: i + 1, key: store.QueueKey{Topic: body.ScheduleTopic, QueueID: int32(i)}, delay: d, done: make(chan struct{})}
		l.pid, err = system.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
			return newLevelActor(s, l)
		}, actor.WithGuardian(sup)), fmt.Sprintf("schedule-level-%d", l.n))
		if err != nil {
			_ = s.Stop(context.Background())
			return nil, fmt.Errorf("schedule: spawn level %d: %w", l.n, err)
		}
		s.levels = append(s.levels, l)
	}
	return s, nil
}

// levelSupervisor restarts a level actor after a panic (a broken invariant
// in handling one unit): the new incarnation resumes from the committed
// offset, so Puts that were in flight may be delivered twice, never lost.
// A level that keeps failing is stopped and logged; the others go on.
func levelSupervisor(log zerolog.Logger) actor.SupervisorStrategy {
	return actor.NewOneForOneStrategy(5, time.Minute, func(reason any) actor.Directive {
		log.Error().Interface("reason", reason).Msg("schedule level actor failed; restarting it")
		return actor.RestartDirective
	})
}

// offsetsSupervisor restarts the offsets actor after a panic: its state is
// the committed offsets (atomics it only reads) and a data version.
func offsetsSupervisor(log zerolog.Logger) actor.SupervisorStrategy {
	return actor.NewOneForOneStrategy(5, time.Minute, func(reason any) actor.Directive {
		log.Error().Interface("reason", reason).Msg("schedule offsets actor failed; restarting it")
		return actor.RestartDirective
	})
}

// Handlers returns the GET_ALL_DELAY_OFFSET handler. It runs on a gnet loop
// and only Sends the request to the offsets actor, which answers on c.
func (s *Scheduler) Handlers() map[int32]func(*netio.Conn, *remoting.Command) {
	return map[int32]func(*netio.Conn, *remoting.Command){
		remoting.ReqGetAllDelayOffset: func(c *netio.Conn, cmd *remoting.Command) {
			s.root.Send(s.offsets, &offsetsRequest{conn: c, cmd: cmd})
		},
	}
}

// Offsets returns each level's committed offset (level → next queue offset
// to deliver), as delayOffset.json holds it. Any goroutine.
func (s *Scheduler) Offsets() map[int32]int64 {
	t := make(map[int32]int64, len(s.committed)+len(s.extra))
	for n, off := range s.extra {
		t[n] = off
	}
	for i := range s.committed {
		t[int32(i+1)] = s.committed[i].Load()
	}
	return t
}

// Stop stops the level actors after their Puts in flight are answered (no
// new Put starts once Stop began), then persists delayOffset.json and stops
// the offsets actor. Call it before the writer stops. When ctx ends first,
// the remaining level actors are told to stop and Stop returns without
// waiting for them (their in-flight messages are delivered again after a
// restart), and the offsets actor persists the offsets as it stops,
// without being waited for. Idempotent; blocking, not on a gnet loop.
func (s *Scheduler) Stop(ctx context.Context) error {
	if !s.stopping.CompareAndSwap(false, true) {
		return nil
	}
	var errs []error
	for _, l := range s.levels {
		s.root.Send(l.pid, drain{})
	}
	for _, l := range s.levels {
		select {
		case <-l.done:
		case <-ctx.Done():
			// Stopped after its current message; not waited for, as
			// nothing bounds that wait any more.
			errs = append(errs, fmt.Errorf("%w: level %d: %w", ErrStop, l.n, ctx.Err()))
			s.root.Stop(l.pid)
		}
	}
	res, err := s.root.RequestFuture(s.offsets, persistRequest{}, timeLeft(ctx)).Result()
	if err != nil {
		errs = append(errs, fmt.Errorf("%w: offsets actor: %w", ErrStop, err))
	} else if e, ok := res.(error); ok {
		errs = append(errs, e)
	}
	s.root.Poison(s.offsets)
	select {
	case <-s.offsetsDone:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("%w: offsets actor: %w", ErrStop, ctx.Err()))
	}
	return errors.Join(errs...)
}

// timeLeft is ctx's remaining time for a future; at least a millisecond, so
// that an expired context still gives the future a (failing) deadline.
func timeLeft(ctx context.Context) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		return max(time.Until(dl), time.Millisecond)
	}
	return 10 * time.Second
}
