package queue

import (
	"context"
	"net/netip"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/commitlog"
	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/valyala/bytebufferpool"
)

// benchConn answers the pull benchmark: it releases the frame and the
// zero-copy parts at once and reports each answer, without decoding it:
// only SUCCESS answers carry a body, so a frame with parts reports
// SUCCESS and one without reports -1.
type benchConn struct{ codes chan int32 }

func (c *benchConn) Write(cmd *remoting.Command) error {
	c.codes <- cmd.Code
	return nil
}

func (c *benchConn) WriteFrame(frame *bytebufferpool.ByteBuffer) error {
	remoting.ReleaseOutFrame(frame)
	c.codes <- -1
	return nil
}

func (c *benchConn) WriteFrameWithBody(head *bytebufferpool.ByteBuffer, _ [][]byte, done func()) error {
	remoting.ReleaseOutFrame(head)
	done()
	c.codes <- remoting.RespSuccess
	return nil
}

// pullBench is a queue registry over a real commit log and consume queue
// (temp dir), with the writer's role played by the benchmark goroutine.
type pullBench struct {
	r   *Registry
	cl  *benchLog
	cq  *consumequeue.ConsumeQueue
	key store.QueueKey
	rec []byte // one Go-client record with a 128-byte body
}

// benchLog is the commit log with its flushed position set by the
// benchmark (flush): the flush actor's role, without an msync per message,
// so that a SYNC_FLUSH run measures the wake-up and not the disk.
type benchLog struct {
	*commitlog.CommitLog
	flushed atomic.Int64
}

func (l *benchLog) FlushedPosition() int64 { return l.flushed.Load() }

// flush marks everything written durable and wakes the pulls waiting for
// it, as the flush actor does after an fsync.
func (p *pullBench) flush() {
	p.cl.flushed.Store(p.cl.WrotePosition())
	p.r.WakeFlushed()
}

func newPullBench(b testing.TB, flushType config.FlushType) *pullBench {
	b.Helper()
	dir := b.TempDir()
	log, err := commitlog.Open(commitlog.Config{Dir: dir + "/commitlog", FileSize: 256 << 20})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { log.Close() })
	if _, err := log.Recover(false, 0); err != nil {
		b.Fatal(err)
	}
	cl := &benchLog{CommitLog: log}
	key := store.QueueKey{Topic: "BenchTopic", QueueID: 0}
	openCQ := func(k store.QueueKey) (cqueue, error) {
		return consumequeue.Open(consumequeue.Config{RootDir: dir + "/consumequeue", Topic: k.Topic, QueueID: k.QueueID})
	}
	cq, err := openCQ(key)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cq.(*consumequeue.ConsumeQueue).Close() })
	cfg := Config{
		Broker: config.Broker{LongPollingEnable: true, BrokerPermission: body.PermRead | body.PermWrite, BrokerIP1: "127.0.0.1",
			FlushDiskType: flushType},
		Topics:        fakeTopics{key.Topic: {TopicName: key.Topic, ReadQueueNums: 1, WriteQueueNums: 1, Perm: 6}},
		Subscriptions: fakeSubs{},
	}
	r, err := spawn(testkit.ActorSystem(b), cfg, storeDeps{log: cl, queues: map[store.QueueKey]cqueue{key: cq}, open: openCQ})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.Stop(ctx); err != nil {
			b.Error(err)
		}
	})
	m := message.Message{
		BornHost: netip.MustParseAddrPort("192.0.2.2:28835"), StoreHost: netip.MustParseAddrPort("127.0.0.1:10911"),
		BornTimestamp: time.Now().UnixMilli(), Body: make([]byte, 128), Topic: key.Topic,
		Properties: "UNIQ_KEY\x01C0000202705D00000000681372a80001\x02WAIT\x01true\x02TAGS\x01TagA\x02CLUSTER\x01DefaultCluster\x02",
	}
	return &pullBench{r: r, cl: cl, cq: cq.(*consumequeue.ConsumeQueue), key: key, rec: message.AppendRecord(nil, &m)}
}

