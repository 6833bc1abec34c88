package store

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"testing"

	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/wire/message"
)

const (
	// Small files so that a few dozen records cross commit-log segments
	// (with end-of-segment fillers) and consume-queue files.
	testCommitLogFileSize = 1024
	testCQFileSize        = 5 * consumequeue.UnitBytes
)

func testConfig(root string) Config {
	return Config{
		RootDir:           root,
		CommitLogFileSize: testCommitLogFileSize,
		CQFileSize:        testCQFileSize,
		CheckCRCOnRecover: true,
	}
}

func openStoreT(t *testing.T, root string) *Store {
	t.Helper()
	s, err := Open(testConfig(root))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.impl.shutdown(s, false) })
	return s
}

// crash releases the store like a killed process would leave it: files and
// lock released, abort file kept, nothing marked clean.
func crash(t *testing.T, s *Store) {
	t.Helper()
	if err := s.impl.shutdown(s, false); err != nil {
		t.Fatalf("crash: %v", err)
	}
}

// producer appends records the way the commitlog writer does: it assigns
// queue offsets per topic-queue (PREPARED/ROLLBACK records take 0 and do not
// advance) and remembers the units re-dispatch must produce.
type producer struct {
	t       *testing.T
	next    map[QueueKey]int64
	want    map[QueueKey][]consumequeue.Unit
	storeTS int64
	n       int
}

func newProducer(t *testing.T) *producer {
	return &producer{t: t, next: map[QueueKey]int64{}, want: map[QueueKey][]consumequeue.Unit{}, storeTS: 1_700_000_000_000}
}

type sendResult struct {
	key         QueueKey
	queueOffset int64
	unit        consumequeue.Unit
	storeTS     int64
	dispatched  bool
}

func (p *producer) send(s *Store, topic string, qid int32, tags string, txType int32) sendResult {
	p.t.Helper()
	props := message.FormatProperties(map[string]string{message.PropertyUniqKey: fmt.Sprintf("ID%04d", p.n)})
	if tags != "" {
		props = message.SetProperty(props, message.PropertyTags, tags)
	}
	m := message.Message{
		Topic:         topic,
		QueueID:       qid,
		SysFlag:       txType,
		Body:          fmt.Appendf(nil, "body %d", p.n),
		Properties:    props,
		BornTimestamp: p.storeTS - 5,
		BornHost:      netip.MustParseAddrPort("127.0.0.1:50000"),
		StoreHost:     netip.MustParseAddrPort("127.0.0.1:10911"),
	}
	p.n++
	rec := message.AppendRecord(nil, &m)
	key := QueueKey{Topic: topic, QueueID: qid}
	res := sendResult{key: key, storeTS: p.storeTS}
	tt := message.TransactionType(txType)
	res.dispatched = tt == message.TransactionNotType || tt == message.TransactionCommit
	if res.dispatched {
		res.queueOffset = p.next[key]
		p.next[key]++
	}
	off, err := s.CommitLog.Append(rec, res.queueOffset, p.storeTS)
	if err != nil {
		p.t.Fatalf("Append: %v", err)
	}
	p.storeTS += 1000
	var tagsCode int64
	if tags != "" {
		tagsCode = message.TagsHashCode(tags)
	}
	res.unit = consumequeue.Unit{CommitLogOffset: off, Size: int32(len(rec)), TagsCode: tagsCode}
	if res.dispatched {
		p.want[key] = append(p.want[key], res.unit)
	}
	return res
}

// checkQueues asserts that s holds exactly the queues of want, each with
// exactly those units from offset 0, and that QueueOffsets agrees.
func checkQueues(t *testing.T, s *Store, want map[QueueKey][]consumequeue.Unit) {
	t.Helper()
	if got, w := slices.SortedFunc(maps.Keys(s.QueueOffsets()), keyLess), slices.SortedFunc(maps.Keys(want), keyLess); !slices.Equal(got, w) {
		t.Fatalf("queues = %v, want %v", got, w)
	}
	offsets := s.QueueOffsets()
	for key, units := range want {
		q := s.Queues[key]
		if q.MinOffset() != 0 || q.MaxOffset() != int64(len(units)) || offsets[key] != int64(len(units)) {
			t.Fatalf("%v: min %d max %d offsets %d, want 0/%d", key, q.MinOffset(), q.MaxOffset(), offsets[key], len(units))
		}
		got, err := q.Get(0, make([]consumequeue.Unit, 0, len(units)+1))
		if err != nil {
			t.Fatalf("%v: Get: %v", key, err)
		}
		if !slices.Equal(got, units) {
			t.Fatalf("%v: units\n got %+v\nwant %+v", key, got, units)
		}
	}
}

func keyLess(a, b QueueKey) int {
	if a.Topic != b.Topic {
		if a.Topic < b.Topic {
			return -1
		}
		return 1
	}
	return int(a.QueueID - b.QueueID)
}
