package main

import (
	"context"
	"testing"

	"github.com/actormq/actormq/internal/testkit"
)

// echoCluster is a cluster of one echo broker with queues write queues.
func echoCluster(addr string, queues int) *cluster {
	cl := &cluster{topics: []string{"BenchTopic"}, brokers: []string{addr}}
	for q := range queues {
		cl.write = append(cl.write, queueRef{topic: "BenchTopic", broker: addr, queueID: int32(q)})
	}
	return cl
}

// BenchmarkProduce is the generator's cost per message: mqbench produce
// with 128-byte bodies against an echo broker (echo_test.go), so allocs/op
// are the generator's own (per message; a batch request counts --batch).
// cpu-ns/msg is the CPU time of the whole process per message, the echo
// broker's included. B/op of one sub-benchmark depends on the
// bytebufferpool calibration the ones before it left (burst sizes differ
// by mode): run one alone for its own figure. Profile with
//
//	go test -run '^$' -bench Produce -benchmem -cpuprofile /tmp/cpu.out ./benchmarks/mqbench
func BenchmarkProduce(b *testing.B) {
	for _, c := range []struct {
		name string
		o    producerOpts
	}{
		{"async", producerOpts{mode: modeAsync, conns: 4, inflight: 256, batch: 1}},
		{"async-keys-tags", producerOpts{mode: modeAsync, conns: 4, inflight: 256, batch: 1, keys: true, tags: "TagA"}},
		{"async-rocketmq", producerOpts{mode: modeAsync, conns: 4, inflight: 256, batch: 1, header: "rocketmq"}},
		{"sync", producerOpts{mode: modeSync, conns: 4, inflight: 64, batch: 1}},
		{"oneway", producerOpts{mode: modeOneway, conns: 4, inflight: 4, batch: 1}},
		{"batch64", producerOpts{mode: modeAsync, conns: 4, inflight: 256, batch: 64}},
	} {
		b.Run(c.name, func(b *testing.B) { benchmarkProduce(b, c.o) })
	}
}

func benchmarkProduce(b *testing.B, o producerOpts) {
	echo := startEcho(b)
	o.size = 128
	if o.header == "" {
		o.header = "json"
	}
	// Whole requests: b.N rounded up to a multiple of the batch.
	requests := (int64(b.N) + int64(o.batch) - 1) / int64(o.batch)
	o.messages = requests * int64(o.batch)
	if err := o.check(); err != nil {
		b.Fatal(err)
	}
	p, err := newProducer(echoCluster(echo.addr(), 8), o)
	if err != nil {
		b.Fatal(err)
	}
	defer p.close()
	b.ReportAllocs()
	b.SetBytes(int64(o.size))
	b.ResetTimer()
	cpu := testkit.ProcessCPU(b)
	if err := p.run(context.Background(), nil); err != nil {
		b.Fatal(err)
	}
	cpu = testkit.ProcessCPU(b) - cpu
	b.StopTimer()
	if errs := p.m.errors.Load(); errs != 0 {
		b.Fatalf("%d errors, first: %s", errs, *p.m.firstErr.Load())
	}
	fence := int64(0)
	if o.mode == modeOneway {
		fence = int64(o.conns) // one answered send per connection (producer.fence)
	}
	if got, want := p.m.msgs.Load(), o.messages+fence*int64(o.batch); got != want {
		b.Fatalf("sent %d messages, want %d", got, want)
	}
	if got, want := echo.total(), requests+fence; got != want {
		b.Fatalf("echo read %d requests, want %d", got, want)
	}
	b.ReportMetric(float64(o.batch), "msgs/request")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(o.messages), "cpu-ns/msg")
}
