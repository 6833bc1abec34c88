// Package meta owns the broker's topic and subscription-group configuration:
// <StorePathRootDir>/config/topics.json and subscriptionGroup.json
// (storage-format.md §8), the system topics created at start (TBW102 when
// autoCreateTopicEnable, SELF_TEST_TOPIC, the cluster-name and broker-name
// topics), auto-creation of topics on send and of groups on heartbeat, and the
// admin requests that read or change them (wire-protocol.md §6.6: codes 17,
// 21, 200, 201, 351, 352).
//
// One actor owns both tables. Every change follows the same contract:
//
//  1. build the new table as a copy (the published one is never mutated),
//  2. persist it atomically (storage/metadata.Save); on failure the change is
//     dropped and the caller gets the error,
//  3. publish the copy through an atomic pointer (lock-free readers see it),
//  4. for topic changes, call the OnTopicsChanged listeners (the registrar
//     re-registers with the NameServers).
//
// Because the files are always at least as new as the published tables, a
// restarted actor simply re-loads them in Started.
package meta

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/storage/vfs"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

// Sentinel errors of the metadata actor.
var (
	// ErrTimeout is wrapped when the actor did not answer within the caller's deadline.
	ErrTimeout = errors.New("meta: request timed out")
	// ErrStopped is wrapped when the actor is gone (stopped or never started).
	ErrStopped = errors.New("meta: actor stopped")
	// ErrLoad is wrapped when topics.json or subscriptionGroup.json cannot be read.
	ErrLoad = errors.New("meta: load config")
	// ErrPersist is wrapped when a table cannot be written; the change is dropped.
	ErrPersist = errors.New("meta: persist config")
)

// File names under <StorePathRootDir>/config/.
const (
	TopicsFile = "topics.json"
	GroupsFile = "subscriptionGroup.json"
)

// defaultAskTimeout bounds a blocking call whose ctx has no deadline.
const defaultAskTimeout = 10 * time.Second

// Config configures the metadata actor.
type Config struct {
	Broker config.Broker
	FS     vfs.FS // nil means vfs.Default
	Logger zerolog.Logger
}

// Metadata is the handle other actors and the router use. Lock-free readers
// (Topic, TopicTable, Group) may be called from any goroutine, gnet loops
// included; the ctx-taking methods block on the actor and must never be called
// from a gnet loop.
type Metadata struct {
	system *actor.ActorSystem
	pid    *actor.PID
	cfg    config.Broker
	fs     vfs.FS
	log    zerolog.Logger
	dir    string

	topics atomic.Pointer[topicTable] // replaced only by the actor
	groups atomic.Pointer[groupTable] // replaced only by the actor

	listenersMu sync.Mutex
	listeners   []func()

	stopped atomic.Bool
}

// topicTable is an immutable snapshot of topics.json.
type topicTable struct {
	byName  map[string]body.TopicConfig
	version body.DataVersion
}

// groupTable is an immutable snapshot of subscriptionGroup.json.
type groupTable struct {
	byName    map[string]body.SubscriptionGroupConfig
	forbidden map[string]map[string]int32
	version   body.DataVersion
}

// supervisor restarts the metadata actor after a panic (a broken invariant,
// never bad input or a disk error, which are answered as errors): the files
// are the source of truth and Started re-loads them, so nothing is lost. Three
// restarts within a minute stop it instead of looping.
var supervisor = actor.NewOneForOneStrategy(3, time.Minute, func(reason interface{}) actor.Directive {
	return actor.RestartDirective
})

// Spawn starts the metadata actor: it loads both files (fastjson forms
// accepted), adds the system topics, persists when that changed anything, and
// returns once the tables are published. A load or persist failure stops the
// actor and is returned. Blocking; call it at broker start, not on a gnet loop.
func Spawn(system *actor.ActorSystem, cfg Config) (*Metadata, error) {
	fs := cfg.FS
	if fs == nil {
		fs = vfs.Default
	}
	m := &Metadata{
		system: system,
		cfg:    cfg.Broker,
		fs:     fs,
		log:    cfg.Logger.With().Str("component", "meta").Logger(),
		dir:    filepath.Join(cfg.Broker.StorePathRootDir, "config"),
	}
	props := actor.PropsFromProducer(func() actor.Actor { return &metaActor{m: m} },
		actor.WithGuardian(supervisor))
	m.pid = system.Root.Spawn(props)
	if _, err := m.ask(context.Background(), &readyRequest{}); err != nil {
		_ = system.Root.StopFuture(m.pid).Wait()
		return nil, fmt.Errorf("meta: start: %w", err)
	}
	return m, nil
}

