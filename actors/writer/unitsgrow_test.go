package writer

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/queue"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/valyala/bytebufferpool"
)

// unitsGroupItems is the records of each batch message in these tests.
const unitsGroupItems = 64

// batchGroup returns a function that submits one Batch of n batch messages
// of unitsGroupItems records for benchKey to w and waits for their answers:
// one group commit.
func batchGroup(t *testing.T, w *Writer) func(n int) {
	conn := &bodyConn{benchConn{answered: make(chan struct{}, 8)}}
	req := &remoting.Command{Code: remoting.ReqSendBatchMessage, Opaque: 1}
	rec := benchRecord("")
	tag := message.TagsHashCode("TagA")
	return func(n int) {
		batch := NewBatchFor(n * unitsGroupItems * len(rec))
		for range n {
			a := NewAppend(unitsGroupItems)
			a.Conn, a.Req, a.Key = conn, req, benchKey
			for i := range unitsGroupItems {
				batch.Records.B = append(batch.Records.B, rec...)
				a.Tags[i] = tag
			}
			batch.Add(a)
		}
		w.Submit(batch)
		for range n {
			<-conn.answered
		}
	}
}

// TestBatchesForOneQueueAllocateNothing: a warm writer allocates nothing
// for a group commit holding two batch messages for the same queue (4
// connections × 8 in flight over 8 queues do that all the time): records,
// units, answers and their frames all come from pools.
func TestBatchesForOneQueueAllocateNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random in race builds")
	}
	cl := openBenchLog(t)
	group := batchGroup(t, spawnBenchWriter(t, config.FlushAsync, storeDeps{log: cl, prefault: cl.CreateAhead}))
	for range 8 {
		group(2) // the pools hold what a group takes
	}
	if n := minAllocsPerRun(func() { group(2) }); n != 0 {
		t.Fatalf("a group of two %d-record batch messages for one queue allocates %.1f objects, want 0", unitsGroupItems, n)
	}
}

// minAllocsPerRun is the least of a few AllocsPerRun(100, f): AllocsPerRun
// counts the whole process's allocations, and what the writer's actor
// system does beside f (a worker goroutine started under load, a timer)
// only ever adds to f's own.
func minAllocsPerRun(f func()) float64 {
	least := testing.AllocsPerRun(100, f)
	for range 4 {
		least = min(least, testing.AllocsPerRun(100, f))
	}
	return least
}

// keepUnits is a queue actor that keeps every units slice it is given (as
// one holding a backlog does), so fresh slices keep leaving the pool.
type keepUnits struct{ kept []queue.Unit }

func (k *keepUnits) Dispatch(_ store.QueueKey, units []queue.Unit) { k.kept = units }

// TestGrownUnitsSliceGoesBackToThePool: when another batch message for a
// queue joins the group, the writer takes a bigger units slice from the
// pool and gives the outgrown one back. With slices leaving the pool for
// good (keepUnits), a pair of groups of one and of three batch messages
// then costs two new slices (the one-message group's, and the three's
// last growth; its first slice and first growth come from what the pair
// before gave back), where growing by append cost four and left the
// outgrown ones as garbage (in the broker at 64×128 B: 23 → 6–8 MB of
// allocation per 20 s).
func TestGrownUnitsSliceGoesBackToThePool(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random in race builds")
	}
	// sync.Pool keeps what is put on a P for that P until a GC: with one P
	// and no GC, what the writer gives back is what it gets next.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	cl := openBenchLog(t)
	group := batchGroup(t, spawnBenchWriterTo(t, config.FlushAsync, storeDeps{log: cl, prefault: cl.CreateAhead}, &keepUnits{}))
	pair := func() { group(1); group(3) }
	for range 8 {
		pair()
	}
	if n := minAllocsPerRun(pair); n != 2 {
		t.Fatalf("a group of one and one of three %d-record batch messages for a queue whose units are kept allocate %.1f objects, want 2 (two units slices)", unitsGroupItems, n)
	}
}

// bodyConn is a benchConn that takes batch answers as netio.Conn does, a
// head and a body part (answerframe.go).
type bodyConn struct{ benchConn }

func (c *bodyConn) WriteFrameWithBody(head *bytebufferpool.ByteBuffer, _ [][]byte, done func()) error {
	remoting.ReleaseOutFrame(head)
	done()
	c.answered <- struct{}{}
	return nil
}
