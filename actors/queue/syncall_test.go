package queue

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/storage/store"
)

// syncFSCQ is a real ConsumeQueue that counts its FlushPages and EndFlush
// calls.
type syncFSCQ struct {
	*consumequeue.ConsumeQueue
	flushCalls atomic.Int64
	endCalls   atomic.Int64
}

func (q *syncFSCQ) FlushPages(leastPages int) error {
	q.flushCalls.Add(1)
	return q.ConsumeQueue.FlushPages(leastPages)
}

func (q *syncFSCQ) EndFlush(m consumequeue.FlushMark) {
	q.endCalls.Add(1)
	q.ConsumeQueue.EndFlush(m)
}

// TestThoroughRoundBySyncFS checks that a thorough round makes the queues
// durable with one syncfs of the store, no per-queue flush, ends every
// queue's flush (EndFlush) and advances FlushedTimestamp; and that when the
// syncfs fails (or is not trusted) the round msyncs every queue
// (FlushPages(0)) and still advances it once those succeed.
func TestThoroughRoundBySyncFS(t *testing.T) {
	for _, fail := range []bool{false, true} {
		root := t.TempDir()
		log := &fakeLog{}
		var opened []*syncFSCQ // registry actor only until the units are stored
		var openedN, syncs atomic.Int64
		syncFS := func() error {
			syncs.Add(1)
			if fail {
				return errors.New("injected syncfs failure")
			}
			return nil
		}
		deps := storeDeps{log: log, queues: map[store.QueueKey]cqueue{}, syncFS: syncFS, open: func(k store.QueueKey) (cqueue, error) {
			q, err := consumequeue.Open(consumequeue.Config{RootDir: root, Topic: k.Topic, QueueID: k.QueueID})
			if err != nil {
				return nil, err
			}
			c := &syncFSCQ{ConsumeQueue: q}
			opened = append(opened, c)
			openedN.Add(1)
			return c, nil
		}}
		cfg := Config{Topics: fakeTopics{}, Subscriptions: fakeSubs{}, CQFlushInterval: time.Hour, CQFlushThoroughInterval: time.Hour}
		r, err := spawn(testkit.ActorSystem(t), cfg, deps)
		if err != nil {
			t.Fatal(err)
		}
		keys := []store.QueueKey{{Topic: testTopic, QueueID: 0}, {Topic: testTopic, QueueID: 1}, {Topic: testTopic, QueueID: 2}}
		for i, k := range keys {
			r.Dispatch(k, []Unit{log.append(k, 0, "", "b", int64(1000+i))})
		}
		testkit.Eventually(t, "every queue stored its unit", func() bool {
			if openedN.Load() != int64(len(keys)) {
				return false
			}
			for _, k := range keys {
				if r.MaxOffset(k.Topic, k.QueueID) != 1 {
					return false
				}
			}
			return true
		})
		r.flushAll(0)
		var flushes, ends int64
		for _, q := range opened {
			flushes += q.flushCalls.Load()
			ends += q.endCalls.Load()
		}
		wantFlushes, wantEnds := int64(0), int64(len(keys))
		if fail {
			wantFlushes, wantEnds = int64(len(keys)), 0
		}
		if syncs.Load() != 1 || flushes != wantFlushes || ends != wantEnds {
			t.Fatalf("fail=%v: %d syncfs, %d FlushPages and %d EndFlush calls in a thorough round, want 1, %d and %d", fail, syncs.Load(), flushes, ends, wantFlushes, wantEnds)
		}
		if ts := r.FlushedTimestamp(); ts != 1002 {
			t.Fatalf("fail=%v: FlushedTimestamp %d after the thorough round, want 1002", fail, ts)
		}
		if err := r.Stop(testkit.Context(t)); err != nil {
			t.Fatal(err)
		}
		for _, q := range opened {
			_ = q.Close()
		}
	}
}
