package queue

import (
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/sim/faultfs"
	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/remoting"
)

// TestFlushFailureFreezesTheCheckpoint: a consume queue's msync fails once
// (EIO) in a thorough round. faultfs would let the next msync of the range
// succeed, as Linux does once it reported the write-back error; the
// registry must not count the queue flushed after it: FlushedTimestamp
// (the checkpoint's logics time) stays at the last round before the
// failure in every later round, and WriteError answers SERVICE_NOT_AVAILABLE
// from the failure on. Both ways of a thorough round: msync per queue, and
// one syncfs that reports the error (the round then msyncs queue by queue)
// followed by syncfs rounds that succeed.
func TestFlushFailureFreezesTheCheckpoint(t *testing.T) {
	for _, tt := range []struct {
		name   string
		syncFS bool
	}{
		{name: "msync per queue"},
		{name: "syncfs", syncFS: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fsys := faultfs.New(1)
			log := &fakeLog{}
			var opened atomic.Pointer[consumequeue.ConsumeQueue]
			var syncFSFails atomic.Bool
			deps := storeDeps{log: log, queues: map[store.QueueKey]cqueue{}, open: func(k store.QueueKey) (cqueue, error) {
				q, err := consumequeue.Open(consumequeue.Config{RootDir: "/store/consumequeue", Topic: k.Topic, QueueID: k.QueueID, FS: fsys})
				if err != nil {
					return nil, err
				}
				opened.Store(q)
				return q, nil
			}}
			if tt.syncFS {
				deps.syncFS = func() error {
					if syncFSFails.Load() {
						return fmt.Errorf("store: syncfs: %w", syscall.EIO)
					}
					return nil
				}
			}
			cfg := Config{Topics: fakeTopics{}, Subscriptions: fakeSubs{}, CQFlushInterval: time.Hour, CQFlushThoroughInterval: time.Hour}
			r, err := spawn(testkit.ActorSystem(t), cfg, deps)
			if err != nil {
				t.Fatal(err)
			}
			k := store.QueueKey{Topic: testTopic, QueueID: 0}
			put := func(off, ts int64) {
				t.Helper()
				r.Dispatch(k, []Unit{log.append(k, off, "", "b", ts)})
				testkit.Eventually(t, "the unit stored", func() bool { return r.MaxOffset(k.Topic, k.QueueID) == off+1 })
			}
			put(0, 1000)
			r.flushAll(0)
			if ts := r.FlushedTimestamp(); ts != 1000 || r.WriteError() != nil {
				t.Fatalf("after a good round: FlushedTimestamp %d, WriteError %v; want 1000, nil", ts, r.WriteError())
			}

			put(1, 2000)
			fsys.Inject(faultfs.Rule{Ops: faultfs.OpMsync, Path: "/store/consumequeue/", Kind: faultfs.KindEIO, Nth: 1})
			syncFSFails.Store(true) // the kernel reports the write-back error to the syncfs too, once
			r.flushAll(0)
			if len(fsys.Events()) != 1 {
				t.Fatalf("faults %v, want the one msync", fsys.Events())
			}
			werr := r.WriteError()
			if !errors.Is(werr, consumequeue.ErrNotWritable) || reply.CodeOf(werr) != remoting.RespServiceNotAvailable {
				t.Fatalf("WriteError %v (code %d) after the failed flush, want ErrNotWritable answered SERVICE_NOT_AVAILABLE", werr, reply.CodeOf(werr))
			}
			if werr.Error() != wantRemark {
				t.Fatalf("WriteError's text (the remark clients see) %q, want %q", werr, wantRemark)
			}
			syncFSFails.Store(false)
			for i, ts := range []int64{3000, 4000} {
				put(int64(2+i), ts)
				r.flushAll(0)
				if got := r.FlushedTimestamp(); got != 1000 {
					t.Fatalf("FlushedTimestamp %d in round %d after the failure, want 1000 (the last good round)", got, i+1)
				}
			}
			if err := r.WriteError(); err != werr {
				t.Fatalf("WriteError %v, want the first failure %v", err, werr)
			}
			if err := r.Stop(testkit.Context(t)); err != nil {
				t.Fatal(err)
			}
			if got := r.FlushedTimestamp(); got != 1000 {
				t.Fatalf("FlushedTimestamp %d after Stop's round, want 1000", got)
			}
			if err := opened.Load().Close(); !errors.Is(err, consumequeue.ErrNotWritable) {
				t.Fatalf("Close: %v, want ErrNotWritable (the store must not close clean)", err)
			}
		})
	}
}

