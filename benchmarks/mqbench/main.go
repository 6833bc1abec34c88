// Command mqbench is actormq's load generator. It speaks the RocketMQ
// remoting protocol through the project's own netio client and wire codecs
// (JSON headers by default), finds the topic's queues through the
// NameServer and creates the topic when it has no route.
//
//	mqbench produce -n 127.0.0.1:9876 -t T -s 128 -c 4 -w 64 --duration 60s [--batch N] [--mode sync|async|oneway]
//	mqbench consume -n 127.0.0.1:9876 -t T [--from first|last] [--drain | --repeat]
//	mqbench e2e     -n 127.0.0.1:9876 -t T --rate 50000   (publish-to-deliver latency at a fixed rate)
//	mqbench mixed   -n 127.0.0.1:9876 -t T -c 4 -w 64     (produce as fast as possible while consuming)
//	mqbench ready   -n 127.0.0.1:9876 -t T                (time until a starting broker answers a send)
//	mqbench stallprobe --duration 60s                     (how long the machine stalls: 5 ms SCHED_FIFO sleeps, JSON)
//
// --topics N spreads any of them over N topics T-0 … T-(N-1) (-q queues
// each when mqbench creates them): 1,000 topics of 10 queues measure the
// broker with 10,000 queues.
//
// A progress line goes to stderr every second and a summary at the end;
// --json FILE writes the run's figures as one JSON object (see result).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/cobra"
)

func main() {
	setGCPercent()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	root, stopTrace := newRoot(os.Stderr)
	err := root.ExecuteContext(ctx)
	stop()
	if terr := stopTrace(); terr != nil && err == nil {
		err = fmt.Errorf("--trace: %w", terr)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "mqbench: %v\n", err)
		os.Exit(1)
	}
}

// common are the flags of every command.
type common struct {
	namesrv, topic, jsonPath      string
	queues, topicCount, brokerPID int
	duration                      time.Duration
	stallProbe                    bool // e2e and mixed: run mqbench stallprobe beside the run
}

func (c *common) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&c.namesrv, "namesrv", "n", "127.0.0.1:9876", "NameServer address")
	f.StringVarP(&c.topic, "topic", "t", "BenchTopic", "topic (created with -q queues when it has no route)")
	f.IntVarP(&c.queues, "queues", "q", 8, "queues of a topic mqbench creates")
	f.IntVar(&c.topicCount, "topics", 1, "spread the run over this many topics, named <topic>-0 … <topic>-(N-1)")
	f.DurationVar(&c.duration, "duration", 60*time.Second, "how long to run")
	f.StringVar(&c.jsonPath, "json", "", "write the results as one JSON object to this file")
	f.IntVar(&c.brokerPID, "broker-pid", 0, "broker process id: report its RSS from /proc")
}

// open resolves (creating as needed) the run's topics and reads the
// broker's GC figures, the start of the run's.
func (c *common) open() (*cluster, error) {
	if c.topicCount < 1 {
		return nil, fmt.Errorf("--topics must be at least 1")
	}
	cl, err := openCluster(c.namesrv, topicNames(c.topic, c.topicCount), c.queues)
	if err != nil {
		return nil, err
	}
	cl.gcStart = cl.snapshotGC()
	cl.cpuStart = readCPUTimes()
	return cl, nil
}

func registerProducer(cmd *cobra.Command, o *producerOpts) {
	f := cmd.Flags()
	f.IntVarP(&o.size, "size", "s", 128, "message body bytes")
	f.IntVarP(&o.conns, "conns", "c", 1, "connections")
	f.IntVarP(&o.inflight, "inflight", "w", 1, "requests in flight per connection (async: one sender keeps them; sync: one sender each)")
	f.IntVar(&o.batch, "batch", 1, "messages per request (>1 sends SEND_BATCH_MESSAGE)")
	f.Int64Var(&o.messages, "messages", 0, "stop after sending this many messages (0: run for --duration)")
	f.StringVar(&o.mode, "mode", modeSync, "sync, async or oneway")
	f.StringVar(&o.header, "header", "json", "request header codec: json or rocketmq")
	f.BoolVar(&o.keys, "keys", false, "give every message a KEYS property (indexed by the broker)")
	f.StringVar(&o.tags, "tags", "", "TAGS property of every message")
	f.BoolVar(&o.batchUniq, "batch-uniq-key", false, "give every batch item a UNIQ_KEY and WAIT=true, as the Java producer does (the Go client's items carry neither)")
}

