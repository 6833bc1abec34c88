package run

import (
	"context"
	"fmt"
	"time"

	"github.com/actormq/actormq/internal/wallclock"
	"github.com/actormq/actormq/sim/cluster"
	"github.com/actormq/actormq/sim/faultfs"
	"github.com/actormq/actormq/sim/history"
	"github.com/actormq/actormq/sim/netfault"
)

// crashWait bounds the wait for an armed crash point to fire.
const crashWait = 3 * time.Second

// runPlan runs phase 3: each step at its time, until duration has passed.
func (d *driver) runPlan(ctx context.Context, plan []Step, duration time.Duration) {
	start := time.Now()
	defer func() {
		if wait := time.Until(start.Add(duration)); wait > 0 && d.dead == nil {
			hold(ctx, wait)
		}
	}()
	for _, s := range plan {
		if d.dead != nil || ctx.Err() != nil {
			return
		}
		if wait := time.Until(start.Add(s.At)); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return
			}
		}
		if d.o.Verbose {
			fmt.Fprintf(d.o.Out, "seed %d: %s\n", d.o.Seed, s)
		}
		d.log.Info().Str("step", s.String()).Msg("step")
		d.apply(ctx, s)
	}
}

func (d *driver) note(format string, args ...any) {
	d.hist.Record(history.Event{Kind: history.Note, Actor: "sim", Detail: fmt.Sprintf(format, args...)})
}

func (d *driver) faultOn(detail string) {
	d.hist.Record(history.Event{Kind: history.FaultOn, Actor: "sim", Detail: detail})
}
func (d *driver) faultOff(detail string) {
	d.hist.Record(history.Event{Kind: history.FaultOff, Actor: "sim", Detail: detail})
}

// hold waits for a fault window; false when ctx ended.
func hold(ctx context.Context, dur time.Duration) bool {
	select {
	case <-time.After(dur):
		return true
	case <-ctx.Done():
		return false
	}
}

// apply runs one step. Steps that need the broker running are skipped
// (noted) while it is not.
func (d *driver) apply(ctx context.Context, s Step) {
	if !d.up && s.Kind != StepRebalance {
		d.note("step %s skipped: the broker is down", s.Kind)
		return
	}
	inproc, _ := d.cl.(*cluster.InProc)
	switch s.Kind {
	case StepRebalance:
		d.wl.Rebalance(s.N)
	case StepRestart:
		d.restart(ctx, history.StopClean)
	case StepPowerCut:
		d.restart(ctx, history.StopPowerCut)
	case StepKill:
		d.restart(ctx, history.StopKill)
	case StepCrashPoint:
		d.crashPoint(ctx, s)
	case StepDiskEIO:
		// EIO on the next change to the files of s.Arg, or a short write
		// ("config-short": the next WriteAt of a config file stores a
		// prefix).
		path, kind := s.Arg, faultfs.KindEIO
		if s.Arg == "config-short" {
			path, kind = "config", faultfs.KindShortWrite
		}
		detail := "disk " + kind.String() + " on " + path
		d.faultOn(detail)
		inproc.FS().Inject(faultfs.Rule{Ops: faultfs.OpsMutating, Path: path, Kind: kind, Limit: 1})
		hold(ctx, 1500*time.Millisecond)
		inproc.FS().ClearRules()
		d.faultOff(detail)
		d.restart(ctx, history.StopClean) // a failed write or sync is fatal for writing: an operator restarts
	case StepDiskTorn:
		d.faultOn("torn CommitLog sync")
		inproc.FS().Inject(faultfs.Rule{Ops: faultfs.OpMsync, Path: "commitlog", Kind: faultfs.KindTorn, Limit: 1})
		hold(ctx, 500*time.Millisecond)
		d.restart(ctx, history.StopPowerCut)
		d.faultOff("torn CommitLog sync")
	case StepDiskSlow:
		detail := "slow sync " + s.Delay.String()
		d.faultOn(detail)
		inproc.FS().Inject(faultfs.Rule{Ops: faultfs.OpsSync, Kind: faultfs.KindDelay, Delay: s.Delay})
		hold(ctx, s.Hold)
		inproc.FS().ClearRules()
		d.faultOff(detail)
	case StepDiskFull:
		fs := inproc.FS()
		d.faultOn(history.FaultDiskFull)
		fs.SetCapacity(fs.Used())
		hold(ctx, s.Hold)
		fs.SetCapacity(0)
		d.faultOff(history.FaultDiskFull)
		// Sends must succeed again within diskBackMax: probe until one
		// does, so the check has sends to judge even at a run's end.
		for deadline := time.Now().Add(diskBackMax); time.Now().Before(deadline) && !d.wl.ProbeSend(); {
			hold(ctx, 200*time.Millisecond)
		}
	case StepBitFlip:
		d.bitFlip(ctx, s)
	case StepReadFlip:
		// The restart reads a config file with one bit flipped (the media
		// returns a wrong byte once; the stored bytes are intact).
		detail := "bit flip on the next read of a config file"
		d.faultOn(detail)
		d.stop(ctx, history.StopClean)
		inproc.FS().Inject(faultfs.Rule{Ops: faultfs.OpRead, Path: "config", Kind: faultfs.KindBitFlip, Limit: 1})
		d.start(ctx)
		inproc.FS().ClearRules()
		d.faultOff(detail)
	case StepClockJump:
		d.clockOffset += s.Delay
		d.faultOn(fmt.Sprintf("clock jump %s (now %s off)", s.Delay, d.clockOffset))
		if p, ok := d.cl.(*cluster.Proc); ok {
			// A process's clock is set at its start: restart it.
			p.SetClockOffset(d.clockOffset)
			d.restart(ctx, history.StopKill)
		} else {
			wallclock.Jump(s.Delay)
		}
	case StepNetFaults:
		f := netfault.Faults{Delay: s.Delay, Jitter: s.Delay, Drop: s.Prob, Reset: s.Prob, HalfOpen: s.Prob / 4}
		detail := fmt.Sprintf("net faults delay %s drop/reset %.3f half-open %.3f", s.Delay, s.Prob, s.Prob/4)
		d.faultOn(detail)
		d.net.SetAll(f)
		hold(ctx, s.Hold)
		d.net.SetAll(netfault.Faults{})
		d.faultOff(detail)
	case StepPartition:
		p := d.link(s.Arg)
		detail := "partition " + p.Name()
		d.faultOn(detail)
		p.Partition()
		hold(ctx, s.Hold)
		p.Heal()
		d.faultOff(detail)
	default:
		d.note("unknown step %s", s.Kind)
	}
}

