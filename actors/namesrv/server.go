package namesrv

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/actormq/actormq/actors/actorsys"
	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/netio"
)

// Supervision of both actors: restart on a panic, at most restartsMax times
// within restartWindow, then stop. A panic is a broken invariant, never bad
// input (bad requests are answered with errors before they reach an actor).
// Restart is safe here because neither actor holds state that a restart
// loses for good: the route table is rebuilt by the brokers' registrations
// within one period (30 s), and the KV actor resumes from the published
// table, which always equals kvConfig.json. The request that panicked gets
// no answer; its client times out.
const (
	restartsMax   = 10
	restartWindow = time.Minute
)

// Server lifecycle states.
const (
	stateNew int32 = iota
	stateRunning
	stateStopped
)

// Server is the NameServer: a netio server whose handler feeds the route
// actor and the KV actor of one private actor system.
type Server struct {
	cfg config.Namesrv
	log zerolog.Logger

	state    atomic.Int32
	stopDone chan struct{} // closed when Shutdown finished
	stopErr  error         // set before stopDone closes

	system     *actor.ActorSystem
	routes, kv *actor.PID
	routesDone chan struct{}
	kvDone     chan struct{}
	kvTable    atomic.Pointer[kvTable]
	net        *netio.Server
	inflight   atomic.Int64 // requests queued at the actors
	hooks      hooks
}

// hooks are event callbacks for tests, set before Start; nil fields are skipped.
type hooks struct {
	// connClosed runs on the route actor after it processed a connection
	// close, with the broker addresses the close removed.
	connClosed func(id uint64, removed []string)
}

// New builds a NameServer; Start listens. cfg is validated by Start.
func New(cfg config.Namesrv, logger zerolog.Logger) *Server {
	return &Server{
		cfg:        cfg,
		log:        logger.With().Str("component", "namesrv").Logger(),
		stopDone:   make(chan struct{}),
		routesDone: make(chan struct{}),
		kvDone:     make(chan struct{}),
	}
}

// Start validates the config, loads kvConfig.json, spawns the actors and
// listens on cfg.ListenAddress() (0.0.0.0:9876 by default). It returns once
// the listener is bound. Call it once, from any goroutine; after a failed
// Start, Shutdown has nothing to do.
func (s *Server) Start() error {
	if !s.state.CompareAndSwap(stateNew, stateRunning) {
		return ErrStarted
	}
	if err := s.start(); err != nil {
		_ = s.stopActors(context.Background())
		s.state.Store(stateStopped)
		close(s.stopDone)
		return err
	}
	return nil
}

func (s *Server) start() error {
	if err := s.cfg.Validate(); err != nil {
		return err
	}
	table, err := loadKV(s.cfg.KVConfigPath)
	if err != nil {
		return err
	}
	s.kvTable.Store(&table)

	s.system = actorsys.New(s.log)
	guardian := actor.WithGuardian(actor.NewOneForOneStrategy(restartsMax, restartWindow, func(reason any) actor.Directive {
		s.log.Error().Interface("reason", reason).Msg("actor panicked, restarting it")
		return actor.RestartDirective
	}))
	kvProps := actor.PropsFromProducer(func() actor.Actor {
		return &kvActor{path: s.cfg.KVConfigPath, log: s.log, pub: &s.kvTable, done: s.kvDone, inflight: &s.inflight}
	}, guardian)
	if s.kv, err = s.system.Root.SpawnNamed(kvProps, "namesrv-kv"); err != nil {
		return fmt.Errorf("namesrv: spawn kv actor: %w", err)
	}
	routeProps := actor.PropsFromProducer(func() actor.Actor {
		return &routeActor{
			cfg: s.cfg, log: s.log, now: time.Now, done: s.routesDone, hooks: s.hooks, inflight: &s.inflight,
			kv: func() kvTable { return *s.kvTable.Load() },
		}
	}, guardian)
	if s.routes, err = s.system.Root.SpawnNamed(routeProps, "namesrv-routes"); err != nil {
		return fmt.Errorf("namesrv: spawn route actor: %w", err)
	}

	addr := s.cfg.ListenAddress()
	h := &handler{
		root: s.system.Root, routes: s.routes, kv: s.kv, cfg: s.cfg, log: s.log,
		configText: []byte(config.Format(s.cfg.Properties())), inflight: &s.inflight,
	}
	s.net = netio.NewServer(netio.ServerConfig{Addr: addr, Logger: s.log}, h)
	if err := s.net.Start(); err != nil {
		s.net = nil
		return fmt.Errorf("namesrv: listen on %s: %w", addr, err)
	}
	s.log.Info().Str("addr", s.net.Addr()).Msg("name server listening")
	return nil
}

// Addr is the bound "ip:port", valid after a successful Start.
func (s *Server) Addr() string {
	if s.net == nil {
		return ""
	}
	return s.net.Addr()
}

// Shutdown stops listening, closes every connection, lets both actors finish
// their queued requests and stops them. It is idempotent and safe from any
// goroutine; every call waits (until ctx is done) for the first to finish.
func (s *Server) Shutdown(ctx context.Context) error {
	if !s.state.CompareAndSwap(stateRunning, stateStopped) {
		if s.state.CompareAndSwap(stateNew, stateStopped) {
			close(s.stopDone)
			return nil
		}
		select {
		case <-s.stopDone:
			return s.stopErr
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var errs []error
	if s.net != nil {
		// First the network, so no request arrives at a stopping actor.
		if err := s.net.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("namesrv: network shutdown: %w", err))
		}
	}
	if err := s.stopActors(ctx); err != nil {
		errs = append(errs, err)
	}
	s.stopErr = errors.Join(errs...)
	close(s.stopDone)
	s.log.Info().Msg("name server stopped")
	return s.stopErr
}

// stopActors poisons both actors (they answer what is queued first), waits
// for them to stop and shuts the actor system down.
func (s *Server) stopActors(ctx context.Context) error {
	if s.system == nil {
		return nil
	}
	var err error
	for _, a := range []struct {
		pid  *actor.PID
		done chan struct{}
	}{{s.routes, s.routesDone}, {s.kv, s.kvDone}} {
		if a.pid == nil {
			continue
		}
		s.system.Root.Poison(a.pid)
		select {
		case <-a.done:
		case <-ctx.Done():
			err = fmt.Errorf("namesrv: actors still stopping: %w", ctx.Err())
		}
	}
	s.system.Shutdown()
	return err
}
