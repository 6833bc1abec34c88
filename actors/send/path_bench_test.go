package send

import (
	"context"
	"runtime/debug"
	"strconv"
	"sync/atomic"
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
	"github.com/valyala/bytebufferpool"
)

// benchMeta is a fixed topic table for the data-plane benchmark.
type benchMeta struct{ tc body.TopicConfig }

func (m benchMeta) Topic(name string) (body.TopicConfig, bool) { return m.tc, name == m.tc.TopicName }
func (benchMeta) AutoCreateTopic(context.Context, string, string, int32) (body.TopicConfig, error) {
	return body.TopicConfig{}, nil
}
func (benchMeta) Group(string) (body.SubscriptionGroupConfig, bool) {
	return body.SubscriptionGroupConfig{}, false
}
func (benchMeta) CreateTopic(_ context.Context, tc body.TopicConfig) (body.TopicConfig, error) {
	return tc, nil
}
func (benchMeta) Subscription(string, string) (body.SubscriptionData, bool) {
	return body.SubscriptionData{}, false
}

// countConn drops answers, as a socket would take them (batch answers
// through WriteFrameWithBody, as *netio.Conn), and signals when the answers
// reach want.
type countConn struct {
	answered, want atomic.Int64
	reached        chan struct{}
}

func (c *countConn) answer() {
	if c.answered.Add(1) == c.want.Load() {
		c.reached <- struct{}{}
	}
}

func (c *countConn) Write(*remoting.Command) error { c.answer(); return nil }
func (c *countConn) WriteFrame(f *bytebufferpool.ByteBuffer) error {
	remoting.ReleaseOutFrame(f)
	c.answer()
	return nil
}
func (c *countConn) WriteFrameWithBody(head *bytebufferpool.ByteBuffer, _ [][]byte, done func()) error {
	remoting.ReleaseOutFrame(head)
	done()
	c.answer()
	return nil
}
func (c *countConn) RemoteAddr() string { return "127.0.0.1:50000" }

// BenchmarkSendPath measures the broker's share of one send, without a
// network or a client: per op, the frame of a Java/mqbench-style
// SEND_MESSAGE_V2 (a 128-byte or 1 KiB body, UNIQ_KEY) is decoded as a gnet
// loop does, handed to the send handler, encoded by the topic actor, appended
// to a real commit log by the writer, dispatched to the queue actor and
// answered into a pooled frame. Sends go in windows of 256, as pipelining
// producers keep them in flight. allocs/op and the CPU profile are the
// broker's alone; cpu-ns/msg as in BenchmarkBatchSendPath.
func BenchmarkSendPath(b *testing.B) {
	for _, size := range []int{128, 1024} {
		b.Run(strconv.Itoa(size)+"B", func(b *testing.B) { benchmarkSendPath(b, size) })
	}
}

func benchmarkSendPath(b *testing.B, size int) {
	s := spawnBenchSender(b, false)
	frames := make([][]byte, 8)
	for q := range frames {
		props := message.FormatProperties(map[string]string{message.PropertyUniqKey: "7F0000010B2A18B4AAC2" + strconv.Itoa(100000+q)})
		frames[q] = remoting.AppendFrame(nil, remoting.NewRequest(remoting.ReqSendMessageV2, map[string]string{
			"a": "mqbench_pg", "b": "BenchT", "c": "TBW102", "d": "4", "e": strconv.Itoa(q), "f": "0",
			"g": "1795238031504", "h": "0", "i": props, "j": "0", "k": "false", "l": "0", "m": "false",
		}, make([]byte, size)))
	}
	conn := &countConn{reached: make(chan struct{}, 1)}
	defer debug.SetGCPercent(debug.SetGCPercent(1000))
	const window = 256
	b.ReportAllocs()
	b.SetBytes(int64(size))
	b.ResetTimer()
	cpuStart := testkit.ProcessCPU(b)
	sendWindowed(b, s, conn, frames, window)
	b.ReportMetric(float64(testkit.ProcessCPU(b)-cpuStart)/float64(b.N), "cpu-ns/msg")
	if conn.answered.Load() != int64(b.N) {
		b.Fatalf("%d answers for %d sends", conn.answered.Load(), b.N)
	}
}

// sendWindowed hands b.N frames (cycling through frames) to the send
// handler, at most window of them unanswered at a time.
func sendWindowed(b *testing.B, s *Sender, conn *countConn, frames [][]byte, window int) {
	sent := 0
	for sent < b.N {
		n := min(window, b.N-sent)
		conn.want.Store(int64(sent + n))
		for i := range n {
			cmd, err := remoting.DecodeFrame(frames[(sent+i)%len(frames)])
			if err != nil {
				b.Fatal(err)
			}
			s.handle(conn, cmd, cmd.Code)
		}
		sent += n
		<-conn.reached
	}
}

// spawnBenchSender runs a broker's data plane in process for the send
// benchmarks (and tests that drive the handler directly): a real store
// (1 GiB segments) under b.TempDir, queue actors, the writer and the send
// handler for topic BenchT (8 queues), stopped at cleanup. withIndex puts
// the index actor behind the writer, as the broker does
// (messageIndexEnable); without it the writer dispatches to the queues
// alone.
func spawnBenchSender(b testing.TB, withIndex bool) *Sender {
	cfg := config.Broker{
		BrokerClusterName: "DefaultCluster", BrokerName: "broker-a", BrokerIP1: "127.0.0.1", ListenPort: 10911,
		BrokerRole: config.RoleAsyncMaster, FlushDiskType: config.FlushAsync, BrokerPermission: 6,
		MaxMessageSize: 4 << 20, FlushIntervalCommitLog: 500 * time.Millisecond, SyncFlushTimeout: 5 * time.Second,
		RegionID: "DefaultRegion", StorePathRootDir: b.TempDir(),
		MessageIndexEnable: withIndex, MaxHashSlotNum: 100_000, MaxIndexNum: 400_000,
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
	var dispatch writer.Dispatcher = qr
	var x *index.Indexer
	if withIndex {
		if x, err = index.Spawn(sys, index.Config{Broker: cfg, CommitLog: st.CommitLog}); err != nil {
			b.Fatal(err)
		}
		dispatch = x.Feed(qr)
	}
	w, err := writer.Spawn(sys, writer.Config{Broker: cfg, Store: st, Dispatcher: dispatch, LogicsTimestamp: qr.FlushedTimestamp})
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
		if x != nil {
			_ = x.Stop(ctx)
		}
		_ = qr.Stop(ctx)
		_ = st.Close()
	})
	return s
}
