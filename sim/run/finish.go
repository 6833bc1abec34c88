package run

import (
	"context"
	"strconv"
	"time"

	"github.com/actormq/actormq/sim/check"
	"github.com/actormq/actormq/sim/cluster"
	"github.com/actormq/actormq/sim/history"
	"github.com/actormq/actormq/sim/netfault"
	"github.com/actormq/actormq/wire/remoting"
)

// drainPoll is how often the drain compares the consumers with the queues.
const drainPoll = 100 * time.Millisecond

// finish runs phases 4 to 6 and returns the store as the last clean stop
// left it (nil when it could not be read).
func (d *driver) finish(ctx context.Context) *check.Store {
	// 4. Heal.
	if inproc, ok := d.cl.(*cluster.InProc); ok {
		inproc.FS().ClearRules()
		inproc.FS().SetCapacity(0)
	}
	d.net.HealAll()
	d.net.SetAll(netfault.Faults{})
	if !d.up && d.dead == nil {
		d.start(ctx)
	}
	// 5. Stop producing; drain; stop consuming.
	d.wl.StopProducers()
	if d.up {
		d.drain(ctx)
	}
	d.wl.Stop()
	d.wl = nil
	// 6. Clean stop, scan, offsets read back after a clean restart.
	if d.up {
		d.stop(ctx, history.StopClean)
	}
	l := d.cl.Layout()
	l.Topics = []string{topic}
	st, err := check.ScanStore(l)
	if err != nil {
		d.note("scan store: %v", err)
		st = nil
	}
	if d.dead == nil {
		d.start(ctx)
		if d.up {
			d.readOffsets(ctx)
			d.stop(ctx, history.StopClean)
		}
	}
	return st
}

// drain waits (at most drainMax) until every group consumed every queue up
// to its max offset.
func (d *driver) drain(ctx context.Context) {
	deadline := time.Now().Add(drainMax)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		maxOffsets, err := cluster.MaxOffsets(ctx, d.client, d.cl.BrokerAddr(), topic, queues)
		if err == nil && d.wl.CaughtUp(maxOffsets) {
			d.drained = true
			return
		}
		time.Sleep(drainPoll)
	}
	d.note("the consumers did not catch up within %s", drainMax)
}

// readOffsets records every group's committed offset of every queue as
// the broker reports it (QUERY_CONSUMER_OFFSET; -1 when it has none).
func (d *driver) readOffsets(ctx context.Context) {
	for _, g := range groups {
		for q := range int32(queues) {
			cmd := remoting.NewRequest(remoting.ReqQueryConsumerOffset, map[string]string{
				"consumerGroup": g.Name, "topic": topic, "queueId": strconv.Itoa(int(q)),
			}, nil)
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			resp, err := d.client.Invoke(rctx, d.cl.BrokerAddr(), cmd)
			cancel()
			ev := history.Event{Kind: history.OffsetRead, Actor: "sim", Group: g.Name, Topic: topic, Queue: q, Offset: -1}
			switch {
			case err != nil:
				d.note("final offset read of %s queue %d: %v", g.Name, q, err)
				continue
			case resp.Code == remoting.RespSuccess:
				if ev.Offset, err = strconv.ParseInt(resp.ExtFields["offset"], 10, 64); err != nil {
					d.note("final offset read of %s queue %d: offset %q", g.Name, q, resp.ExtFields["offset"])
					continue
				}
			case resp.Code != remoting.RespQueryNotFound:
				d.note("final offset read of %s queue %d: code %d %s", g.Name, q, resp.Code, resp.Remark)
				continue
			}
			d.hist.Record(ev)
		}
	}
}