func registerConsumer(cmd *cobra.Command, o *consumerOpts) {
	cmd.Flags().IntVar(&o.pullBatch, "pull-batch", 32, "maxMsgNums of each pull")
}

// newRoot builds the command tree; stopTrace ends the --trace file, if any.
func newRoot(log io.Writer) (root *cobra.Command, stopTrace func() error) {
	root = &cobra.Command{Use: "mqbench", Short: "load generator for actormq (RocketMQ remoting protocol)", SilenceUsage: true, SilenceErrors: true}
	stopTrace = registerTrace(root)
	root.AddCommand(produceCmd(log), consumeCmd(log), e2eCmd(log), mixedCmd(log), readyCmd(log), stallProbeCmd())
	return root, stopTrace
}

func produceCmd(log io.Writer) *cobra.Command {
	var c common
	var o producerOpts
	cmd := &cobra.Command{
		Use:   "produce",
		Short: "send messages as fast as the answers allow; latency is the send round trip",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.check(); err != nil {
				return err
			}
			cl, err := c.open()
			if err != nil {
				return err
			}
			defer cl.close()
			p, err := newProducer(cl, o)
			if err != nil {
				return err
			}
			defer p.close()
			ctx, cancel := context.WithTimeout(cmd.Context(), c.duration)
			defer cancel()
			var runErr error
			elapsed := timed(log, "produce", p.m, func() { runErr = p.run(ctx, nil) })
			if runErr != nil {
				return runErr
			}
			res := producerResult("produce", o)
			p.m.fill(&res, elapsed)
			res.Sent = p.m.msgs.Load()
			return finish(log, &c, cl, &res, p.m)
		},
	}
	c.register(cmd)
	registerProducer(cmd, &o)
	return cmd
}

func producerResult(command string, o producerOpts) result {
	return result{Command: command, Mode: o.mode, Header: o.header, Size: o.size, Conns: o.conns, Inflight: o.inflight, Batch: o.batch}
}

func consumeCmd(log io.Writer) *cobra.Command {
	var c common
	var o consumerOpts
	cmd := &cobra.Command{
		Use:   "consume",
		Short: "pull every queue with long polling; latency is receipt time minus STORETIMESTAMP",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.check(); err != nil {
				return err
			}
			cl, err := c.open()
			if err != nil {
				return err
			}
			defer cl.close()
			cs, err := newConsumer(cl, o)
			if err != nil {
				return err
			}
			defer cs.close()
			if o.repeat && cs.backlog() == 0 {
				return fmt.Errorf("--repeat: %s has no messages to read", cl.name())
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), c.duration)
			defer cancel()
			elapsed := timed(log, "consume", cs.m, func() { cs.run(ctx, cancel) })
			res := result{Command: "consume", Conns: o.conns, Inflight: 1, Batch: o.pullBatch, Backlog: cs.backlog(), Repeat: o.repeat}
			cs.m.fill(&res, elapsed)
			res.Received = cs.m.msgs.Load()
			if o.drain && res.Received != cs.backlog() {
				res.Errors++
				fmt.Fprintf(log, "consume: drained %d of the %d messages present at start\n", res.Received, cs.backlog())
			}
			return finish(log, &c, cl, &res, cs.m)
		},
	}
	c.register(cmd)
	f := cmd.Flags()
	f.IntVarP(&o.conns, "conns", "c", 1, "connections (queues are spread over them)")
	f.StringVar(&o.from, "from", "first", "start at each queue's first or last offset")
	f.BoolVar(&o.drain, "drain", false, "stop once every queue reached the max offset it had at start")
	// A drain of what one run stored lasts a few seconds, so its rate is
	// mostly start and tail (the last queues alone); reading the same
	// backlog again keeps every queue busy for the whole --duration.
	f.BoolVar(&o.repeat, "repeat", false, "read each queue's messages present at start over and over until --duration ends (steady read rate from the page cache)")
	registerConsumer(cmd, &o)
	return cmd
}

// finish adds the broker figures, prints the summary and writes --json.
func finish(log io.Writer, c *common, cl *cluster, res *result, meters ...*meter) error {
	res.Topics, res.Queues = len(cl.topics), max(len(cl.write), len(cl.read))
	cl.brokerFigures(c.brokerPID, res)
	if p, ok := stealPercent(cl.cpuStart, readCPUTimes()); ok {
		res.HostStealPct = &p
	}
	summary(log, res, meters...)
	if c.jsonPath != "" {
		if err := writeJSON(c.jsonPath, res); err != nil {
			return err
		}
	}
	if res.Errors > 0 {
		return fmt.Errorf("%d errors", res.Errors)
	}
	return nil
}