// wantRemark is the remark of a send refused after a consume queue failed:
// Java-like, without the store's paths (those are in the log).
const wantRemark = "the message store is not writable (consume queue write error); restart the broker"

// TestPutFailureStopsWrites: a consume-queue unit that cannot be written
// (its queue's first file cannot be created: EIO) is Java's
// WRITE_LOGICS_QUEUE_ERROR_BIT: WriteError answers SERVICE_NOT_AVAILABLE
// from then on, and the checkpoint stops before the lost unit, so that a
// restart re-dispatches it. Before, the unit was logged and skipped, and
// the checkpoint moved past it.
func TestPutFailureStopsWrites(t *testing.T) {
	fsys := faultfs.New(1)
	log := &fakeLog{}
	deps := storeDeps{log: log, queues: map[store.QueueKey]cqueue{}, open: func(k store.QueueKey) (cqueue, error) {
		return consumequeue.Open(consumequeue.Config{RootDir: "/store/consumequeue", Topic: k.Topic, QueueID: k.QueueID, FS: fsys})
	}}
	cfg := Config{Topics: fakeTopics{}, Subscriptions: fakeSubs{}, CQFlushInterval: time.Hour, CQFlushThoroughInterval: time.Hour}
	r, err := spawn(testkit.ActorSystem(t), cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	good, bad := store.QueueKey{Topic: testTopic, QueueID: 0}, store.QueueKey{Topic: testTopic, QueueID: 1}
	r.Dispatch(good, []Unit{log.append(good, 0, "", "b", 1000)})
	testkit.Eventually(t, "the unit stored", func() bool { return r.MaxOffset(good.Topic, good.QueueID) == 1 })
	r.flushAll(0)
	if ts := r.FlushedTimestamp(); ts != 1000 || r.WriteError() != nil {
		t.Fatalf("after a good round: FlushedTimestamp %d, WriteError %v; want 1000, nil", ts, r.WriteError())
	}

	fsys.Inject(faultfs.Rule{Ops: faultfs.OpCreate, Path: "/store/consumequeue/" + testTopic + "/1/", Kind: faultfs.KindEIO, Nth: 1})
	r.Dispatch(bad, []Unit{log.append(bad, 0, "", "b", 2000)})
	testkit.Eventually(t, "sends refused after the failed Put", func() bool { return r.WriteError() != nil })
	if werr := r.WriteError(); reply.CodeOf(werr) != remoting.RespServiceNotAvailable || werr.Error() != wantRemark {
		t.Fatalf("WriteError %v (code %d), want %q answered SERVICE_NOT_AVAILABLE", werr, reply.CodeOf(werr), wantRemark)
	}
	if ev := fsys.Events(); len(ev) != 1 {
		t.Fatalf("faults %v, want the one create", ev)
	}
	r.flushAll(0)
	if ts := r.FlushedTimestamp(); ts != 1000 {
		t.Fatalf("FlushedTimestamp %d after the failed Put, want 1000", ts)
	}
	if err := r.Stop(testkit.Context(t)); err != nil {
		t.Fatal(err)
	}
	if ts := r.FlushedTimestamp(); ts != 1000 {
		t.Fatalf("FlushedTimestamp %d after Stop's round, want 1000", ts)
	}
}
