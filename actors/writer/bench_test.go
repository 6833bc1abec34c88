package writer

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/queue"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/commitlog"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/valyala/bytebufferpool"
)

// benchConn takes the encoded answers, returns them to the pool and counts
// them on answered.
type benchConn struct{ answered chan struct{} }

func (c *benchConn) Write(cmd *remoting.Command) error {
	panic(fmt.Sprintf("error answer %d: %s", cmd.Code, cmd.Remark))
}

func (c *benchConn) WriteFrame(frame *bytebufferpool.ByteBuffer) error {
	remoting.ReleaseOutFrame(frame)
	c.answered <- struct{}{}
	return nil
}

// discardUnits stands in for the queue registry: the benchmark measures the
// writer, not the queue actors; it gives the units back as the queue actor
// does (queue.ReleaseUnits).
type discardUnits struct{}

func (discardUnits) Dispatch(_ store.QueueKey, units []queue.Unit) { queue.ReleaseUnits(units) }

// openBenchLog is a recovered, empty commit log in a temp dir, closed at
// cleanup.
func openBenchLog(b testing.TB) *commitlog.CommitLog {
	cl, err := commitlog.Open(commitlog.Config{Dir: b.TempDir(), FileSize: 256 << 20})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cl.Close() })
	if _, err := cl.Recover(false, 0); err != nil {
		b.Fatal(err)
	}
	return cl
}

// spawnBenchWriter spawns a writer with flush on deps (units discarded)
// and stops it at cleanup, before openBenchLog's log closes.
func spawnBenchWriter(b testing.TB, flush config.FlushType, deps storeDeps) *Writer {
	return spawnBenchWriterTo(b, flush, deps, discardUnits{})
}

// spawnBenchWriterTo is spawnBenchWriter with the units going to d.
func spawnBenchWriterTo(b testing.TB, flush config.FlushType, deps storeDeps, d Dispatcher) *Writer {
	cfg := Config{
		Broker: config.Broker{BrokerIP1: "127.0.0.1", ListenPort: 10911, FlushDiskType: flush,
			FlushIntervalCommitLog: 500 * time.Millisecond, SyncFlushTimeout: 5 * time.Second},
		Dispatcher:      d,
		LogicsTimestamp: func() int64 { return 0 },
	}
	deps.checkpoint = func(int64, int64) error { return nil }
	w, err := spawn(testkit.ActorSystem(b), cfg, deps)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := w.Stop(ctx); err != nil {
			b.Error(err)
		}
	})
	return w
}

// benchKey is the queue of benchRecord's record.
var benchKey = store.QueueKey{Topic: "BenchTopic", QueueID: 0}

// benchUniqKey is the UNIQ_KEY of benchRecord's record.
const benchUniqKey = "C0000202705D00000000681372a80001"

// benchRecord is the encoded record of a send of a 128-byte body to
// benchKey, with UNIQ_KEY benchUniqKey, WAIT true and then props.
func benchRecord(props string) []byte {
	m := message.Message{
		BornHost: netip.MustParseAddrPort("192.0.2.2:28835"), StoreHost: netip.MustParseAddrPort("127.0.0.1:10911"),
		BornTimestamp: time.Now().UnixMilli(), Body: make([]byte, 128), Topic: benchKey.Topic,
		Properties: "UNIQ_KEY\x01" + benchUniqKey + "\x02WAIT\x01true\x02" + props,
	}
	return message.AppendRecord(nil, &m)
}

// BenchmarkGroupCommit submits sends of one 128-byte-body record in groups
// of n and waits for the group's answers, so each group commit covers up to
// n appends: per op one append (commit-log copy, queue offset, offset
// message id, encoded answer), ASYNC_FLUSH (answered after the append) and
// SYNC_FLUSH (answered after the fsync that covers it). The queue actors are
// left out (units discarded); the Append and its one-Append Batch (pooled,
// as the topic actor gets them in the broker) are counted. A topic actor
// puts every send of its turn into one Batch; here each send is a Batch of
// its own, the worst case.
func BenchmarkGroupCommit(b *testing.B) {
	key := benchKey
	rec := benchRecord("TAGS\x01TagA\x02CLUSTER\x01DefaultCluster\x02")
	tagsCode := message.TagsHashCode("TagA")
	for _, flush := range []config.FlushType{config.FlushAsync, config.FlushSync} {
		for _, n := range []int{1, 16, 128} {
			b.Run(fmt.Sprintf("%s/n=%d", flush, n), func(b *testing.B) {
				cl := openBenchLog(b)
				prefault := cl.CreateAhead // as Spawn chooses
				if flush == config.FlushSync {
					prefault = cl.PrefaultWritten
				}
				w := spawnBenchWriter(b, flush, storeDeps{log: cl, prefault: prefault})
				conn := &benchConn{answered: make(chan struct{}, n)}
				req := &remoting.Command{Code: remoting.ReqSendMessage, Opaque: 1}
				b.ReportAllocs()
				b.SetBytes(int64(len(rec)))
				b.ResetTimer()
				for done := 0; done < b.N; {
					group := min(n, b.N-done)
					for range group {
						a := NewAppend(1)
						a.Conn, a.Req, a.Key, a.UniqKey = conn, req, key, benchUniqKey
						a.Tags[0] = tagsCode
						batch := NewBatch()
						batch.Records.B = append(batch.Records.B, rec...)
						batch.Add(a)
						w.Submit(batch)
					}
					for range group {
						<-conn.answered
					}
					done += group
				}
			})
		}
	}
}
