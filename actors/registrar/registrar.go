// Package registrar owns the broker's registration with the NameServers
// (wire-protocol.md §5): REGISTER_BROKER (103) to every NameServer at start,
// every RegisterNameServerPeriod and shortly after each topic-table change,
// and UNREGISTER_BROKER (104) on shutdown.
//
// Actors:
//
//	registrar (one)        timers, debounce, rounds; builds each request
//	  └─ link (one per NameServer address)
//	                       sends one request at a time and waits for the answer
//
// The links make registrations to different NameServers run in parallel
// without goroutines of our own; a link blocks only its own mailbox. The
// registrar never queues a second registration behind a busy link: it marks
// the link dirty and sends a fresh request (with the newest topic table) when
// the link reports back.
package registrar

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/body"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

// ErrStopped is wrapped when the registrar's actor is gone or does not answer.
var ErrStopped = errors.New("registrar: actor stopped")

const (
	registerPeriodDefault  = 30 * time.Second
	registerTimeoutDefault = 24 * time.Second // registerBrokerTimeoutMills for configs built without Validate
	debounceDelay          = 100 * time.Millisecond
	stopTimeout            = 10 * time.Second
)

// Topics is what the registrar reads of the broker's metadata (implemented
// by *meta.Metadata): the topic table with its DataVersion, lock-free from
// any goroutine, and a hook called after each change, which must not block.
type Topics interface {
	TopicTable() body.TopicConfigSerializeWrapper
	OnTopicsChanged(fn func())
}

// Registrar is the handle of the registrar actor.
type Registrar struct {
	system  *actor.ActorSystem
	pid     *actor.PID
	stopped atomic.Bool
	// cancel ends every request in flight (links derive their contexts from
	// it), so Stop does not wait out a 24 s register timeout.
	cancel context.CancelFunc
}

// supervisor restarts the registrar and its links after a panic: they hold no
// state worth keeping (the topic table is read from meta at each round), and
// Started re-arms the period timer.
var supervisor = actor.NewOneForOneStrategy(10, time.Minute, func(reason interface{}) actor.Directive {
	return actor.RestartDirective
})

// Spawn starts the registrar and registers with every NameServer of
// cfg.NamesrvAddr ("host:port;host:port") before returning; a NameServer that
// is down is logged, not an error. Later registrations happen every
// RegisterNameServerPeriod and about 100 ms after each topic-table change.
// Blocking (up to min(RegisterBrokerTimeoutMills, period) for a NameServer
// that accepts but does not answer); call it at broker start, not on a gnet loop.
func Spawn(system *actor.ActorSystem, cfg config.Broker, md Topics, client *netio.Client, logger zerolog.Logger) (*Registrar, error) {
	if md == nil || client == nil {
		return nil, fmt.Errorf("registrar: spawn: nil metadata or client")
	}
	if cfg.RegisterNameServerPeriod <= 0 {
		cfg.RegisterNameServerPeriod = registerPeriodDefault
	}
	if cfg.RegisterBrokerTimeoutMills <= 0 {
		cfg.RegisterBrokerTimeoutMills = registerTimeoutDefault
	}
	base, cancel := context.WithCancel(context.Background())
	r := &Registrar{system: system, cancel: cancel}
	log := logger.With().Str("component", "registrar").Logger()
	addrs := cfg.NamesrvAddrs()
	timeout := min(cfg.RegisterBrokerTimeoutMills, cfg.RegisterNameServerPeriod)
	props := actor.PropsFromProducer(func() actor.Actor {
		return &registrarActor{cfg: cfg, meta: md, client: client, log: log, addrs: addrs, timeout: timeout, base: base}
	}, actor.WithGuardian(supervisor), actor.WithSupervisor(supervisor))
	r.pid = system.Root.Spawn(props)
	// Hooked before the first round, so a change during it is not missed.
	md.OnTopicsChanged(func() {
		if !r.stopped.Load() {
			system.Root.Send(r.pid, &topicsChanged{})
		}
	})

	// The first round: wait for every link's answer (each bounded by timeout).
	res, err := system.Root.RequestFuture(r.pid, &registerAndWait{}, timeout+stopTimeout).Result()
	if err != nil {
		_ = r.Stop(context.Background())
		return nil, fmt.Errorf("%w: first registration: %w", ErrStopped, err)
	}
	if n, ok := res.(roundDone); ok && n.failed > 0 {
		log.Warn().Int("failed", n.failed).Int("nameservers", len(addrs)).Msg("first registration incomplete")
	}
	return r, nil
}

// Unregister sends UNREGISTER_BROKER to every NameServer and waits for the
// answers until ctx's deadline; periodic registration stops first, so the
// broker does not re-appear. Blocking; not on gnet loops.
func (r *Registrar) Unregister(ctx context.Context) {
	timeout := stopTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	if timeout <= 0 {
		return
	}
	_, _ = r.system.Root.RequestFuture(r.pid, &unregisterAll{timeout: timeout}, timeout).Result()
}

// Stop stops the timers, the links and the registrar. Idempotent. Blocking;
// not on gnet loops.
func (r *Registrar) Stop(ctx context.Context) error {
	if !r.stopped.CompareAndSwap(false, true) {
		return nil
	}
	r.cancel()
	if err := r.system.Root.PoisonFuture(r.pid).Wait(); err != nil {
		return fmt.Errorf("%w: %w", ErrStopped, err)
	}
	return nil
}
