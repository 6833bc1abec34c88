package send_test

import (
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/actormq/actormq/actors/queue"
	"github.com/actormq/actormq/actors/writer"
	"github.com/actormq/actormq/internal/testkit"
	storeindex "github.com/actormq/actormq/storage/index"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// indexRecorder is a writer Dispatcher and Indexer that keeps copies of
// the IndexBatches the writer hands over.
type indexRecorder struct {
	next    writer.Dispatcher
	mu      sync.Mutex
	batches []writer.IndexBatch
}

func (r *indexRecorder) Dispatch(key store.QueueKey, units []queue.Unit) { r.next.Dispatch(key, units) }

func (r *indexRecorder) Index(b *writer.IndexBatch) {
	r.mu.Lock()
	c := *b
	c.Keys = slices.Clone(b.Keys)
	r.batches = append(r.batches, c)
	r.mu.Unlock()
	b.Release()
}

func (r *indexRecorder) end() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.batches) == 0 {
		return 0
	}
	return r.batches[len(r.batches)-1].To
}

// TestSendsHandTheIndexTheirKeys: every group commit of sends reaches the
// index as a Complete IndexBatch whose keys are exactly those the index's
// scan reads from the stored records (topic, UNIQ_KEY, KEYS, the offset
// and store time of each), in commit-log order: single messages (V1, V2),
// one diverted to the delay topic and a half message (keys of the stored
// topic), batch items with and without keys.
func TestSendsHandTheIndexTheirKeys(t *testing.T) {
	testkit.NoLeaks(t)
	rec := &indexRecorder{}
	cfg := testConfig()
	cfg.MessageIndexEnable = true
	b := startBrokerWith(t, t.TempDir(), cfg, newFakeMeta(), 4<<10, func(d writer.Dispatcher) writer.Dispatcher {
		rec.next = d
		return rec
	})
	reqs := []*remoting.Command{
		sendV1(msg{topic: "TopicTest", body: "u", props: map[string]string{"UNIQ_KEY": "U1"}}),
		sendV2(msg{topic: "TopicTest", queueID: 1, body: "uk", props: map[string]string{"UNIQ_KEY": "U2", "KEYS": " k1  k2 k1"}}),
		sendV1(msg{topic: "TopicTest", body: "none"}),
		sendV1(msg{topic: "TopicTest", body: "delayed", props: map[string]string{"UNIQ_KEY": "U3", "KEYS": "kd", "DELAY": "2"}}),
		sendBatch("TopicTest", 2, []message.BatchItem{
			{Body: []byte("b0"), Properties: "UNIQ_KEY\x01B0\x02"},
			{Body: []byte("b1")},
			{Body: []byte("b2"), Properties: "KEYS\x01kb é\x02UNIQ_KEY\x01B2\x02"},
		}),
	}
	half := sendV1(msg{topic: "TopicTest", body: "half", props: map[string]string{
		"UNIQ_KEY": "U4", "KEYS": "kh", message.PropertyTranMsg: "true", "PGROUP": "pg"}})
	half.ExtFields["sysFlag"] = strconv.Itoa(int(message.SetTransactionType(0, message.TransactionPrepared)))
	reqs = append(reqs, half)
	for range 40 { // records across segment ends (4 KiB)
		reqs = append(reqs, sendV1(msg{topic: "TopicTest", body: string(make([]byte, 300)), props: map[string]string{"UNIQ_KEY": "UL"}}))
	}
	for _, r := range reqs {
		wantCode(t, b.invoke(r), remoting.RespSuccess)
	}
	clog := b.st.CommitLog
	testkit.Eventually(t, "every commit handed to the index", func() bool { return rec.end() == clog.WrotePosition() })

	// What the index's scan reads from the records.
	var want []storeindex.Key
	if _, err := clog.Scan(0, func(off int64, r []byte) bool {
		topic, props := message.RecordTopicProperties(r)
		var uniq, keys string
		message.EachProperty(string(props), func(k, v string) {
			switch k {
			case message.PropertyUniqKey:
				uniq = v
			case message.PropertyKeys:
				keys = v
			}
		})
		storeindex.EachKeyHash(string(topic), uniq, keys, func(h int32) {
			want = append(want, storeindex.Key{Hash: h, Phys: off, StoreTimestamp: message.RecordStoreTimestamp(r)})
		})
		return true
	}); err != nil {
		t.Fatal(err)
	}
	var got []storeindex.Key
	at := int64(0)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for i, ib := range rec.batches {
		if !ib.Complete || ib.From != at || ib.To < ib.From {
			t.Fatalf("batch %d: complete %v, [%d, %d), want from %d", i, ib.Complete, ib.From, ib.To, at)
		}
		at = ib.To
		got = append(got, ib.Keys...)
	}
	if len(want) < 12 || !slices.Equal(got, want) {
		t.Fatalf("handed-over keys\n%v\nthe records'\n%v", got, want)
	}
}
