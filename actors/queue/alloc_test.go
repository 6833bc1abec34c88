package queue

import (
	"strconv"
	"testing"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/commitlog"
	"github.com/actormq/actormq/wire/remoting"
)

// TestQueueActorPullAllocatesNothing: a pull answered by a queue actor,
// here each time by a queue actor that never scanned before (as every one
// of 10,000 queues drained once), costs no allocation once the pools are
// warm: the unit buffer its scan reads into is borrowed, not kept per
// queue, and the body's arrays come from the pool.
func TestQueueActorPullAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops pooled items at random under the race detector")
	}
	p := newPullBench(t, config.FlushAsync)
	const stored = 40
	for off := range int64(stored) {
		p.store(t, off)
	}
	testkit.Eventually(t, "the units stored", func() bool { return p.cq.MaxOffset() == stored })
	e := p.r.lookup(p.key)
	conn := &benchConn{codes: make(chan int32, 1)}
	q := &queueActor{}
	pull := func() {
		*q = queueActor{r: p.r, e: e} // a queue actor's first pull
		req := newPullReq()
		*req = pullReq{conn: conn, key: p.key, group: "CG_bench", offset: 0, maxMsgNums: 32, filter: filter{all: true}}
		q.pull(req)
		if code := <-conn.codes; code != remoting.RespSuccess {
			t.Fatalf("answered %d", code)
		}
	}
	pull()
	if n := testing.AllocsPerRun(100, pull); n != 0 {
		t.Fatalf("a queue actor's pull allocates %.2f times", n)
	}
}

// TestPullBodySizedOnce: a body the pool cannot supply is made with room
// for the messages the pull wants, so collecting them allocates nothing
// more (appending from empty made six arrays of each kind for 32).
func TestPullBodySizedOnce(t *testing.T) {
	for pullBodies.Get() != nil { // empty the pool: the next body is new
	}
	for _, n := range []int{1, 32, pullBodyPooledMax + 10} {
		b := getPullBody(n)
		room := min(n, pullBodyPooledMax)
		if len(b.slices) != 0 || cap(b.slices) < room || cap(b.parts) < room {
			t.Fatalf("getPullBody(%d): len %d, room for %d slices and %d parts, want empty with room for %d",
				n, len(b.slices), cap(b.slices), cap(b.parts), room)
		}
		b.release()
	}
	if raceEnabled {
		return // pooled bodies may be dropped at random
	}
	var s commitlog.Slice // no segment: Release does nothing
	fill := func() {
		for pullBodies.Get() != nil {
		}
		b := getPullBody(32)
		for range 32 {
			b.add(s)
		}
		b.release()
	}
	// The body, its bound release func and its two arrays.
	if n := testing.AllocsPerRun(20, fill); n > 4 {
		t.Fatalf("a new body collecting 32 slices allocates %.0f times, want at most 4", n)
	}
}

// TestOffsetAnswersAllocateNothing: GET_MAX_OFFSET and GET_MIN_OFFSET are
// answered from the stack into a pooled frame.
func TestOffsetAnswersAllocateNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops pooled items at random under the race detector")
	}
	p := newPullBench(t, config.FlushAsync)
	p.store(t, 0)
	testkit.Eventually(t, "the unit stored", func() bool { return p.cq.MaxOffset() == 1 })
	conn := &benchConn{codes: make(chan int32, 1)}
	ext := map[string]string{"topic": p.key.Topic, "queueId": strconv.Itoa(int(p.key.QueueID))}
	for _, tt := range []struct {
		name   string
		code   int32
		handle func(Conn, *remoting.Command)
	}{{"max", remoting.ReqGetMaxOffset, p.r.handleMaxOffset}, {"min", remoting.ReqGetMinOffset, p.r.handleMinOffset}} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := remoting.NewRequest(tt.code, ext, nil)
			ask := func() {
				cmd.ExtFields = ext // the handler releases the map (a caller-built one is not recycled)
				tt.handle(conn, cmd)
				if code := <-conn.codes; code != -1 { // benchConn: a whole frame
					t.Fatalf("answered with %d, want a pooled frame", code)
				}
			}
			ask()
			if n := testing.AllocsPerRun(100, ask); n != 0 {
				t.Fatalf("an offset answer allocates %.2f times", n)
			}
		})
	}
}

// TestReleasedUnitScratchIsPoisoned: in race builds a unit buffer given
// back is overwritten and never lent again, so a scan that kept it reads
// nonsense.
func TestReleasedUnitScratchIsPoisoned(t *testing.T) {
	if !poisonReleasedUnits {
		t.Skip("only race builds poison released unit buffers")
	}
	s := getUnitScratch()
	s[0].Size = 20
	putUnitScratch(s)
	for i, u := range s {
		if u != unitScratchPoison {
			t.Fatalf("released unit %d = %+v, want the poison", i, u)
		}
	}
}
