package testkit

import (
	"log/slog"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
)

// ActorSystem returns a protoactor actor system of its own for one test (a
// system shared between tests lets one test's actors disturb the next),
// logging nothing, and shuts it down at the test's cleanup. Its logs are
// dropped rather than routed through actorsys: protoactor logs every spawn and
// stop, and the tests assert on behaviour, not on log lines.
func ActorSystem(t testing.TB) *actor.ActorSystem {
	t.Helper()
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	t.Cleanup(sys.Shutdown)
	return sys
}
