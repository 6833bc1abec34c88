package run

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/actormq/actormq/sim/check"
	"github.com/actormq/actormq/sim/cluster"
	"github.com/actormq/actormq/sim/history"
	"github.com/actormq/actormq/sim/workload"
	"github.com/actormq/actormq/wire/remoting"
)

// crashPoint crashes the broker at the s.N-th hit of point s.Arg from now.
// In process the disk loses power there; a process is started again with
// the point armed and SIGKILLs itself there. A point not reached within
// crashWait is disarmed (and the armed process killed and restarted).
func (d *driver) crashPoint(ctx context.Context, s Step) {
	point := fmt.Sprintf("%s:%d", s.Arg, s.N)
	down := func() {
		d.hist.Record(history.Event{Kind: history.BrokerDown, Actor: "sim", Detail: d.crashWay()})
	}
	switch cl := d.cl.(type) {
	case *cluster.InProc:
		// At the point the clients are cut off first (see restart), then
		// the disk loses power.
		if !cl.ArmCrash(s.Arg, s.N, crashWait, d.isolate, down) {
			d.note("crash point %s not reached", point)
			return
		}
		defer d.net.HealAll()
		d.wl.DropConnections()
		d.note("crash point %s fired", point)
		d.up = false
		sctx, cancel := context.WithTimeout(ctx, startMax)
		_ = cl.Stop(sctx, history.StopPowerCut, func() {})
		cancel()
		d.start(ctx)
	case *cluster.Proc:
		// The point is armed through the environment of the next start,
		// and may fire during that start (recovery writes config files).
		cl.ArmCrashPoint(s.Arg, s.N)
		d.stop(ctx, history.StopKill)
		sctx, cancel := context.WithTimeout(ctx, startMax)
		t0 := time.Now()
		if err := cl.Start(sctx); err == nil && cluster.WaitServing(sctx, d.client, cl.BrokerAddr(), topic) == nil {
			d.hist.Record(history.Event{Kind: history.BrokerUp, Actor: "sim", Dur: time.Since(t0), Detail: "crash point " + point + " armed"})
		}
		cancel()
		fired := cl.WaitExit(crashWait)
		cl.ArmCrashPoint("", 0)
		if fired {
			down()
			d.note("crash point %s fired", point)
		} else {
			d.note("crash point %s not reached", point)
			d.stop(ctx, history.StopKill) // the armed run must not fire later
		}
		d.up = false
		d.start(ctx)
	}
}

// crashWay is the BrokerDown detail of a crash in this mode.
func (d *driver) crashWay() string {
	if d.o.Mode == ModeProc {
		return history.StopKill
	}
	return history.StopPowerCut
}

// bitFlip damages a stored record: it stops the broker cleanly, flips a bit
// in the body (s.Arg "body") or the size or magic field ("header") of the
// s.N-th newest record of the topic, records that record
// and every one after it in the CommitLog as damaged (recovery may cut the
// log there: their loss is excused), and starts the broker. Then it pulls
// the damaged record's queue offset itself: the broker must not serve the
// damaged bytes as a message.
func (d *driver) bitFlip(ctx context.Context, s Step) {
	d.stop(ctx, history.StopClean)
	l := d.cl.Layout()
	st, err := check.ScanStore(l)
	if err != nil {
		d.note("bit flip: scan: %v", err)
		d.start(ctx)
		return
	}
	var ours []int
	for i, r := range st.Records {
		if r.Topic == topic {
			ours = append(ours, i)
		}
	}
	if len(ours) == 0 {
		d.start(ctx)
		return
	}
	at := ours[max(len(ours)-s.N, 0)]
	victim := st.Records[at]
	segStart := victim.Phys / cluster.CommitLogBytes * cluster.CommitLogBytes
	name := filepath.Join(commitLogDir(l), fmt.Sprintf("%020d", segStart))
	// A bit of the body, which BODYCRC covers, or of TOTALSIZE or MAGIC,
	// which recovery checks. The record's other fields have no checksum in
	// RocketMQ's format: a flipped bit in the topic or a property cannot
	// be told from a good record, so the sim does not damage them.
	off := victim.Phys - segStart + int64(victim.BodyAt) + int64(s.N%len(victim.Body))
	if s.Arg == "header" {
		off = victim.Phys - segStart + int64(s.N%8)
	}
	bit := uint(s.N % 8)
	if err := d.cl.FlipBit(name, off, bit); err != nil {
		d.note("bit flip: %v", err)
		d.start(ctx)
		return
	}
	d.faultOn(fmt.Sprintf("bit flip in the %s of %s (queue %d offset %d, commitlog offset %d)", s.Arg, victim.ID, victim.Queue, victim.QueueOffset, victim.Phys))
	for _, r := range st.Records[at:] {
		if r.Topic == topic {
			d.hist.Record(history.Event{Kind: history.Damaged, Actor: "sim", ID: r.ID, Topic: r.Topic, Queue: r.Queue, Offset: r.QueueOffset})
		}
	}
	d.start(ctx)
	if d.up {
		d.probe(ctx, victim.Queue, victim.QueueOffset)
	}
}

func commitLogDir(l check.Layout) string {
	if l.CommitLogDir != "" {
		return l.CommitLogDir
	}
	return filepath.Join(l.RootDir, "commitlog")
}

// probeGroup is the group of the driver's own pulls.
const probeGroup = "sim_probe"

// probe pulls queue at offset (no suspension, subscription "*") and
// records what came back as deliveries to probeGroup.
func (d *driver) probe(ctx context.Context, queue int32, offset int64) {
	cmd := remoting.NewRequest(remoting.ReqPullMessage, map[string]string{
		"consumerGroup": probeGroup, "topic": topic, "queueId": strconv.Itoa(int(queue)),
		"queueOffset": strconv.FormatInt(offset, 10), "maxMsgNums": "1", "sysFlag": "4", "commitOffset": "0",
		"suspendTimeoutMillis": "0", "subscription": "*", "subVersion": "0", "expressionType": "TAG",
	}, nil)
	issued := int64(d.hist.Len())
	pctx, cancel := context.WithTimeout(ctx, startMax)
	defer cancel()
	resp, err := d.client.Invoke(pctx, d.cl.BrokerAddr(), cmd)
	if err != nil {
		d.note("probe of queue %d offset %d: %v", queue, offset, err)
		return
	}
	if resp.Code != remoting.RespSuccess {
		d.note("probe of queue %d offset %d: code %d %s", queue, offset, resp.Code, resp.Remark)
		return
	}
	for _, e := range workload.Deliveries(resp.Body, topic, queue, offset, issued) {
		// Each probe is a session of its own (negative: the workload's
		// sessions count up from 1).
		e.Actor, e.Group, e.Session = "sim", probeGroup, -issued
		d.hist.Record(e)
	}
}
