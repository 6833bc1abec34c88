package admin

import (
	"fmt"
	"time"

	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
)

// Messages of the admin actor besides requests.
type (
	sampleTick struct{ gen int }
	workerDone struct{}
)

// adminActor answers the requests that need no waiting and hands the others
// to workers. Goroutine: the actor's, for all methods.
type adminActor struct {
	a       *Admin
	stats   *stats
	version body.DataVersion // of the effective config (GET_BROKER_CONFIG)
	timer   *time.Timer
	gen     int // generation of the armed timer; a stale tick is ignored
	workers int // workers running
}

func newAdminActor(a *Admin) *adminActor {
	now := time.Now()
	return &adminActor{a: a, stats: newStats(now, a.cfg.Counters), version: body.DataVersion{Timestamp: now.UnixMilli()}}
}

// Receive dispatches one message.
func (x *adminActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		x.arm(ctx)
	case *actor.Stopping:
		x.gen++
		if x.timer != nil {
			x.timer.Stop()
		}
	case *actor.Stopped:
		close(x.a.done)
	case *sampleTick:
		if m.gen == x.gen {
			x.stats.sample(time.Now())
			x.arm(ctx)
		}
	case *request:
		x.serve(ctx, m)
	case *workerDone:
		x.workers--
	}
}

// arm schedules the next statistics sample: a one-shot runtime timer that
// Sends a tick carrying the current generation.
func (x *adminActor) arm(ctx actor.Context) {
	x.gen++
	system, self, gen := ctx.ActorSystem(), ctx.Self(), x.gen
	x.timer = time.AfterFunc(x.a.cfg.SampleInterval, func() { system.Root.Send(self, &sampleTick{gen: gen}) })
}

// answers are the requests the admin actor answers itself: reads that are
// lock-free on their owners, and the effective config it owns.
var answers = map[int32]func(x *adminActor, cmd *remoting.Command) *remoting.Command{
	remoting.ReqGetBrokerRuntimeInfo:   (*adminActor).runtimeInfo,
	remoting.ReqGetConsumeStats:        (*adminActor).consumeStats,
	remoting.ReqGetTopicStatsInfo:      (*adminActor).topicStats,
	remoting.ReqQueryTopicConsumeByWho: (*adminActor).consumeByWho,
	remoting.ReqGetBrokerConfig:        (*adminActor).brokerConfig,
	remoting.ReqUpdateBrokerConfig:     (*adminActor).updateBrokerConfig,
}

// works are the requests a worker runs: they wait on other actors or on a
// client.
var works = map[int32]func(a *Admin, cmd *remoting.Command) *remoting.Command{
	remoting.ReqDeleteTopicInBroker:       (*Admin).deleteTopic,
	remoting.ReqDeleteSubscriptionGroup:   (*Admin).deleteGroup,
	remoting.ReqInvokeBrokerToResetOffset: (*Admin).resetOffset,
	remoting.ReqGetConsumerRunningInfo:    (*Admin).runningInfo,
}

// serve answers req, or starts a worker for it. Handlers routes only the
// codes of answers and works here.
func (x *adminActor) serve(ctx actor.Context, req *request) {
	a := x.a
	if answer, ok := answers[req.cmd.Code]; ok {
		a.answer(req.c, a.safely(req.cmd, func() *remoting.Command { return answer(x, req.cmd) }))
		return
	}
	work := works[req.cmd.Code]
	if x.workers >= a.cfg.WorkersMax {
		a.answer(req.c, reply.Error(req.cmd, reply.Errorf(reply.ErrSystemBusy,
			"[REJECTREQUEST]system busy, %d admin requests in progress", x.workers)))
		return
	}
	x.workers++
	ctx.Spawn(actor.PropsFromFunc(func(wctx actor.Context) {
		if _, ok := wctx.Message().(*actor.Started); !ok {
			return
		}
		// The worker may wait on other actors or a client (bounded by the
		// timeouts); the admin actor keeps serving meanwhile. The deferred
		// calls also run if writing the answer panics.
		defer wctx.Stop(wctx.Self())
		defer wctx.Send(wctx.Parent(), &workerDone{})
		a.answer(req.c, a.safely(req.cmd, func() *remoting.Command { return work(a, req.cmd) }))
	}))
}

// safely returns the answer to cmd that handle builds; a panic (a bug on
// this request) becomes a SYSTEM_ERROR answer, so the caller is never left
// waiting.
func (a *Admin) safely(cmd *remoting.Command, handle func() *remoting.Command) (resp *remoting.Command) {
	defer func() {
		if p := recover(); p != nil {
			a.log.Error().Interface("panic", p).Int32("code", cmd.Code).Msg("admin request panicked")
			resp = reply.Error(cmd, fmt.Errorf("%w: internal error", reply.ErrSystem))
		}
	}()
	return handle()
}

// answer sends resp on c (a failure means the connection is gone) and ends
// the request's admission. Once per admitted request.
func (a *Admin) answer(c *netio.Conn, resp *remoting.Command) {
	defer a.gate.Leave()
	_ = c.Write(resp)
}
