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

// serve answers req, or starts a worker for it.
func (x *adminActor) serve(ctx actor.Context, req *request) {
	a := x.a
	var (
		resp *remoting.Command
		work func(*remoting.Command) *remoting.Command
	)
	switch req.cmd.Code {
	case remoting.ReqGetBrokerRuntimeInfo:
		resp = x.runtimeInfo(req.cmd)
	case remoting.ReqGetConsumeStats:
		resp = x.consumeStats(req.cmd)
	case remoting.ReqGetTopicStatsInfo:
		resp = a.topicStats(req.cmd)
	case remoting.ReqQueryTopicConsumeByWho:
		resp = a.consumeByWho(req.cmd)
	case remoting.ReqGetBrokerConfig:
		resp = x.brokerConfig(req.cmd)
	case remoting.ReqUpdateBrokerConfig:
		resp = x.updateBrokerConfig(req.cmd)
	case remoting.ReqDeleteTopicInBroker:
		work = a.deleteTopic
	case remoting.ReqDeleteSubscriptionGroup:
		work = a.deleteGroup
	case remoting.ReqInvokeBrokerToResetOffset:
		work = a.resetOffset
	case remoting.ReqGetConsumerRunningInfo:
		work = a.runningInfo
	default:
		resp = reply.Error(req.cmd, reply.Errorf(reply.ErrNotSupported, " request type %d not supported", req.cmd.Code))
	}
	if work == nil {
		write(req.c, resp)
		return
	}
	if x.workers >= a.cfg.WorkersMax {
		reply.WriteError(req.c, req.cmd, reply.Errorf(reply.ErrSystemBusy,
			"[REJECTREQUEST]system busy, %d admin requests in progress", x.workers))
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
		write(req.c, runWork(a, work, req.cmd))
	}))
}

// runWork runs a worker's request; a panic becomes a SYSTEM_ERROR answer.
func runWork(a *Admin, work func(*remoting.Command) *remoting.Command, cmd *remoting.Command) (resp *remoting.Command) {
	defer func() {
		if p := recover(); p != nil {
			a.log.Error().Interface("panic", p).Int32("code", cmd.Code).Msg("admin request panicked")
			resp = reply.Error(cmd, fmt.Errorf("%w: internal error", reply.ErrSystem))
		}
	}()
	return work(cmd)
}

// write sends resp on c; a failure means the connection is gone.
func write(c *netio.Conn, resp *remoting.Command) { _ = c.Write(resp) }