// link is the proxy of a partitionLinks name.
func (d *driver) link(name string) *netfault.Proxy {
	if name == LinkNamesrv {
		return d.net.Proxy("broker", LinkNamesrv)
	}
	return d.net.Proxy(name, "broker")
}

// restart stops the broker the given way and starts it again.
//
// An in-process power cut cuts the clients off first (every proxy
// partitioned): the cut broker keeps running until it is shut down, and
// what it answers after the cut are answers no dead machine gives (a
// delivery of a record the cut lost, say). After the cut the workload's
// connections are closed, so the answers the partition holds never
// arrive, and the proxies are healed once the broker runs again.
func (d *driver) restart(ctx context.Context, way string) {
	if way == history.StopPowerCut {
		d.isolate()
		defer d.net.HealAll()
	}
	d.stop(ctx, way)
	if way == history.StopPowerCut {
		d.wl.DropConnections()
	}
	d.start(ctx)
}

// isolate partitions every client link to the broker.
func (d *driver) isolate() {
	d.net.Partition(LinkProducers, "broker")
	d.net.Partition(LinkConsumers, "broker")
}

// stop stops the broker and records BrokerDown at the moment it stopped
// (see cluster.Cluster.Stop).
func (d *driver) stop(ctx context.Context, way string) {
	sctx, cancel := context.WithTimeout(ctx, startMax)
	defer cancel()
	err := d.cl.Stop(sctx, way, func() {
		d.hist.Record(history.Event{Kind: history.BrokerDown, Actor: "sim", Detail: way})
	})
	d.up = false
	if err != nil {
		d.note("stop %s: %v", way, err)
	}
}

// start starts the broker and records BrokerUp once it serves, or notes
// the failure (the run then ends its schedule).
func (d *driver) start(ctx context.Context) {
	sctx, cancel := context.WithTimeout(ctx, startMax)
	defer cancel()
	t0 := time.Now()
	err := d.cl.Start(sctx)
	if err == nil {
		err = cluster.WaitServing(sctx, d.client, d.cl.BrokerAddr(), topic)
	}
	if err != nil {
		d.dead = err
		d.note("%s: %v", history.NoteStartFailed, err)
		return
	}
	d.up = true
	d.hist.Record(history.Event{Kind: history.BrokerUp, Actor: "sim", Dur: time.Since(t0)})
}
