package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/actormq/actormq/actors/admin/gchist"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
)

// brokerGC is one reading of the broker's GC figures, which cover its
// whole life: a run's figures are the difference of the readings at its
// start (cluster.gcStart) and end. Rejected: the broker's own
// goGCPauseP99Us, which made every run of make bench report the pauses of
// all earlier runs against the same broker as well.
type brokerGC struct {
	pauses gchist.Histogram // goGCPauses
	cycles int64            // goGCCount
	ok     bool             // both keys were read
}

// runtimeInfo is the GET_BROKER_RUNTIME_INFO table of the first master.
func (cl *cluster) runtimeInfo() (map[string]string, error) {
	if len(cl.brokers) == 0 {
		return nil, fmt.Errorf("no broker")
	}
	resp, err := invoke(cl.c, cl.brokers[0], remoting.ReqGetBrokerRuntimeInfo, nil, nil)
	if err != nil {
		return nil, err
	}
	var kv body.KVTable
	if err := body.DecodeJSON(resp.Body, &kv); err != nil {
		return nil, err
	}
	return kv.Table, nil
}

// readBrokerGC takes the GC figures out of a runtime info table; ok is
// false when the broker does not report them.
func readBrokerGC(t map[string]string) (brokerGC, error) {
	pauses, hasPauses := t["goGCPauses"]
	count, hasCount := t["goGCCount"]
	if !hasPauses || !hasCount {
		return brokerGC{}, nil
	}
	h, err := gchist.Parse(pauses)
	if err != nil {
		return brokerGC{}, err
	}
	n, err := strconv.ParseInt(count, 10, 64)
	if err != nil {
		return brokerGC{}, fmt.Errorf("goGCCount %q: %w", count, err)
	}
	return brokerGC{pauses: h, cycles: n, ok: true}, nil
}

// snapshotGC is the broker's GC reading now; on failure, an empty one
// (the run's figures are then the broker's lifetime ones) and a line on
// stderr.
func (cl *cluster) snapshotGC() brokerGC {
	t, err := cl.runtimeInfo()
	if err == nil {
		var g brokerGC
		if g, err = readBrokerGC(t); err == nil {
			return g
		}
	}
	fmt.Fprintf(os.Stderr, "mqbench: broker GC at start: %v\n", err)
	return brokerGC{}
}

// fillGC sets the GC keys of res to the pauses and cycles between start
// and end; nothing when end was not read. A broker restarted in between
// (cycles went down) gives end's figures.
func fillGC(res *result, start, end brokerGC) {
	if !end.ok {
		return
	}
	run := end.pauses.Sub(start.pauses)
	cycles := end.cycles - start.cycles
	if cycles < 0 {
		run, cycles = end.pauses, end.cycles
	}
	p99, maxUs := gchist.Micros(run.Quantile(0.99)), gchist.Micros(run.Max())
	res.BrokerGCPauseP99Us, res.BrokerGCPauseMaxUs, res.BrokerGCCount = &p99, &maxUs, &cycles
}
