package writer

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// addAppend appends to b an Append of one record per body for key.
func (h *harness) addAppend(b *Batch, opaque int32, key store.QueueKey, bodies ...string) *Append {
	a := NewAppend(len(bodies))
	a.Conn, a.Req, a.Key, a.ReplyQueueID = h.conn, &remoting.Command{Opaque: opaque}, key, key.QueueID
	host := netip.MustParseAddrPort("127.0.0.1:10911")
	for i, body := range bodies {
		m := message.Message{QueueID: key.QueueID, BornHost: host, StoreHost: host, Body: []byte(body), Topic: key.Topic}
		b.Records.B = message.AppendRecord(b.Records.B, &m)
		a.Tags[i] = int64(i)
	}
	b.Add(a)
	return a
}

// answers collects n answers by opaque.
func (h *harness) answers(t *testing.T, n int) map[int32]*remoting.Command {
	t.Helper()
	got := map[int32]*remoting.Command{}
	for range n {
		r := h.conn.next(t)
		if got[r.Opaque] != nil {
			t.Fatalf("opaque %d answered twice", r.Opaque)
		}
		got[r.Opaque] = r
	}
	h.conn.none(t)
	return got
}

// TestBatchMixedQueues: one Batch carrying appends for several queues (as a
// topic actor's turn does once sends are diverted, or several topics' turns
// in one group commit) gets per-queue consecutive offsets; an append whose
// records are broken inside the batch is answered alone and the rest are
// stored.
func TestBatchMixedQueues(t *testing.T) {
	other := store.QueueKey{Topic: "Other", QueueID: 2}
	h := newHarness(t, nil, map[store.QueueKey]int64{testKey: 10})
	b := NewBatch()
	h.addAppend(b, 1, testKey, "a")
	h.addAppend(b, 2, other, "b1", "b2", "b3")
	bad := h.addAppend(b, 3, testKey, "broken")
	bad.Tags = bad.Tags[:0] // one record, no tags code: a sender bug
	h.addAppend(b, 4, testKey, "c")
	b2 := NewBatch()
	h.addAppend(b2, 5, other, "d")
	h.w.Submit(b)
	h.w.Submit(b2)
	got := h.answers(t, 5)
	if r := got[3]; r.Code != remoting.RespSystemError {
		t.Fatalf("broken append: code %d", r.Code)
	}
	want := map[int32]struct {
		offset int64
		ids    int
	}{1: {10, 1}, 2: {0, 3}, 4: {11, 1}, 5: {3, 1}}
	for opaque, w := range want {
		r := got[opaque]
		if r.Code != remoting.RespSuccess || extInt(t, r, "queueOffset") != w.offset {
			t.Errorf("opaque %d: code %d queueOffset %s, want %d", opaque, r.Code, r.ExtFields["queueOffset"], w.offset)
		}
		if ids := strings.Split(r.ExtFields["msgId"], ","); len(ids) != w.ids {
			t.Errorf("opaque %d: msgId %q", opaque, r.ExtFields["msgId"])
		}
	}
	if n := len(h.disp.get(testKey)); n != 2 {
		t.Errorf("%d units for %v", n, testKey)
	}
	if n := len(h.disp.get(other)); n != 4 {
		t.Errorf("%d units for %v", n, other)
	}
}

// TestSyncWaitersAcrossBatches: under SYNC_FLUSH, waiters from several
// Batches (several group commits while one fsync runs) are all answered
// after the flush that covers them; WAIT=false ones at once.
func TestSyncWaitersAcrossBatches(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Broker.FlushDiskType = config.FlushSync }, nil)
	gate := make(chan struct{})
	h.log.set(func(l *fakeLog) { l.block = gate })
	h.w.Submit(h.appendReq(0, "", "first")) // its flush blocks
	testkit.Eventually(t, "first append", func() bool { return h.log.WrotePosition() > 0 })
	opaque := int32(100)
	for range 5 {
		b := NewBatch()
		for range 4 {
			h.addAppend(b, opaque, testKey, "x")
			opaque++
		}
		nowait := h.addAppend(b, -opaque, testKey, "nowait")
		nowait.NoWait = true
		h.w.Submit(b)
	}
	for range 5 {
		if r := h.conn.next(t); r.Opaque >= 0 || r.Code != remoting.RespSuccess {
			t.Fatalf("answered before the flush: opaque %d code %d", r.Opaque, r.Code)
		}
	}
	testkit.Eventually(t, "all appended", func() bool { return len(h.disp.get(testKey)) == 1+5*5 })
	h.conn.none(t)
	close(gate)
	got := h.answers(t, 1+5*4)
	for o, r := range got {
		if r.Code != remoting.RespSuccess {
			t.Fatalf("opaque %d code %d", o, r.Code)
		}
	}
	h.log.mu.Lock()
	flushes := h.log.flushes
	h.log.mu.Unlock()
	if flushes > 3 {
		t.Fatalf("%d flushes for 2 group commits", flushes)
	}
}

// TestReleaseUnsubmittedBatch: a Batch given up before Submit hands its
// Appends back; nothing reaches the writer.
func TestReleaseUnsubmittedBatch(t *testing.T) {
	h := newHarness(t, nil, nil)
	b := NewBatch()
	h.addAppend(b, 1, testKey, "x")
	b.Release()
	h.w.Submit(h.appendReq(2, "", "y"))
	if r := h.conn.next(t); r.Opaque != 2 || extInt(t, r, "queueOffset") != 0 {
		t.Fatalf("opaque %d queueOffset %s", r.Opaque, r.ExtFields["queueOffset"])
	}
}

// TestNewBatchForRoom: a Batch has room for what NewBatchFor was asked,
// whichever class pool it came from, also after Batches of other sizes
// were recycled (a pooled Batch of a smaller buffer must not be handed out
// for a larger turn); a buffer grown past the largest class still works.
func TestNewBatchForRoom(t *testing.T) {
	sizes := []int{0, 1, 4 << 10, 4<<10 + 1, 33 << 10, 1 << 20, 3<<20 + 7, 4 << 20, 5 << 20}
	for range 3 {
		for _, n := range sizes {
			b := NewBatchFor(n)
			if len(b.Records.B) != 0 || cap(b.Records.B) < n {
				t.Fatalf("NewBatchFor(%d): len %d cap %d", n, len(b.Records.B), cap(b.Records.B))
			}
			b.Records.B = append(b.Records.B, make([]byte, n)...)
			b.recycle()
		}
	}
}

// TestRecycleDropsOversizedBatch: a Batch whose buffer is above 4 MiB
// (unpooled from NewBatchFor, or grown) is not kept by the largest class,
// whose capacities would otherwise reach 8 MiB.
func TestRecycleDropsOversizedBatch(t *testing.T) {
	NewBatchFor(5 << 20).recycle()
	for {
		b, _ := batchPools[batchClasses.Count-1].Get().(*Batch)
		if b == nil {
			return
		}
		if cap(b.Records.B) > 4<<20 {
			t.Fatalf("a %d-byte buffer was pooled", cap(b.Records.B))
		}
	}
}
