package actorsys

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

func TestPoisonAndWait(t *testing.T) {
	sys := New(zerolog.Nop())
	defer sys.Shutdown()

	// An actor that closes done on Stopped: PoisonAndWait returns nil.
	done := make(chan struct{})
	pid := sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if _, ok := c.Message().(*actor.Stopped); ok {
			close(done)
		}
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := PoisonAndWait(ctx, sys.Root, pid, done, "test"); err != nil {
		t.Fatalf("PoisonAndWait = %v, want nil", err)
	}

	// done never closes: the error names the actor and wraps ctx's.
	never := make(chan struct{})
	pid = sys.Root.Spawn(actor.PropsFromFunc(func(actor.Context) {}))
	short, cancelShort := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancelShort()
	err := PoisonAndWait(short, sys.Root, pid, never, "test")
	if !errors.Is(err, context.DeadlineExceeded) || err.Error() != "test: stop: context deadline exceeded" {
		t.Fatalf("PoisonAndWait = %v, want test: stop: context deadline exceeded", err)
	}
}