// Topic returns the config of topic. Lock-free; any goroutine.
func (m *Metadata) Topic(name string) (body.TopicConfig, bool) {
	t := m.topics.Load()
	if t == nil {
		return body.TopicConfig{}, false
	}
	tc, ok := t.byName[name]
	return tc, ok
}

// TopicTable returns a copy of the topic table with its DataVersion. The map
// is the caller's; the TopicConfig values share their Attributes maps with
// the snapshot and must not be modified. Lock-free; any goroutine.
func (m *Metadata) TopicTable() body.TopicConfigSerializeWrapper {
	t := m.topics.Load()
	if t == nil {
		return body.TopicConfigSerializeWrapper{TopicConfigTable: map[string]body.TopicConfig{}}
	}
	out := make(map[string]body.TopicConfig, len(t.byName))
	for k, v := range t.byName {
		out[k] = v
	}
	return body.TopicConfigSerializeWrapper{TopicConfigTable: out, DataVersion: t.version}
}

// Group returns the config of a subscription group. Lock-free; any goroutine.
func (m *Metadata) Group(name string) (body.SubscriptionGroupConfig, bool) {
	g := m.groups.Load()
	if g == nil {
		return body.SubscriptionGroupConfig{}, false
	}
	c, ok := g.byName[name]
	return c, ok
}

// OnTopicsChanged adds fn to the listeners called, on the actor goroutine,
// after every change of the topic table. fn must not block (Send to an actor).
func (m *Metadata) OnTopicsChanged(fn func()) {
	m.listenersMu.Lock()
	m.listeners = append(m.listeners, fn)
	m.listenersMu.Unlock()
}

func (m *Metadata) notifyTopicsChanged() {
	m.listenersMu.Lock()
	fns := append([]func(){}, m.listeners...)
	m.listenersMu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// Handlers returns the admin request handlers this actor serves. Each runs on
// a gnet loop and only Sends the request to the actor, which answers on c.
func (m *Metadata) Handlers() map[int32]func(*netio.Conn, *remoting.Command) {
	h := func(c *netio.Conn, cmd *remoting.Command) {
		m.system.Root.Send(m.pid, &connRequest{c: c, cmd: cmd})
	}
	return map[int32]func(*netio.Conn, *remoting.Command){
		remoting.ReqUpdateAndCreateTopic:          h,
		remoting.ReqGetAllTopicConfig:             h,
		remoting.ReqUpdateAndCreateSubscription:   h,
		remoting.ReqGetAllSubscriptionGroupConfig: h,
		remoting.ReqGetTopicConfig:                h,
		remoting.ReqGetSubscriptionGroupConfig:    h,
	}
}

// Stop persists both tables and stops the actor. Idempotent. Blocking; not on
// gnet loops.
func (m *Metadata) Stop(ctx context.Context) error {
	if !m.stopped.CompareAndSwap(false, true) {
		return nil
	}
	_, err := m.ask(ctx, &persistRequest{})
	if perr := m.system.Root.PoisonFuture(m.pid).Wait(); perr != nil && err == nil {
		err = fmt.Errorf("meta: stop: %w", perr)
	}
	return err
}

// ask sends msg to the actor and waits for its reply until ctx's deadline
// (defaultAskTimeout without one). A reply that is an error is returned as the
// error.
func (m *Metadata) ask(ctx context.Context, msg interface{}) (interface{}, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	timeout := defaultAskTimeout
	if dl, ok := ctx.Deadline(); ok {
		// A future with a negative timeout would never time out.
		if timeout = time.Until(dl); timeout <= 0 {
			return nil, fmt.Errorf("%w: %w", ErrTimeout, context.DeadlineExceeded)
		}
	}
	return futureResult(m.system.Root.RequestFuture(m.pid, msg, timeout).Result())
}

// futureResult turns a future's outcome into (reply, error).
func futureResult(res interface{}, err error) (interface{}, error) {
	switch {
	case errors.Is(err, actor.ErrTimeout):
		return nil, fmt.Errorf("%w: %w", ErrTimeout, err)
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrStopped, err)
	}
	if e, ok := res.(error); ok {
		return nil, e
	}
	return res, nil
}
