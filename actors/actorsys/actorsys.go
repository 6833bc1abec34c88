// Package actorsys builds the protoactor-go actor system shared by a process's
// actors, with protoactor's slog output routed into zerolog at Warn and above
// (its Info chatter about every spawn and stop would drown ours).
//
// It also holds Hot, the dispatcher of the actors on the per-message path:
// their mailbox turns run on long-lived pool workers whose stacks are already
// grown, instead of on a new goroutine per idle → busy wake-up (protoactor's
// default, whose goroutine start and stack growth cost 3–13% of broker CPU
// on single sends and most of the scale run's loss). Schedule never waits
// for a worker and idle workers exit; dispatcher.go says why and what was
// rejected.
package actorsys

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

// New returns an actor system logging through logger.
func New(logger zerolog.Logger) *actor.ActorSystem {
	h := &zerologHandler{log: logger.With().Str("lib", "protoactor").Logger()}
	return actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(h)
	}))
}

// zerologHandler is a slog.Handler writing to zerolog.
type zerologHandler struct {
	log   zerolog.Logger
	attrs []slog.Attr
}

func (h *zerologHandler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= slog.LevelWarn
}

func (h *zerologHandler) Handle(_ context.Context, r slog.Record) error {
	ev := h.log.Warn()
	if r.Level >= slog.LevelError {
		ev = h.log.Error()
	}
	for _, a := range h.attrs {
		ev = ev.Interface(a.Key, a.Value.Any())
	}
	r.Attrs(func(a slog.Attr) bool {
		ev = ev.Interface(a.Key, a.Value.Any())
		return true
	})
	ev.Msg(r.Message)
	return nil
}

func (h *zerologHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &zerologHandler{log: h.log, attrs: append(append([]slog.Attr{}, h.attrs...), attrs...)}
}

// WithGroup flattens groups: protoactor does not use them in ways worth keeping.
func (h *zerologHandler) WithGroup(string) slog.Handler { return h }

// PoisonAndWait stops the actor pid after the messages already in its
// mailbox (Poison) and waits until done is closed (the actor closes it on
// Stopped) or ctx ends; what names the actor in the error.
func PoisonAndWait(ctx context.Context, root *actor.RootContext, pid *actor.PID, done <-chan struct{}, what string) error {
	root.Poison(pid)
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: stop: %w", what, ctx.Err())
	}
}
