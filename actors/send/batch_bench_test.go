package send

import (
	"runtime/debug"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/index"
	"github.com/actormq/actormq/actors/queue"
	"github.com/actormq/actormq/actors/writer"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/body"
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
	cfg := config.Broker{
		BrokerClusterName: "DefaultCluster", BrokerName: "broker-a", BrokerIP1: "127.0.0.1", ListenPort: 10911,
		BrokerRole: config.RoleAsyncMaster, FlushDiskType: config.FlushAsync, BrokerPermission: 6,
		MaxMessageSize: 4 << 20, FlushIntervalCommitLog: 500 * time.Millisecond, SyncFlushTimeout: 5 * time.Second,
		RegionID: "DefaultRegion", StorePathRootDir: b.TempDir(),
		MessageIndexEnable: true, MaxHashSlotNum: 100_000, MaxIndexNum: 400_000,
	}
	meta := benchMeta{tc: body.TopicConfig{TopicName: "BenchT", ReadQueueNums: 8, WriteQueueNums: 8, Perm: 6}}
	st, err := store.Open(store.Config{RootDir: cfg.StorePathRootDir, CommitLogFileSize: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	sys := testkit.ActorSystem(b)
	qr, err := queue.Spawn(sys, queue.Config{Broker: cfg, Store: st, Topics: meta, Subscriptions: meta})
	if err != nil {
		b.Fatal(err)
	}
	x, err := index.Spawn(sys, index.Config{Broker: cfg, CommitLog: st.CommitLog})
	if err != nil {
		b.Fatal(err)
	}
	w, err := writer.Spawn(sys, writer.Config{Broker: cfg, Store: st, Dispatcher: x.Feed(qr), LogicsTimestamp: qr.FlushedTimestamp})
	if err != nil {
		b.Fatal(err)
	}
	s, err := Spawn(sys, Config{Broker: cfg, Topics: meta, Groups: meta, Writer: w})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx := testkit.Context(b)
		_ = s.Stop(ctx)
		_ = w.Stop(ctx)
		_ = x.Stop(ctx)
		_ = qr.Stop(ctx)
		_ = st.Close()
	})
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
