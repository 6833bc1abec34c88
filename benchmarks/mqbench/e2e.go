package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
)

// drainWait bounds how long e2e and mixed keep consuming after the
// producers stopped, waiting for the last messages.
const drainWait = 10 * time.Second

func e2eCmd(log io.Writer) *cobra.Command {
	var c common
	var o producerOpts
	var pullBatch, rate int
	cmd := &cobra.Command{
		Use:   "e2e",
		Short: "produce at --rate msgs/s while consuming; latency is publish to deliver",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if rate < 1 {
				return fmt.Errorf("--rate must be at least 1")
			}
			return runBoth(cmd.Context(), log, "e2e", &c, o, pullBatch, rate)
		},
	}
	c.register(cmd)
	registerProducer(cmd, &o)
	cmd.Flags().IntVar(&rate, "rate", 10000, "messages per second (requests per second × --batch)")
	cmd.Flags().IntVar(&pullBatch, "pull-batch", 32, "maxMsgNums of each pull")
	registerStallProbe(cmd, &c)
	o.inflight = 64 // paced sends need room in flight to hold the rate
	cmd.Flags().Lookup("inflight").DefValue = "64"
	return cmd
}

func mixedCmd(log io.Writer) *cobra.Command {
	var c common
	var o producerOpts
	var pullBatch int
	cmd := &cobra.Command{
		Use:   "mixed",
		Short: "produce as fast as the answers allow while consuming; latency is publish to deliver",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBoth(cmd.Context(), log, "mixed", &c, o, pullBatch, 0)
		},
	}
	c.register(cmd)
	registerProducer(cmd, &o)
	cmd.Flags().IntVar(&pullBatch, "pull-batch", 32, "maxMsgNums of each pull")
	registerStallProbe(cmd, &c)
	return cmd
}

func registerStallProbe(cmd *cobra.Command, c *common) {
	cmd.Flags().BoolVar(&c.stallProbe, "stall-probe", false, "run mqbench stallprobe beside the run and report how long the machine stalled (stall_probe)")
}

// runBoth produces (paced at rate msgs/s when rate > 0) while a consumer
// tails the topic from its last offsets; after --duration the producers
// stop and the consumer gets up to drainWait to receive what they sent.
func runBoth(parent context.Context, log io.Writer, command string, c *common, o producerOpts, pullBatch, rate int) error {
	o.stamp = true
	if err := o.check(); err != nil {
		return err
	}
	cl, err := c.open()
	if err != nil {
		return err
	}
	defer cl.close()
	cs, err := newConsumer(cl, consumerOpts{conns: 1, pullBatch: pullBatch, from: "last", stamped: true})
	if err != nil {
		return err
	}
	defer cs.close()
	p, err := newProducer(cl, o)
	if err != nil {
		return err
	}
	defer p.close()

	var probe *probeProcess
	if c.stallProbe {
		if probe, err = startStallProbe(log); err != nil {
			return fmt.Errorf("--stall-probe: %w", err)
		}
	}
	consumeCtx, stopConsume := context.WithCancel(parent)
	defer stopConsume()
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		cs.run(consumeCtx, stopConsume)
	}()
	stop, done := make(chan struct{}), make(chan struct{})
	go progressBoth(log, command, p.m, cs.m, stop, done)

	produceCtx, stopProduce := context.WithTimeout(parent, c.duration)
	defer stopProduce()
	var pc *pacer
	if rate > 0 {
		pc = newPacer(p.since(), float64(rate)/float64(o.batch))
	}
	start := time.Now()
	runErr := p.run(produceCtx, pc)
	elapsed := time.Since(start)
	receivedAtEnd := cs.m.msgs.Load()

	// Wait (bounded) until the consumer received everything acknowledged.
	deadline := time.Now().Add(drainWait)
	for cs.m.msgs.Load() < p.m.msgs.Load() && time.Now().Before(deadline) && parent.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	catchUp := time.Since(start) - elapsed
	stopConsume()
	<-consumed
	close(stop)
	<-done

	res := producerResult(command, o)
	if probe != nil {
		res.StallProbe = probe.stop() // it covered the sends and the deliveries
	}
	if runErr != nil {
		return runErr
	}
	res.Rate = rate
	cs.m.fill(&res, elapsed) // rates and latencies of delivery
	res.Sent, res.Received = p.m.msgs.Load(), cs.m.msgs.Load()
	res.Errors += p.m.errors.Load()
	res.SendP50Us, res.SendP99Us, res.SendP999Us = p.m.total.quantile(0.5), p.m.total.quantile(0.99), p.m.total.quantile(0.999)
	if rate > 0 {
		var late histogram
		p.late.drain(&late)
		res.PaceLateP50Us, res.PaceLateP99Us, res.PaceLateP999Us = late.quantile(0.5), late.quantile(0.99), late.quantile(0.999)
	}
	res.Tail = newTail(res.Sent, res.Received, receivedAtEnd, elapsed, catchUp)
	if rate > 0 && float64(res.Sent) < 0.95*float64(rate)*elapsed.Seconds() {
		fmt.Fprintf(log, "%s: sent %.0f msgs/s, below --rate %d (senders or broker saturated)\n", command, float64(res.Sent)/elapsed.Seconds(), rate)
	}
	if res.Received != res.Sent && o.mode != modeOneway {
		res.Errors++
		fmt.Fprintf(log, "%s: received %d of %d sent within %s after the end\n", command, res.Received, res.Sent, drainWait)
	}
	return finish(log, c, cl, &res, p.m, cs.m)
}

// progressBoth prints one line a second for a run that produces and
// consumes: the send round trips and the publish-to-deliver latencies of
// that second side by side, as the --json keys send_p50_us… and p50_us…
// give them for the whole run. When stop closes it drains the rest; done
// is closed when it returned.
func progressBoth(w io.Writer, label string, send, deliver *meter, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var lastSent, lastRecv, lastErrs int64
	last := time.Now()
	for {
		var hs, hd histogram
		select {
		case <-stop:
			send.drain(&hs)
			deliver.drain(&hd)
			return
		case now := <-tick.C:
			send.drain(&hs)
			deliver.drain(&hd)
			sent, recv, errs := send.msgs.Load(), deliver.msgs.Load(), send.errors.Load()+deliver.errors.Load()
			secs := now.Sub(last).Seconds()
			fmt.Fprintf(w, "%s  send %7.0f msgs/s p50 %6d p99 %7d p999 %7d µs | deliver %7.0f msgs/s p50 %6d p99 %7d p999 %7d µs | errors %d\n",
				label, float64(sent-lastSent)/secs, hs.quantile(0.5), hs.quantile(0.99), hs.quantile(0.999),
				float64(recv-lastRecv)/secs, hd.quantile(0.5), hd.quantile(0.99), hd.quantile(0.999), errs-lastErrs)
			lastSent, lastRecv, lastErrs, last = sent, recv, errs, now
		}
	}
}
