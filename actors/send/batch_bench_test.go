package send

import (
	"runtime/debug"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// BenchmarkBatchSendPath is BenchmarkSendPath for SEND_BATCH_MESSAGE as
// `mqbench produce --batch 64` sends it: per op, one frame of 64 items
// (no properties, as the Go client's batch items and mqbench's carry no
// UNIQ_KEY) is decoded as a gnet loop does, handled, encoded into 64
// records by the topic actor, appended by the writer, dispatched to the
// queue actor, scanned by the index actor (as in the broker, whose writer's
// Dispatcher is the index's Feed) and answered with 64 message ids. Batches
// go in windows of 32, as 4 connections × 8 in flight keep them. ns/msg is
// the time per item and cpu-ns/msg the process's CPU time (user + system,
// page faults included) per item, which other load on the machine moves
// less; allocs/op is per batch. GOGC is 1000 while it runs, as cmd/mqbroker
// sets it, so that GC takes the share it takes in the broker.
func BenchmarkBatchSendPath(b *testing.B) {
	for _, size := range []int{128, 1024} {
		b.Run(strconv.Itoa(size)+"B", func(b *testing.B) { benchmarkBatchSendPath(b, size) })
	}
}

const benchBatchItems = 64

func benchmarkBatchSendPath(b *testing.B, size int) {
	s := spawnBenchSender(b, true)
	items := make([]message.BatchItem, benchBatchItems)
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
	b.SetBytes(int64(benchBatchItems * size))
	b.ResetTimer()
	start, cpuStart := time.Now(), processCPU(b)
	sendWindowed(b, s, conn, frames, window)
	msgs := float64(b.N * benchBatchItems)
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/msgs, "ns/msg")
	b.ReportMetric(float64(processCPU(b)-cpuStart)/msgs, "cpu-ns/msg")
	if conn.answered.Load() != int64(b.N) {
		b.Fatalf("%d answers for %d batches", conn.answered.Load(), b.N)
	}
}

// processCPU is the CPU time the process has used so far, in nanoseconds.
func processCPU(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
