package main

import (
	"context"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
)

// BenchmarkConsume drains a 32,000-message backlog (128 B) from an
// in-process broker per iteration, as `consume --from first --drain` does,
// with full 32-message pulls. cpu-ns/msg and allocs/msg are the whole
// process's, the broker's included: a change to the consumer shows as the
// difference.
func BenchmarkConsume(b *testing.B) {
	ns := startCluster(b)
	root, _ := newRoot(io.Discard)
	root.SetArgs([]string{"produce", "-n", ns, "-t", "ConsumeBench", "-q", "4", "-s", "128", "--messages", "32000", "--json", b.TempDir() + "/p.json"})
	if err := root.Execute(); err != nil {
		b.Fatal(err)
	}
	cl, err := openCluster(ns, []string{"ConsumeBench"}, 4)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.close()
	var msgs int64
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu := testkit.ProcessCPU(b)
	b.ResetTimer()
	for range b.N {
		cs, err := newConsumer(cl, consumerOpts{conns: 1, pullBatch: 32, from: "first", drain: true})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cs.run(ctx, cancel)
		cancel()
		cs.close()
		if cs.m.errors.Load() != 0 || cs.m.msgs.Load() != cs.backlog() {
			b.Fatalf("received %d of %d, %d errors: %v", cs.m.msgs.Load(), cs.backlog(), cs.m.errors.Load(), cs.m.firstErr.Load())
		}
		msgs += cs.m.msgs.Load()
	}
	b.StopTimer()
	cpu = testkit.ProcessCPU(b) - cpu
	runtime.ReadMemStats(&ms1)
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(msgs), "cpu-ns/msg")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(msgs), "allocs/msg")
	b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
}
