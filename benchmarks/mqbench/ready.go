package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
)

// readyRetry is the pause between two attempts of mqbench ready; it bounds
// the error of the measured time.
const readyRetry = 10 * time.Millisecond

// readyCmd measures how long a broker that is (re)starting takes to serve:
// from mqbench's own start it resolves the topic through the NameServer and
// sends one message, again every readyRetry until a send is answered
// SUCCESS, and reports that time as ready_ms. A restarted broker serves
// once it recovered its store, listens and registered with the NameServer
// again (its old registration went with its connection). make bench starts
// it right after the broker process.
func readyCmd(log io.Writer) *cobra.Command {
	var c common
	cmd := &cobra.Command{
		Use:   "ready",
		Short: "time until a starting broker answers a send (ready_ms), retrying every 10 ms for up to --duration",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			start := time.Now()
			ctx, cancel := context.WithTimeout(cmd.Context(), c.duration)
			defer cancel()
			var (
				cl       *cluster
				err      error
				attempts int
			)
			for {
				attempts++
				if cl, err = sendOnce(&c); err == nil {
					break
				}
				select {
				case <-ctx.Done():
					return fmt.Errorf("no send answered within %s (%d attempts): %w", c.duration, attempts, err)
				case <-time.After(readyRetry):
				}
			}
			defer cl.close()
			cl.gcStart = brokerGC{} // the run is the broker's start: its GC figures are the run's
			elapsed := time.Since(start)
			res := result{Command: "ready", Size: readyBodyBytes, Conns: 1, Inflight: 1, Batch: 1, Sent: 1,
				DurationS: elapsed.Seconds(), ReadyMs: elapsed.Milliseconds(), Attempts: attempts}
			fmt.Fprintf(log, "ready: a send succeeded after %d ms (%d attempts)\n", res.ReadyMs, attempts)
			return finish(log, &c, cl, &res)
		},
	}
	c.register(cmd)
	return cmd
}

const readyBodyBytes = 128

// sendOnce resolves the topics and sends one message to a write queue; the
// cluster is returned open on success.
func sendOnce(c *common) (*cluster, error) {
	cl, err := c.open()
	if err != nil {
		return nil, err
	}
	p, err := newProducer(cl, producerOpts{size: readyBodyBytes, conns: 1, inflight: 1, batch: 1, messages: 1, mode: modeSync, header: "json"})
	if err != nil {
		cl.close()
		return nil, err
	}
	defer p.close()
	if err := p.run(context.Background(), nil); err != nil { // one send, answered or failed within sendTimeout
		cl.close()
		return nil, err
	}
	if first := p.m.firstErr.Load(); first != nil {
		cl.close()
		return nil, errors.New(*first)
	}
	return cl, nil
}
