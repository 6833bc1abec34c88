package send

import (
	"runtime/debug"
	"strconv"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// BenchmarkBatchSendPath is BenchmarkSendPath for SEND_BATCH_MESSAGE as
// `mqbench produce --batch N` sends it (benchmarks/run.sh: 64 × 128 B and
// 32 × 1 KiB): per op, one frame of N items (no properties, as the Go
// client's batch items and mqbench's carry no UNIQ_KEY) is decoded as a
// gnet loop does, handled, encoded into N records by the topic actor,
// appended by the writer, dispatched to the queue actor, scanned by the
// index actor (as in the broker, whose writer's Dispatcher is the index's
// Feed) and answered with N message ids. Batches
// go in windows of 32, as 4 connections × 8 in flight keep them. ns/msg is
// the time per item and cpu-ns/msg the process's CPU time (user + system,
// page faults included) per item, which other load on the machine moves
// less; allocs/op is per batch. GOGC is 1000 while it runs, as cmd/mqbroker
// sets it, so that GC takes the share it takes in the broker.
func BenchmarkBatchSendPath(b *testing.B) {
	for _, c := range []struct{ items, size int }{{64, 128}, {32, 1024}} {
		b.Run(strconv.Itoa(c.items)+"x"+strconv.Itoa(c.size)+"B", func(b *testing.B) { benchmarkBatchSendPath(b, c.items, c.size) })
	}
}

func benchmarkBatchSendPath(b *testing.B, batchItems, size int) {
	s := spawnBenchSender(b, true)
	items := make([]message.BatchItem, batchItems)
	for i := range items {
		items[i].Body = make([]byte, size)
	}
	batchBody := message.EncodeBatch(items)
	frames := make([][]byte, 8)
	for q := range frames {
		frames[q] = remoting.AppendFrame(nil, remoting.NewRequest(remoting.ReqSendBatchMessage, map[string]string{
			"a": "mqbench_pg", "b": "BenchT", "c": "TBW102", "d": "4", "e": strconv.Itoa(q), "f": "0",
			"g": "1795238031504", "h": "0", "i": "", "j": "0", "k": "false", "l": "0", "m": "true",
		}, batchBody))
	}
	conn := &countConn{reached: make(chan struct{}, 1)}
	defer debug.SetGCPercent(debug.SetGCPercent(1000))
	const window = 32
	b.ReportAllocs()
	b.SetBytes(int64(batchItems * size))
	b.ResetTimer()
	start, cpuStart := time.Now(), testkit.ProcessCPU(b)
	sendWindowed(b, s, conn, frames, window)
	msgs := float64(b.N * batchItems)
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/msgs, "ns/msg")
	b.ReportMetric(float64(testkit.ProcessCPU(b)-cpuStart)/msgs, "cpu-ns/msg")
	if conn.answered.Load() != int64(b.N) {
		b.Fatalf("%d answers for %d batches", conn.answered.Load(), b.N)
	}
}
