package benchmarks

import (
	"testing"

	"github.com/actormq/actormq/actors/actorsys"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/asynkron/protoactor-go/actor"
)

// hop is the message of the actor-hop benchmarks. It carries its reply
// target, as the broker's data-plane messages do (no Request envelope), and
// is a pointer made once, so boxing it in Send's interface costs nothing.
type hop struct {
	replyTo *actor.PID
	left    int // hops still to make (ping-pong)
	done    chan struct{}
}

// echo answers every hop to its replyTo.
type echo struct{}

func (echo) Receive(ctx actor.Context) {
	if m, ok := ctx.Message().(*hop); ok {
		ctx.Send(m.replyTo, m)
	}
}

// pingPong Sends a hop back to the sender until none are left.
type pingPong struct{ peer *actor.PID }

func (p *pingPong) Receive(ctx actor.Context) {
	m, ok := ctx.Message().(*hop)
	if !ok {
		return
	}
	if m.left == 0 {
		m.done <- struct{}{}
		return
	}
	m.left--
	m.replyTo = ctx.Self()
	ctx.Send(p.peer, m)
}

// signal turns a hop into a channel receive for a goroutine outside the
// actor system.
type signal struct{}

func (signal) Receive(ctx actor.Context) {
	if m, ok := ctx.Message().(*hop); ok {
		m.done <- struct{}{}
	}
}

// BenchmarkActorHop is the framework's cost of one protoactor Send with an
// unbounded mailbox (the actors' default), the baseline for every hop on the
// send and pull paths, on protoactor's default dispatcher (a new goroutine
// per mailbox wake-up) and on actorsys.Hot (the hot actors' pool of warm
// workers):
//
//   - actor-to-actor: two actors bounce one message; per op one Send from
//     one actor's Receive to another's (mailbox enqueue, scheduling, Receive);
//   - root-round-trip: a goroutine outside the system (a gnet loop, a
//     benchmark) Sends to an actor, which Sends to a third actor that
//     signals a channel; per op two Sends plus the goroutine wakeup.
func BenchmarkActorHop(b *testing.B) {
	b.Run("default", func(b *testing.B) { benchmarkActorHop(b) })
	b.Run("hot", func(b *testing.B) { benchmarkActorHop(b, actor.WithDispatcher(actorsys.Hot)) })
}

func benchmarkActorHop(b *testing.B, opts ...actor.PropsOption) {
	b.Run("actor-to-actor", func(b *testing.B) {
		sys := testkit.ActorSystem(b)
		e := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return echo{} }, opts...))
		p := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &pingPong{peer: e} }, opts...))
		m := &hop{done: make(chan struct{}, 1)}
		b.ReportAllocs()
		b.ResetTimer()
		created := goroutinesCreated()
		// Each round trip is two hops; left counts round trips.
		m.left = b.N / 2
		sys.Root.Send(p, m)
		<-m.done
		reportGoroutinesPerOp(b, created)
	})
	b.Run("root-round-trip", func(b *testing.B) {
		sys := testkit.ActorSystem(b)
		s := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return signal{} }, opts...))
		e := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return echo{} }, opts...))
		m := &hop{replyTo: s, done: make(chan struct{}, 1)}
		b.ReportAllocs()
		b.ResetTimer()
		created := goroutinesCreated()
		for i := 0; i < b.N; i++ {
			sys.Root.Send(e, m)
			<-m.done
		}
		reportGoroutinesPerOp(b, created)
	})
}
