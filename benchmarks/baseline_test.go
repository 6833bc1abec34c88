// Package benchmarks holds the broker's benchmarks. This file is the first
// rough baseline: 128-byte sync sends from a simple loop through the
// project's own client transport, against an in-process broker. Run:
//
//	go test ./benchmarks -run NONE -bench . -benchtime 20000x
//
// Results are Go benchmark lines (machine-readable); msgs/s is reported as a
// metric. The load generator (benchmarks/mqbench, make bench) measures the
// broker as a separate process; this stays as the in-process baseline.
package benchmarks

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/broker"
	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/internal/testkit/netkit"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/rs/zerolog"
)

func startBroker(b *testing.B, flush config.FlushType) string {
	b.Helper()
	port := netkit.BrokerPort(b)
	cfg := config.DefaultBroker()
	cfg.BrokerName = "bench"
	cfg.ListenPort = port
	cfg.HAListenPort = port + 1
	cfg.BindAddress = "127.0.0.1"
	cfg.BrokerIP1 = "127.0.0.1"
	cfg.NamesrvAddr = ""
	cfg.StorePathRootDir = b.TempDir()
	cfg.StorePathCommitLog = ""
	cfg.FlushDiskType = flush
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	br := broker.New(cfg, zerolog.Nop())
	if err := br.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = br.Shutdown(context.Background()) })
	return br.Addr()
}

// sendCommand is a SEND_MESSAGE as the Go client builds it.
func sendCommand(topic string, queueID int, body []byte) *remoting.Command {
	return remoting.NewRequest(remoting.ReqSendMessage, map[string]string{
		"producerGroup": "PG_bench", "topic": topic, "defaultTopic": "TBW102", "defaultTopicQueueNums": "8",
		"queueId": strconv.Itoa(queueID), "sysFlag": "0", "bornTimestamp": strconv.FormatInt(time.Now().UnixMilli(), 10),
		"flag": "0", "properties": "", "reconsumeTimes": "0", "unitMode": "false", "batch": "false",
	}, body)
}

func benchmarkSyncSend(b *testing.B, flush config.FlushType, parallelism int) {
	addr := startBroker(b, flush)
	client := netio.NewClient(netio.ClientConfig{Logger: zerolog.Nop()})
	defer client.Close()
	body := make([]byte, 128)
	// Create the topic (auto-create) before timing.
	if resp, err := client.Invoke(context.Background(), addr, sendCommand("BenchTopic", 0, body)); err != nil || resp.Code != 0 {
		b.Fatalf("warm-up send: %v %+v", err, resp)
	}
	b.SetParallelism(parallelism)
	b.ResetTimer()
	start, created := time.Now(), goroutinesCreated()
	b.RunParallel(func(pb *testing.PB) {
		q := 0
		for pb.Next() {
			q++
			resp, err := client.Invoke(context.Background(), addr, sendCommand("BenchTopic", q%8, body))
			if err != nil || resp.Code != remoting.RespSuccess {
				b.Errorf("send: %v %+v", err, resp) // Errorf, not Fatalf: this is not the benchmark goroutine
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	reportGoroutinesPerOp(b, created)
}

// BenchmarkSyncSend128Loop is one sender waiting for each answer: latency-bound.
func BenchmarkSyncSend128Loop(b *testing.B) {
	b.Run("async-flush", func(b *testing.B) { benchmarkSyncSend(b, config.FlushAsync, 1) })
	b.Run("sync-flush", func(b *testing.B) { benchmarkSyncSend(b, config.FlushSync, 1) })
}

// BenchmarkSyncSend128x64 is 64 senders per core, each waiting for its answer.
func BenchmarkSyncSend128x64(b *testing.B) {
	b.Run("async-flush", func(b *testing.B) { benchmarkSyncSend(b, config.FlushAsync, 64) })
	b.Run("sync-flush", func(b *testing.B) { benchmarkSyncSend(b, config.FlushSync, 64) })
}
