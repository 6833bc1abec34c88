// Package offload runs a blocking control-plane call — creating a topic or
// a group through the metadata actor, which persists and registers — for an
// actor without blocking it: a short-lived child actor makes the call with
// a deadline and reports the outcome to its parent as a *Done, so the
// parent keeps serving meanwhile. A panic in the call becomes the outcome's
// error, so whoever waits for it is still answered.
//
// Rejected: a future with ReenterAfter, which needs a non-blocking form of
// every call (meta offers one for groups only); a bare goroutine, which the
// style forbids and which nothing would stop with the parent.
package offload

import (
	"context"
	"time"

	"github.com/actormq/actormq/actors/reply"
	"github.com/asynkron/protoactor-go/actor"
)

// Done reports the end of one Run to the actor that started it.
type Done struct {
	Key string // Run's key: what was being made
	Err error  // call's error as it returned it; nil: made (or there already)
}

// Run spawns a child of ctx's actor that calls call with a context that
// ends after timeout, Sends &Done{key, err} to the actor and stops. Call it
// on the actor's goroutine (ctx is its context). The child stops with its
// parent; a call under way then still runs to its deadline.
func Run(ctx actor.Context, key string, timeout time.Duration, call func(context.Context) error) {
	ctx.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if _, ok := c.Message().(*actor.Started); !ok {
			return
		}
		c.Send(c.Parent(), &Done{Key: key, Err: guarded(key, timeout, call)})
		c.Stop(c.Self())
	}))
}

// guarded makes one call with its deadline; a panic becomes an error.
func guarded(key string, timeout time.Duration, call func(context.Context) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = reply.Errorf(reply.ErrSystem, "%s panicked: %v", key, p)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return call(ctx)
}
