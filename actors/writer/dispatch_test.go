package writer

import (
	"sync"
	"testing"

	"github.com/actormq/actormq/actors/queue"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/remoting"
)

// handleDispatcher is a TargetDispatcher that hands out a new handle on
// every DispatchTarget call and records the units dispatched to each.
type handleDispatcher struct {
	fakeDispatcher // Dispatch: counted in plain
	mu             sync.Mutex
	keys           map[*queue.DispatchTarget]store.QueueKey
	asked          map[store.QueueKey]int
	sent           map[*queue.DispatchTarget][]queue.Unit
	plain          int
}

func (d *handleDispatcher) Dispatch(k store.QueueKey, units []queue.Unit) {
	d.mu.Lock()
	d.plain++
	d.mu.Unlock()
	d.fakeDispatcher.Dispatch(k, units)
}

func (d *handleDispatcher) DispatchTarget(k store.QueueKey) *queue.DispatchTarget {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := &queue.DispatchTarget{}
	d.keys[t] = k
	d.asked[k]++
	return t
}

func (d *handleDispatcher) DispatchTo(t *queue.DispatchTarget, units []queue.Unit) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.keys[t]; !ok {
		panic("DispatchTo with a handle DispatchTarget did not return")
	}
	d.sent[t] = append(d.sent[t], units...)
}

// offsets returns the queue offsets dispatched to t.
func (d *handleDispatcher) offsets(t *queue.DispatchTarget) []int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	var offs []int64
	for _, u := range d.sent[t] {
		offs = append(offs, u.QueueOffset)
	}
	return offs
}

// TestDispatchThroughHandles: with a TargetDispatcher the writer asks for a
// queue's handle once, at its first dispatch (a queue seeded from the store
// included), dispatches every later group through it without Dispatch, and
// asks again after ForgetTopic dropped the queue's state.
func TestDispatchThroughHandles(t *testing.T) {
	d := &handleDispatcher{fakeDispatcher: fakeDispatcher{units: map[store.QueueKey][]queue.Unit{}},
		keys: map[*queue.DispatchTarget]store.QueueKey{}, asked: map[store.QueueKey]int{}, sent: map[*queue.DispatchTarget][]queue.Unit{}}
	h := newHarness(t, func(c *Config) { c.Dispatcher = d }, map[store.QueueKey]int64{testKey: 5})
	for i := range int32(3) { // one group each: answered before the next
		h.w.Submit(h.appendReq(i, "", "m"))
		if r := h.conn.next(t); r.Code != remoting.RespSuccess {
			t.Fatalf("append %d: code %d", i, r.Code)
		}
	}
	d.mu.Lock()
	asked, plain := d.asked[testKey], d.plain
	var first *queue.DispatchTarget
	for tgt := range d.keys {
		first = tgt
	}
	d.mu.Unlock()
	if asked != 1 || plain != 0 {
		t.Fatalf("handle asked for %d times, %d plain dispatches; want 1 and 0", asked, plain)
	}
	if got := d.offsets(first); len(got) != 3 || got[0] != 5 || got[2] != 7 {
		t.Fatalf("units through the handle at offsets %v, want 5 6 7", got)
	}

	if err := h.w.ForgetTopic(testkit.Context(t), testKey.Topic); err != nil {
		t.Fatal(err)
	}
	h.w.Submit(h.appendReq(9, "", "after"))
	if r := h.conn.next(t); r.Code != remoting.RespSuccess {
		t.Fatalf("append after the forget: code %d", r.Code)
	}
	d.mu.Lock()
	asked = d.asked[testKey]
	var second *queue.DispatchTarget
	for tgt := range d.keys {
		if tgt != first {
			second = tgt
		}
	}
	d.mu.Unlock()
	if asked != 2 || second == nil {
		t.Fatalf("after ForgetTopic the handle was asked for %d times in all, want 2", asked)
	}
	if got := d.offsets(second); len(got) != 1 || got[0] != 0 {
		t.Fatalf("unit after the forget at offsets %v through the new handle, want 0", got)
	}
	if got := d.offsets(first); len(got) != 3 {
		t.Fatalf("old handle used after the forget: offsets %v", got)
	}
}