// store appends the record at queue offset off and dispatches its unit (the
// writer's job).
func (p *pullBench) store(b testing.TB, off int64) {
	now := time.Now().UnixMilli()
	phys, err := p.cl.Append(p.rec, off, now)
	if err != nil {
		b.Fatal(err)
	}
	p.r.Dispatch(p.key, []Unit{{QueueOffset: off, PhysOffset: phys, Size: int32(len(p.rec)),
		TagsCode: message.TagsHashCode("TagA"), StoreTimestamp: now}})
}

// BenchmarkPullWakeup measures one pull per op, as the Go push consumer
// sends it (suspend allowed, 20 s, tag filter "*", one message wanted):
//
//   - ready: the message is in the queue before the pull arrives;
//   - held: the pull arrives first and is held by its queue actor, and the
//     message's dispatch wakes it (ASYNC_FLUSH), or the flush after the
//     dispatch does (SYNC_FLUSH: the Put registers the queue for the flush,
//     WakeFlushed → queue actor → answer).
//
// held minus ready is the cost of one long-poll wakeup. Both include the
// writer's part (commit-log append, Dispatch; on SYNC_FLUSH the flush
// actor's WakeFlushed, with the flushed position set, not msynced) and the
// pull handler's header parse, but not building the request: one Command
// is reused with its queueOffset rewritten from strings made before timing.
func BenchmarkPullWakeup(b *testing.B) {
	for _, flushType := range []config.FlushType{config.FlushAsync, config.FlushSync} {
		for _, held := range []bool{false, true} {
			name := "ready"
			if held {
				name = "held"
			}
			b.Run(string(flushType)+"/"+name, func(b *testing.B) {
				benchPullWakeup(b, flushType, held)
			})
		}
	}
}

func benchPullWakeup(b *testing.B, flushType config.FlushType, held bool) {
	p := newPullBench(b, flushType)
	conn := &benchConn{codes: make(chan int32, 1)}
	ext := map[string]string{
		"consumerGroup": "CG_bench", "topic": p.key.Topic, "queueId": "0", "queueOffset": "0",
		"maxMsgNums": "1", "sysFlag": strconv.Itoa(int(pullFlagSuspend | pullFlagSubscription)),
		"commitOffset": "0", "suspendTimeoutMillis": "20000", "subscription": "*", "subVersion": "0",
		"expressionType": "TAG",
	}
	cmd := remoting.NewRequest(remoting.ReqPullMessage, ext, nil)
	offsets := make([]string, b.N)
	for i := range offsets {
		offsets[i] = strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		off := int64(i)
		ext["queueOffset"] = offsets[i]
		cmd.ExtFields = ext // the handler hands the map back (a caller-built one is not recycled)
		if held {
			// The count drops after the previous answer may have
			// arrived; wait so that the next check sees this pull.
			for p.r.HeldPulls() != 0 {
				runtime.Gosched()
			}
			p.r.handlePull(conn, cmd)
			for p.r.HeldPulls() == 0 {
				runtime.Gosched()
			}
			p.store(b, off)
			if flushType == config.FlushSync {
				// The fsync ends after the dispatch (it starts after the
				// append): the Put finds the unit unflushed and the queue
				// waits for WakeFlushed.
				for p.cq.MaxOffset() <= off {
					runtime.Gosched()
				}
				p.flush()
			}
		} else {
			p.store(b, off)
			if flushType == config.FlushSync {
				p.flush()
			}
			for p.cq.MaxOffset() <= off {
				runtime.Gosched()
			}
			p.r.handlePull(conn, cmd)
		}
		if code := <-conn.codes; code != remoting.RespSuccess {
			b.Fatalf("pull %d answered %d", i, code)
		}
	}
}
