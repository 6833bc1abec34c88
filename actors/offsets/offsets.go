// Package offsets owns consumer offsets: <StorePathRootDir>/config/
// consumerOffset.json (storage-format.md §8) and the requests that read and
// write it (wire-protocol.md §6.3: QUERY_CONSUMER_OFFSET 14,
// UPDATE_CONSUMER_OFFSET 15; §6.6: GET_ALL_CONSUMER_OFFSET 43), plus the
// commit piggybacked on pulls (§13.2).
//
// File shape (key is topic "@" group; Java writes unquoted integer keys,
// which the loader accepts; we write standard JSON, which Java reads):
//
//	{"offsetTable":{"<topic>@<group>":{"<queueId>":<offset>,…},…},
//	 "dataVersion":{"stateVersion":0,"timestamp":ms,"counter":n}}
//
// One actor owns the table. Readers on other goroutines (the pull path) read
// an offset lock-free: the actor publishes one *atomic.Int64 per
// (group, topic, queue) in a sync.Map it alone writes, and later commits
// only Store into that atomic (no allocation per commit).
//
// Offsets are persisted every FlushConsumerOffsetInterval when something
// changed, on Stop, and before a supervisor restart; a restarted actor re-loads
// the file in Started.
package offsets

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actormq/actormq/actors/actorsys"
	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/storage/vfs"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

// Sentinel errors.
var (
	// ErrLoad is wrapped when consumerOffset.json cannot be read.
	ErrLoad = errors.New("offsets: load")
	// ErrPersist is wrapped when consumerOffset.json cannot be written.
	ErrPersist = errors.New("offsets: persist")
	// ErrStopped is wrapped when the actor is gone or does not answer in time.
	ErrStopped = errors.New("offsets: actor stopped")
)

// FileName is the offsets file under <StorePathRootDir>/config/.
const FileName = "consumerOffset.json"

const (
	flushIntervalDefault = 5 * time.Second
	askTimeoutDefault    = 10 * time.Second
)

// QueueOffsets is implemented by the data plane. Both methods are lock-free
// and safe from any goroutine.
type QueueOffsets interface {
	// MinOffset is the smallest logical offset still stored in the queue.
	MinOffset(topic string, queueID int32) int64
	// MaxOffset is the next logical offset to be written.
	MaxOffset(topic string, queueID int32) int64
}

// key names one consumer offset.
type key struct {
	group, topic string
	queueID      int32
}

// Manager is the handle of the offset actor.
type Manager struct {
	system *actor.ActorSystem
	pid    *actor.PID
	cfg    config.Broker
	queues QueueOffsets
	fs     vfs.FS
	path   string
	log    zerolog.Logger
	live   sync.Map // key → *atomic.Int64; written (Store/Delete) only by the actor

	stopped atomic.Bool
}

// supervisor restarts the offset actor after a panic (a broken invariant):
// Restarting persists the table (every entry is a valid offset at any
// moment), and Started re-loads it, so nothing acknowledged is lost.
var supervisor = actor.NewOneForOneStrategy(3, time.Minute, func(reason interface{}) actor.Directive {
	return actor.RestartDirective
})

// Spawn loads consumerOffset.json and starts the offset actor; it returns once
// the offsets are published, or the load error. fs nil means vfs.Default.
// Blocking; call it at broker start, not on a gnet loop.
func Spawn(system *actor.ActorSystem, cfg config.Broker, queues QueueOffsets, fs vfs.FS, logger zerolog.Logger) (*Manager, error) {
	if fs == nil {
		fs = vfs.Default
	}
	if cfg.FlushConsumerOffsetInterval <= 0 {
		cfg.FlushConsumerOffsetInterval = flushIntervalDefault
	}
	m := &Manager{
		system: system, cfg: cfg, queues: queues, fs: fs,
		path: filepath.Join(cfg.StorePathRootDir, "config", FileName),
		log:  logger.With().Str("component", "offsets").Logger(),
	}
	props := actor.PropsFromProducer(func() actor.Actor { return &offsetActor{m: m} },
		actor.WithGuardian(supervisor), actor.WithDispatcher(actorsys.Hot), actor.WithMailbox(actorsys.Mailbox)) // a commit per pull
	m.pid = system.Root.Spawn(props)
	if _, err := m.ask(context.Background(), &readyRequest{}); err != nil {
		_ = system.Root.StopFuture(m.pid).Wait()
		return nil, fmt.Errorf("offsets: start: %w", err)
	}
	return m, nil
}

// Commit stores offset for (group, topic, queueID); negative offsets (ali-ons
// commits -1 for queues it never consumed) are ignored. Non-blocking Send;
// safe from gnet loops and actors.
func (m *Manager) Commit(group, topic string, queueID int32, offset int64) {
	if offset < 0 {
		return
	}
	m.system.Root.Send(m.pid, &commit{key: key{group, topic, queueID}, offset: offset})
}

// Offset returns the committed offset. Lock-free; any goroutine.
func (m *Manager) Offset(group, topic string, queueID int32) (int64, bool) {
	v, ok := m.live.Load(key{group, topic, queueID})
	if !ok {
		return 0, false
	}
	return v.(*atomic.Int64).Load(), true
}

// Handlers returns the offset request handlers. Each runs on a gnet loop and
// only Sends the request to the actor, which answers on c.
func (m *Manager) Handlers() map[int32]func(*netio.Conn, *remoting.Command) {
	h := func(c *netio.Conn, cmd *remoting.Command) {
		m.system.Root.Send(m.pid, &connRequest{c: c, cmd: cmd})
	}
	return map[int32]func(*netio.Conn, *remoting.Command){
		remoting.ReqQueryConsumerOffset:  h,
		remoting.ReqUpdateConsumerOffset: h,
		remoting.ReqGetAllConsumerOffset: h,
	}
}

// Stop applies everything queued, persists the table and stops the actor.
// Idempotent. Blocking; not on gnet loops. Commits sent after Stop are lost.
func (m *Manager) Stop(ctx context.Context) error {
	if !m.stopped.CompareAndSwap(false, true) {
		return nil
	}
	_, err := m.ask(ctx, &persistRequest{})
	if perr := m.system.Root.PoisonFuture(m.pid).Wait(); perr != nil && err == nil {
		err = fmt.Errorf("%w: %w", ErrStopped, perr)
	}
	return err
}

// ask sends msg and waits for the reply until ctx's deadline; an error reply
// is returned as the error.
func (m *Manager) ask(ctx context.Context, msg interface{}) (interface{}, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStopped, err)
	}
	timeout := askTimeoutDefault
	if dl, ok := ctx.Deadline(); ok {
		// A future with a negative timeout would never time out.
		if timeout = time.Until(dl); timeout <= 0 {
			return nil, fmt.Errorf("%w: %w", ErrStopped, context.DeadlineExceeded)
		}
	}
	res, err := m.system.Root.RequestFuture(m.pid, msg, timeout).Result()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStopped, err)
	}
	if e, ok := res.(error); ok {
		return nil, e
	}
	return res, nil
}
