// Package run is sim's driver: one seed → one run. It starts a NameServer
// and a broker (sim/cluster, in process or as processes) behind fault
// proxies (sim/netfault), runs the workload (sim/workload), injects the
// seed's fault schedule (Plan), then heals everything, lets the consumers
// catch up, stops the broker cleanly, reads its store back (sim/check) and
// judges the history.
//
// Phases of a run, in order:
//  1. start the cluster; create the topic; wait until the NameServer routes
//     it;
//  2. start the workload (consumer groups, then producers);
//  3. run the schedule's steps at their times (faults, restarts, consumer
//     hand-overs);
//  4. heal: clear disk rules and capacity, heal the network, start the
//     broker if a step left it stopped;
//  5. stop the producers (every send gets its outcome), wait until every
//     group consumed up to every queue's max offset (bounded), stop the
//     consumers (they commit and unlock);
//  6. stop the broker cleanly, scan its store; start it once more and read
//     every consumer offset back (the offsets invariant after a clean
//     stop); stop it cleanly;
//  7. check.
package run

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"github.com/actormq/actormq/internal/wallclock"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/sim/check"
	"github.com/actormq/actormq/sim/cluster"
	"github.com/actormq/actormq/sim/history"
	"github.com/actormq/actormq/sim/netfault"
	"github.com/actormq/actormq/sim/workload"
)

// Workload shape and bounds of every run.
const (
	topic       = "SimTopic"
	queues      = 4
	producers   = 2
	keyed       = 1
	keys        = 8
	sendRate    = 150 // per producer per second
	drainMax    = 30 * time.Second
	startMax    = 60 * time.Second // a start that takes longer is a failure
	recoveryMax = 20 * time.Second // the recovery invariant's bound
	// diskBackMax: sends succeed again this soon after space returns (the
	// cleaner checks the disk usage every 10 s).
	diskBackMax = 15 * time.Second
)

// Groups of every run: a clustering group and an orderly group.
var groups = []workload.GroupConfig{
	{Name: "sim_clustering", Consumers: 2},
	{Name: "sim_orderly", Orderly: true, Consumers: 2},
}

// Options configure one run.
type Options struct {
	Seed     uint64
	Mode     string        // ModeInProc or ModeProc
	Classes  []string      // fault classes
	Duration time.Duration // of the fault phase (3)
	Dir      string        // work directory: logs, process stores
	Bin      string        // process mode: directory of mqnamesrv/mqbroker ("" builds them)
	Out      io.Writer     // the report
	Verbose  bool          // print the schedule and every step as it runs
}

// Result is a run's outcome.
type Result struct {
	check.Result
	Events []history.Event
	Plan   []Step
}

// driver is one run's state.
type driver struct {
	o       Options
	hist    *history.Recorder
	cl      cluster.Cluster
	net     *netfault.Network
	client  *netio.Client // the driver's own, straight to the broker
	wl      *workload.Workload
	up      bool  // the broker runs
	dead    error // a start failed: the schedule ends
	drained bool  // the consumers caught up at the end
	// clockOffset is the sum of the clock jumps so far.
	clockOffset time.Duration
	log         zerolog.Logger
	logf        *os.File
}

// Proxies the driver puts between the parties.
const (
	LinkProducers = "producers"
	LinkConsumers = "consumers"
	LinkNamesrv   = "namesrv"
)

// Run runs one seed and reports it on o.Out. An error means the run could
// not be set up (no verdict); violations are in the Result.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	dir := filepath.Join(o.Dir, fmt.Sprintf("seed-%d", o.Seed))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Result{}, err
	}
	d := &driver{o: o, hist: history.NewRecorder(), client: netio.NewClient(netio.ClientConfig{})}
	defer d.client.Close()
	var err error
	if d.logf, err = os.Create(filepath.Join(dir, "sim.log")); err != nil {
		return Result{}, err
	}
	defer d.logf.Close()
	d.log = zerolog.New(d.logf).Level(zerolog.InfoLevel).With().Timestamp().Logger()
	plan := Plan(o.Seed, o.Mode, o.Classes, o.Duration)
	if o.Verbose {
		fmt.Fprintf(o.Out, "seed %d (%s): %d steps\n", o.Seed, o.Mode, len(plan))
		for _, s := range plan {
			fmt.Fprintf(o.Out, "  %s\n", s)
		}
	}
	defer wallclock.Reset()
	if err := d.setUp(ctx, dir); err != nil {
		d.tearDown()
		return Result{}, err
	}
	d.runPlan(ctx, plan, o.Duration)
	st := d.finish(ctx)
	d.tearDown()
	evs := d.hist.Events()
	res := check.Check(d.checkConfig(), evs, st)
	res.Report(o.Out, o.Seed, evs)
	if !res.OK() || o.Verbose {
		if err := writeHistory(filepath.Join(dir, "history.txt"), evs); err != nil {
			fmt.Fprintf(o.Out, "seed %d: %v\n", o.Seed, err)
		}
	}
	if !res.OK() {
		fmt.Fprintf(o.Out, "seed %d: replay with: go run ./sim -mode %s -seed %d -faults %s -duration %s (logs in %s)\n",
			o.Seed, o.Mode, o.Seed, joinClasses(o.Classes), o.Duration, dir)
		fmt.Fprintf(o.Out, "seed %d: whole history in %s\n", o.Seed, filepath.Join(dir, "history.txt"))
	}
	return Result{Result: res, Events: evs, Plan: plan}, nil
}

