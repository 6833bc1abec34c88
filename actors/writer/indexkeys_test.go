package writer

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"

	"github.com/actormq/actormq/actors/queue"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/commitlog"
	storeindex "github.com/actormq/actormq/storage/index"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/message"
)

// indexDispatcher is a fakeDispatcher and Indexer that keeps copies of the
// IndexBatches it gets.
type indexDispatcher struct {
	fakeDispatcher
	imu     sync.Mutex
	batches []IndexBatch
}

func (d *indexDispatcher) Index(b *IndexBatch) {
	d.imu.Lock()
	c := *b
	c.Keys = slices.Clone(b.Keys)
	d.batches = append(d.batches, c)
	d.imu.Unlock()
	b.Release()
}

func (d *indexDispatcher) got(n int) []IndexBatch {
	d.imu.Lock()
	defer d.imu.Unlock()
	if len(d.batches) < n {
		return nil
	}
	return slices.Clone(d.batches)
}

func newIndexHarness(t *testing.T) (*harness, *indexDispatcher) {
	d := &indexDispatcher{fakeDispatcher: fakeDispatcher{units: map[store.QueueKey][]queue.Unit{}}}
	return newHarness(t, func(c *Config) { c.Dispatcher = d }, nil), d
}

// TestIndexBatchCarriesTheKeys: a group commit of Indexed appends hands the
// Indexer one Complete batch: the commit's range, each key with its
// record's offset and store time in commit-log order (a multi-record
// append's keys on the records they name), the last record.
func TestIndexBatchCarriesTheKeys(t *testing.T) {
	h, d := newIndexHarness(t)
	b := NewBatch()
	one := h.addAppend(b, 1, testKey, "a")
	one.Indexed = true
	one.IndexKeys = append(one.IndexKeys, IndexKey{Hash: 11}, IndexKey{Hash: 12})
	many := h.addAppend(b, 2, testKey, "b0", "b1", "b2")
	many.Indexed = true
	many.IndexKeys = append(many.IndexKeys, IndexKey{Hash: 21, Record: 1}, IndexKey{Hash: 22, Record: 2}, IndexKey{Hash: 23, Record: 2})
	h.w.Submit(b)
	h.answers(t, 2)
	var got []IndexBatch
	testkit.Eventually(t, "the index batch", func() bool { got = d.got(1); return got != nil })
	units := d.get(testKey)
	if len(got) != 1 || len(units) != 4 {
		t.Fatalf("%d index batches, %d units; want 1 and 4", len(got), len(units))
	}
	ib, ts := got[0], units[0].StoreTimestamp
	want := []storeindex.Key{
		{Hash: 11, Phys: units[0].PhysOffset, StoreTimestamp: ts}, {Hash: 12, Phys: units[0].PhysOffset, StoreTimestamp: ts},
		{Hash: 21, Phys: units[2].PhysOffset, StoreTimestamp: ts},
		{Hash: 22, Phys: units[3].PhysOffset, StoreTimestamp: ts}, {Hash: 23, Phys: units[3].PhysOffset, StoreTimestamp: ts},
	}
	if !ib.Complete || ib.From != 0 || ib.To != h.log.WrotePosition() || ib.Last != units[3].PhysOffset || ib.LastTimestamp != ts {
		t.Fatalf("batch %+v; want Complete [0, %d), last %d at %d", ib, h.log.WrotePosition(), units[3].PhysOffset, ts)
	}
	if !slices.Equal(ib.Keys, want) {
		t.Fatalf("keys %v, want %v", ib.Keys, want)
	}
}

// TestIndexBatchOfPuts: a Put's record comes with its index keys too
// (UNIQ_KEY, then each KEYS entry, hashed over its own topic), so a commit
// of broker-built messages is Complete; a ROLLBACK-typed one has none, as
// the index never indexes those.
func TestIndexBatchOfPuts(t *testing.T) {
	h, d := newIndexHarness(t)
	host := netip.MustParseAddrPort("127.0.0.1:10911")
	put := func(sysFlag int32, props string) {
		t.Helper()
		done := make(chan PutResult, 1)
		h.w.Put(&message.Message{Topic: testKey.Topic, QueueID: testKey.QueueID, Body: []byte("put"), BornHost: host,
			SysFlag: sysFlag, Properties: props}, 0, true, func(r PutResult) { done <- r })
		if r := <-done; r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	put(0, message.PropertyUniqKey+"\x01u1\x02"+message.PropertyKeys+"\x01k1 k2\x02")
	var got []IndexBatch
	testkit.Eventually(t, "the Put's index batch", func() bool { got = d.got(1); return got != nil })
	units := d.get(testKey)
	ts := units[0].StoreTimestamp
	want := []storeindex.Key{
		{Hash: storeindex.KeyHash(testKey.Topic, "u1"), Phys: 0, StoreTimestamp: ts},
		{Hash: storeindex.KeyHash(testKey.Topic, "k1"), Phys: 0, StoreTimestamp: ts},
		{Hash: storeindex.KeyHash(testKey.Topic, "k2"), Phys: 0, StoreTimestamp: ts},
	}
	if ib := got[0]; !ib.Complete || ib.From != 0 || ib.To != h.log.WrotePosition() || ib.Last != 0 || !slices.Equal(ib.Keys, want) {
		t.Fatalf("Put's batch %+v; want Complete over [0, %d), last 0, keys %v", ib, h.log.WrotePosition(), want)
	}

	put(message.TransactionRollback, message.PropertyUniqKey+"\x01u2\x02")
	testkit.Eventually(t, "the rollback Put's index batch", func() bool { got = d.got(2); return got != nil })
	if ib := got[1]; !ib.Complete || len(ib.Keys) != 0 || ib.Last != d.get(testKey)[1].PhysOffset {
		t.Fatalf("rollback Put's batch %+v; want Complete without keys", ib)
	}
}

// TestIndexBatchIncomplete: a commit whose write failed hands over its
// range without keys and not Complete, so the index reads it.
func TestIndexBatchIncomplete(t *testing.T) {
	h, d := newIndexHarness(t)
	h.log.set(func(l *fakeLog) { l.commitErr = fmt.Errorf("%w: write: EIO", commitlog.ErrNotWritable) })
	b := NewBatch()
	a := h.addAppend(b, 1, testKey, "a")
	a.Indexed = true
	a.IndexKeys = append(a.IndexKeys, IndexKey{Hash: 1})
	h.w.Submit(b)
	h.answers(t, 1)
	var got []IndexBatch
	testkit.Eventually(t, "the failed commit's index batch", func() bool { got = d.got(1); return got != nil })
	if ib := got[0]; ib.Complete {
		t.Fatalf("failed commit's batch %+v is Complete", ib)
	}
}
