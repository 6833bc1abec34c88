package offload_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/offload"
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
)

// start is a message that makes the parent Run call under key.
type start struct {
	key  string
	call func(context.Context) error
}

// ping is answered by the parent on pong: it shows the parent serves.
type ping struct{}

// TestRunReportsOutcomes: a parent starts three calls — one that blocks
// until its deadline, one that fails, one that panics — and keeps serving
// while they run; each outcome comes back as a Done under its key.
func TestRunReportsOutcomes(t *testing.T) {
	sys := testkit.ActorSystem(t)
	done := make(chan *offload.Done, 3)
	pong := make(chan struct{}, 1)
	parent := sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		switch m := ctx.Message().(type) {
		case *start:
			offload.Run(ctx, m.key, 200*time.Millisecond, m.call)
		case *offload.Done:
			done <- m
		case *ping:
			pong <- struct{}{}
		}
	}))
	release := make(chan struct{})
	sys.Root.Send(parent, &start{key: "blocks", call: func(ctx context.Context) error {
		if _, ok := ctx.Deadline(); !ok {
			return errors.New("no deadline")
		}
		<-release
		<-ctx.Done()
		return ctx.Err()
	}})
	sys.Root.Send(parent, &start{key: "fails", call: func(context.Context) error { return reply.ErrTopicNotExist }})
	sys.Root.Send(parent, &start{key: "panics", call: func(context.Context) error { panic("boom") }})

	got := map[string]error{}
	for range 2 {
		d := testkit.Receive(t, done, "an outcome")
		got[d.Key] = d.Err
	}
	sys.Root.Send(parent, &ping{})
	testkit.Receive(t, pong, "the parent serving while a call blocks")
	close(release)
	d := testkit.Receive(t, done, "the blocked call's outcome")
	got[d.Key] = d.Err

	if !errors.Is(got["fails"], reply.ErrTopicNotExist) {
		t.Errorf("fails: %v", got["fails"])
	}
	if err := got["panics"]; reply.CodeOf(err) != remoting.RespSystemError || !strings.Contains(err.Error(), "panics panicked: boom") {
		t.Errorf("panics: %v", err)
	}
	if !errors.Is(got["blocks"], context.DeadlineExceeded) {
		t.Errorf("blocks: %v", got["blocks"])
	}
}