// writeHistory writes the whole history, one event a line.
func writeHistory(path string, evs []history.Event) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	history.Write(w, "", evs)
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (d *driver) checkConfig() check.Config {
	cfg := check.Config{
		Topic: topic, Body: workload.Body, OffsetFlush: cluster.OffsetFlush, RecoveryMax: recoveryMax,
		DiskBackMax: diskBackMax, CommitLogBytes: cluster.CommitLogBytes, Drained: d.drained,
	}
	for _, g := range groups {
		cfg.Groups = append(cfg.Groups, check.Group{Name: g.Name, Orderly: g.Orderly})
	}
	return cfg
}

// setUp runs phases 1 and 2.
func (d *driver) setUp(ctx context.Context, dir string) error {
	d.net = netfault.NewNetwork(d.o.Seed, d.netEvent)
	var err error
	start := time.Now()
	switch d.o.Mode {
	case ModeInProc:
		d.cl, err = cluster.StartInProc(d.o.Seed, dir, d.log, d.namesrvProxy)
	case ModeProc:
		d.cl, err = cluster.StartProc(ctx, d.o.Bin, dir, d.namesrvProxy)
	default:
		err = fmt.Errorf("run: mode %q: want %s or %s", d.o.Mode, ModeInProc, ModeProc)
	}
	if err != nil {
		return err
	}
	d.up = true
	sctx, cancel := context.WithTimeout(ctx, startMax)
	defer cancel()
	if err := cluster.CreateTopic(sctx, d.client, d.cl.BrokerAddr(), d.cl.NamesrvAddr(), topic, queues); err != nil {
		return err
	}
	d.hist.Record(history.Event{Kind: history.BrokerUp, Actor: "sim", Dur: time.Since(start), Detail: "first start"})
	prod, err := d.net.Link(LinkProducers, "broker", d.cl.BrokerAddr(), netfault.Faults{})
	if err != nil {
		return err
	}
	cons, err := d.net.Link(LinkConsumers, "broker", d.cl.BrokerAddr(), netfault.Faults{})
	if err != nil {
		return err
	}
	d.wl, err = workload.Start(workload.Config{
		ProducerAddr: prod.Addr(), ConsumerAddr: cons.Addr(), BrokerName: cluster.BrokerName,
		Topic: topic, Queues: queues, Seed: d.o.Seed,
		Producers: producers, KeyedProducers: keyed, Keys: keys, Rate: sendRate,
		Groups: groups, History: d.hist,
	})
	return err
}

// namesrvProxy puts a proxy between the broker and the NameServer at addr
// and returns the address the broker registers with.
func (d *driver) namesrvProxy(addr string) (string, error) {
	p, err := d.net.Link("broker", LinkNamesrv, addr, netfault.Faults{})
	if err != nil {
		return "", err
	}
	return p.Addr(), nil
}

// netEvent records the proxies' fault events (not their connection
// bookkeeping) as notes.
func (d *driver) netEvent(e netfault.Event) {
	switch e.Kind {
	case netfault.KindDrop, netfault.KindReset, netfault.KindHalfOpen:
		d.hist.Record(history.Event{Kind: history.Note, Actor: "net", Detail: e.String()})
	}
}

// tearDown stops whatever still runs.
func (d *driver) tearDown() {
	if d.wl != nil {
		d.wl.Stop()
		d.wl = nil
	}
	if d.cl != nil {
		d.cl.Close()
	}
	if d.net != nil {
		_ = d.net.Close()
	}
}

func joinClasses(cs []string) string {
	out := ""
	for i, c := range cs {
		if i > 0 {
			out += ","
		}
		out += c
	}
	return out
}
