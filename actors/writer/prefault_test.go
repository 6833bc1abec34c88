package writer

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/queue"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/remoting"
)

// jumpLog is a fakeLog whose write position can jump ahead, so a test
// crosses prefaultAhead without writing megabytes.
type jumpLog struct {
	*fakeLog
	jump atomic.Int64
}

func (l *jumpLog) WrotePosition() int64 { return l.fakeLog.WrotePosition() + l.jump.Load() }

// newJumpHarness is a harness on a jumpLog; the test spawns the writer.
func newJumpHarness() (*harness, *jumpLog) {
	log := &jumpLog{fakeLog: &fakeLog{}}
	return &harness{log: log.fakeLog, disp: &fakeDispatcher{units: map[store.QueueKey][]queue.Unit{}},
		conn: &fakeConn{ch: make(chan *remoting.Command, 16)}}, log
}

// The writer asks the prefaulter at start, then again only after writing
// half of prefaultAhead since its last request; the prefaulter calls
// its prefault function with prefaultAhead; Stop stops the prefaulter.
func TestPrefaulterFollowsTheWritePosition(t *testing.T) {
	sys := testkit.ActorSystem(t)
	h, log := newJumpHarness()
	var mu sync.Mutex
	var calls []int64 // the write position at each prefault call
	prefault := func(ahead int64) (int64, error) {
		if ahead != prefaultAhead {
			t.Errorf("prefault(%d), want %d", ahead, prefaultAhead)
		}
		pos := log.WrotePosition()
		mu.Lock()
		calls = append(calls, pos)
		mu.Unlock()
		return pos + ahead, nil
	}
	taken := func() []int64 {
		mu.Lock()
		defer mu.Unlock()
		return append([]int64(nil), calls...)
	}
	cfg := Config{
		Broker:     config.Broker{BrokerIP1: "127.0.0.1", ListenPort: 10911, FlushDiskType: config.FlushAsync, FlushIntervalCommitLog: 10 * time.Millisecond},
		Dispatcher: h.disp,
	}
	w, err := spawn(sys, cfg, storeDeps{log: log, checkpoint: func(int64, int64) error { return nil }, prefault: prefault})
	if err != nil {
		t.Fatal(err)
	}
	h.w = w
	testkit.Eventually(t, "the prefault at start", func() bool { return len(taken()) == 1 })

	send := func(opaque int32) {
		t.Helper()
		w.Submit(h.appendReq(opaque, "", "body"))
		if r := h.conn.next(t); r.Code != remoting.RespSuccess {
			t.Fatalf("send %d: code %d", opaque, r.Code)
		}
	}
	send(1) // far less than prefaultAhead/2 written: no request
	log.jump.Store(prefaultAhead / 2)
	send(2) // now past it: one request
	testkit.Eventually(t, "the prefault after half the distance", func() bool { return len(taken()) == 2 })
	send(3)
	send(4)
	if err := w.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := taken()
	if len(got) != 2 || got[1] < prefaultAhead/2 {
		t.Fatalf("prefault calls at write positions %v; want 2, the second at or past %d", got, prefaultAhead/2)
	}
	select {
	case <-w.prefaulterDone:
	default:
		t.Fatal("Stop returned with the prefaulter running")
	}
}

// A panicking (resumed) or failing prefault is logged and the writer keeps
// appending; the next request still goes out.
func TestPrefaultFailureDoesNotStopTheWriter(t *testing.T) {
	sys := testkit.ActorSystem(t)
	h, log := newJumpHarness()
	var n atomic.Int32
	cfg := Config{
		Broker:     config.Broker{BrokerIP1: "127.0.0.1", ListenPort: 10911, FlushDiskType: config.FlushAsync},
		Dispatcher: h.disp,
	}
	w, err := spawn(sys, cfg, storeDeps{log: log, checkpoint: func(int64, int64) error { return nil },
		prefault: func(int64) (int64, error) {
			if n.Add(1) == 1 {
				panic("prefault bug")
			}
			return 0, context.DeadlineExceeded
		}})
	if err != nil {
		t.Fatal(err)
	}
	h.w = w
	defer w.Stop(context.Background())
	testkit.Eventually(t, "the first prefault", func() bool { return n.Load() == 1 })
	log.jump.Store(prefaultAhead)
	w.Submit(h.appendReq(1, "", "body"))
	if r := h.conn.next(t); r.Code != remoting.RespSuccess {
		t.Fatalf("send after a failed prefault: code %d", r.Code)
	}
	testkit.Eventually(t, "the second prefault", func() bool { return n.Load() == 2 })
}
