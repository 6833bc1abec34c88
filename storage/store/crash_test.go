package store

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"

	"github.com/actormq/actormq/sim/faultfs"
	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/storage/vfs"
	"github.com/actormq/actormq/wire/message"
)

// crashWorkload runs a broker's store duties on fs until the first error:
// open, then rounds of appends to three queues, their units put as the
// queue actors would, a commit-log flush, a consume-queue flush and a
// checkpoint, then a clean close. It returns the records it appended and
// how many of them the last successful commit-log flush covered.
func crashWorkload(t *testing.T, fs vfs.FS) (sent []sendResult, durable int, err error) {
	cfg := testConfig("/store")
	cfg.FS = fs
	s, err := Open(cfg)
	if err != nil {
		return nil, 0, err
	}
	defer func() {
		if cerr := s.Close(); err == nil {
			err = cerr
		}
	}()
	p := newProducer(t)
	for round := range 6 {
		for i := range 4 {
			key := QueueKey{Topic: "T", QueueID: int32(i % 3)}
			res, err := p.trySend(s, key.Topic, key.QueueID)
			if err != nil {
				return sent, durable, err
			}
			sent = append(sent, res)
			q, err := s.OpenQueue(key)
			if err != nil {
				return sent, durable, err
			}
			if err := q.Put(res.queueOffset, res.unit); err != nil {
				return sent, durable, err
			}
		}
		if _, err := s.CommitLog.Flush(); err != nil {
			return sent, durable, err
		}
		durable = len(sent)
		if round%2 == 1 {
			for _, q := range s.Queues {
				if err := q.Flush(); err != nil {
					return sent, durable, err
				}
			}
			if err := s.UpdateCheckpoint(p.storeTS, p.storeTS); err != nil {
				return sent, durable, err
			}
		}
	}
	return sent, durable, nil
}

// A crash at every mutating operation of the workload in turn: the next
// Open recovers, and every record the commit log had flushed is in its
// consume queue at its queue offset, with dense offsets.
func TestCrashAtEveryStoreOperation(t *testing.T) {
	for n := int64(1); ; n++ {
		fs := faultfs.New(uint64(n))
		fs.Inject(faultfs.Rule{Ops: faultfs.OpsMutating, Nth: n, Kind: faultfs.KindCrash})
		sent, durable, err := crashWorkload(t, fs)
		if len(fs.Events()) == 0 {
			if err != nil {
				t.Fatalf("run without a crash failed: %v", err)
			}
			break
		}
		if !errors.Is(err, faultfs.ErrCrashed) {
			t.Fatalf("crash at op %d surfaced as %v", n, err)
		}
		t.Run(fmt.Sprintf("op%d", n), func(t *testing.T) {
			cfg := testConfig("/store")
			cfg.FS = fs.Crash()
			s, err := Open(cfg)
			if err != nil {
				t.Fatalf("recovery after a crash at %v: %v", fs.Events()[0], err)
			}
			defer s.Close()
			for _, r := range sent[:durable] {
				q := s.Queues[r.key]
				if q == nil {
					t.Fatalf("queue %v lost", r.key)
				}
				got, err := q.Get(r.queueOffset, make([]consumequeue.Unit, 0, 1))
				if err != nil || len(got) != 1 || got[0] != r.unit {
					t.Fatalf("%v offset %d: %+v, %v; want %+v", r.key, r.queueOffset, got, err, r.unit)
				}
			}
			for key, q := range s.Queues {
				units, err := q.Get(0, make([]consumequeue.Unit, 0, 64))
				if err != nil {
					t.Fatal(err)
				}
				for i, u := range units {
					if u.IsFiller() {
						t.Fatalf("%v offset %d is a filler: queue offsets are not dense", key, i)
					}
				}
			}
		})
	}
}

// trySend is producer.send for a plain message without tags, returning the
// commit log's error instead of failing the test.
func (p *producer) trySend(s *Store, topic string, qid int32) (sendResult, error) {
	m := plainMessage(topic, qid, p.n, p.storeTS)
	p.n++
	rec := message.AppendRecord(nil, &m)
	key := QueueKey{Topic: topic, QueueID: qid}
	res := sendResult{key: key, storeTS: p.storeTS, queueOffset: p.next[key], dispatched: true}
	off, err := s.CommitLog.Append(rec, res.queueOffset, p.storeTS)
	if err != nil {
		return res, err
	}
	p.next[key]++
	p.storeTS += 1000
	res.unit = consumequeue.Unit{CommitLogOffset: off, Size: int32(len(rec))}
	return res, nil
}

func plainMessage(topic string, qid int32, n int, storeTS int64) message.Message {
	return message.Message{
		Topic:         topic,
		QueueID:       qid,
		Body:          fmt.Appendf(nil, "body %d", n),
		Properties:    message.FormatProperties(map[string]string{message.PropertyUniqKey: fmt.Sprintf("ID%04d", n)}),
		BornTimestamp: storeTS - 5,
		BornHost:      netip.MustParseAddrPort("127.0.0.1:50000"),
		StoreHost:     netip.MustParseAddrPort("127.0.0.1:10911"),
	}
}
