package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/actormq/actormq/sim/faultfs"
	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/storage/vfs"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
)

// sendMix appends 40 records over three queues of two topics, with and
// without tags, and transactional records of every type.
func sendMix(p *producer, s *Store) {
	for i := range 40 {
		tags := ""
		if i%3 != 0 {
			tags = fmt.Sprintf("Tag%d", i%4)
		}
		tx := message.TransactionNotType
		switch i % 10 {
		case 4:
			tx = message.TransactionPrepared
		case 5:
			tx = message.TransactionCommit
		case 6:
			tx = message.TransactionRollback
		}
		p.send(s, []string{"TopicA", "TopicB"}[i%2], int32(i%3), tags, tx)
	}
}

func TestCrashRebuildsQueuesByRedispatch(t *testing.T) {
	root := t.TempDir()
	s := openStoreT(t, root)
	if s.Abnormal {
		t.Fatal("fresh store reported abnormal")
	}
	p := newProducer(t)
	sendMix(p, s)
	if len(s.Queues) != 0 {
		t.Fatalf("queues before any dispatch: %v", s.Queues)
	}
	crash(t, s)

	s = openStoreT(t, root)
	if !s.Abnormal {
		t.Fatal("abort file not detected")
	}
	checkQueues(t, s, p.want)
	// Each queue's files hold the units durably: a clean close and reopen
	// (normal recovery, nothing left to re-dispatch) shows the same state.
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "abort")); !os.IsNotExist(err) {
		t.Fatalf("abort file after a clean close: %v", err)
	}
	s = openStoreT(t, root)
	if s.Abnormal {
		t.Fatal("clean close reported abnormal")
	}
	checkQueues(t, s, p.want)
	// Appending continues from the recovered table.
	res := p.send(s, "TopicA", 1, "TagX", message.TransactionNotType)
	if res.queueOffset != s.QueueOffsets()[res.key] {
		t.Fatalf("producer's next offset %d, store table %d", res.queueOffset, s.QueueOffsets()[res.key])
	}
}

func TestCleanCloseKeepsQueues(t *testing.T) {
	root := t.TempDir()
	s := openStoreT(t, root)
	p := newProducer(t)
	sendMix(p, s)
	// The queue actors dispatch the first half; re-dispatch adds the rest.
	for key, units := range p.want {
		q, err := s.OpenQueue(key)
		if err != nil {
			t.Fatal(err)
		}
		for i, u := range units[:len(units)/2] {
			if err := q.Put(int64(i), u); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	s = openStoreT(t, root)
	if s.Abnormal {
		t.Fatal("clean close reported abnormal")
	}
	checkQueues(t, s, p.want)
}

func TestTornTailTruncatesQueues(t *testing.T) {
	root := t.TempDir()
	s := openStoreT(t, root)
	p := newProducer(t)
	var last sendResult
	for i := range 12 {
		last = p.send(s, "TopicA", int32(i%2), "", message.TransactionNotType)
	}
	// The queue actors had dispatched everything, plus a unit for a record
	// the commit log never made durable.
	for key, units := range p.want {
		q, err := s.OpenQueue(key)
		if err != nil {
			t.Fatal(err)
		}
		for i, u := range units {
			if err := q.Put(int64(i), u); err != nil {
				t.Fatal(err)
			}
		}
	}
	ghost := consumequeue.Unit{CommitLogOffset: s.CommitLog.WrotePosition(), Size: 150}
	if err := s.Queues[last.key].Put(int64(len(p.want[last.key])), ghost); err != nil {
		t.Fatal(err)
	}
	crash(t, s)

	// Tear the last record: its body no longer matches BODYCRC.
	segStart := last.unit.CommitLogOffset / testCommitLogFileSize * testCommitLogFileSize
	seg := filepath.Join(root, "commitlog", fmt.Sprintf("%020d", segStart))
	f, err := os.OpenFile(seg, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("torn"), last.unit.CommitLogOffset-segStart+int64(last.unit.Size)-20); err != nil {
		t.Fatal(err)
	}
	f.Close()

	s = openStoreT(t, root)
	if got := s.CommitLog.WrotePosition(); got != last.unit.CommitLogOffset {
		t.Fatalf("commit log end = %d, want %d", got, last.unit.CommitLogOffset)
	}
	want := p.want
	want[last.key] = want[last.key][:len(want[last.key])-1]
	checkQueues(t, s, want)
	prev := want[last.key][len(want[last.key])-1]
	if got, w := s.Queues[last.key].MaxPhysicalOffset(), prev.CommitLogOffset+int64(prev.Size); got != w {
		t.Fatalf("max physical offset = %d, want %d", got, w)
	}
}

func TestAbnormalRedispatchStartsAtCheckpointSegment(t *testing.T) {
	root := t.TempDir()
	s := openStoreT(t, root)
	p := newProducer(t)
	// TopicC's only record sits in the first segment, which the checkpoint
	// declares fully dispatched; TopicA and TopicB alternate after it.
	early := p.send(s, "TopicC", 0, "", message.TransactionNotType)
	var sent []sendResult
	for i := range 30 {
		sent = append(sent, p.send(s, []string{"TopicA", "TopicB"}[i%2], 0, "", message.TransactionNotType))
	}
	// The checkpoint vouches for everything stored up to sent[12]; the
	// recovery start is the segment holding it.
	ckSegStart := sent[12].unit.CommitLogOffset / testCommitLogFileSize * testCommitLogFileSize
	if early.unit.CommitLogOffset >= ckSegStart {
		t.Fatal("test setup: TopicC's record must be in an earlier segment")
	}
	if err := s.UpdateCheckpoint(sent[12].storeTS+3000, sent[12].storeTS+3000); err != nil {
		t.Fatal(err)
	}
	// TopicA's units all reached disk, TopicB's only those of records
	// before that segment: page write-back of different queues is unordered.
	a, _ := s.OpenQueue(QueueKey{"TopicA", 0})
	b, _ := s.OpenQueue(QueueKey{"TopicB", 0})
	for _, r := range sent {
		q := a
		if r.key.Topic == "TopicB" {
			if r.unit.CommitLogOffset >= ckSegStart {
				continue
			}
			q = b
		}
		if err := q.Put(r.queueOffset, r.unit); err != nil {
			t.Fatal(err)
		}
	}
	crash(t, s)

	s = openStoreT(t, root)
	delete(p.want, early.key) // before the checkpoint segment: not re-dispatched
	checkQueues(t, s, p.want)
}

func TestEmptyCommitLogDestroysQueues(t *testing.T) {
	root := t.TempDir()
	s := openStoreT(t, root)
	q, err := s.OpenQueue(QueueKey{"TopicA", 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Put(0, consumequeue.Unit{CommitLogOffset: 0, Size: 120}); err != nil {
		t.Fatal(err)
	}
	crash(t, s)
	s = openStoreT(t, root)
	if len(s.Queues) != 0 {
		t.Fatalf("queues of an empty commit log kept: %v", s.QueueOffsets())
	}
	if _, err := os.Stat(filepath.Join(root, "consumequeue", "TopicA")); !os.IsNotExist(err) {
		t.Fatalf("queue directory kept: %v", err)
	}
}

func TestLockPreventsDoubleOpen(t *testing.T) {
	root := t.TempDir()
	s := openStoreT(t, root)
	if _, err := Open(testConfig(root)); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: err = %v, want ErrLocked", err)
	}
	// The failed Open must not have touched the abort file or the lock.
	if _, err := os.Stat(filepath.Join(root, "abort")); err != nil {
		t.Fatalf("abort file: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openStoreT(t, root)
	if s2.Abnormal {
		t.Fatal("reopen after clean close reported abnormal")
	}
}

func TestCheckpointFile(t *testing.T) {
	root := t.TempDir()
	s := openStoreT(t, root)
	if physic, logics := s.impl.ckpt.timestamps(); physic != 0 || logics != 0 {
		t.Fatalf("fresh checkpoint = %d, %d", physic, logics)
	}
	if err := s.UpdateCheckpoint(1_700_000_123_456, 1_700_000_120_000); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != checkpointFileBytes {
		t.Fatalf("checkpoint is %d bytes", len(b))
	}
	if physic, logics := int64(binary.BigEndian.Uint64(b[0:])), int64(binary.BigEndian.Uint64(b[8:])); physic != 1_700_000_123_456 || logics != 1_700_000_120_000 {
		t.Fatalf("checkpoint file holds %d, %d", physic, logics)
	}
	if got := s.impl.ckpt.minTimestamp(); got != 1_700_000_117_000 {
		t.Fatalf("min timestamp = %d", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateCheckpoint(1, 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("UpdateCheckpoint after Close: %v", err)
	}
	s = openStoreT(t, root)
	if physic, logics := s.impl.ckpt.timestamps(); physic != 1_700_000_123_456 || logics != 1_700_000_120_000 {
		t.Fatalf("reloaded checkpoint = %d, %d", physic, logics)
	}
}

func TestDiskUsageRatio(t *testing.T) {
	s := openStoreT(t, t.TempDir())
	r, err := s.DiskUsageRatio()
	if err != nil {
		t.Fatal(err)
	}
	if r <= 0 || r > 1 {
		t.Fatalf("ratio = %v", r)
	}
}

func TestFailedOpenReleasesEverything(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "consumequeue", "TopicA", "0")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "00000000000000000030") // not at a file boundary
	if err := os.WriteFile(bad, make([]byte, testCQFileSize), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(testConfig(root)); !errors.Is(err, consumequeue.ErrCorrupt) {
		t.Fatalf("Open: err = %v, want consumequeue.ErrCorrupt", err)
	}
	if err := os.Remove(bad); err != nil {
		t.Fatal(err)
	}
	// The lock was released; the abort file stayed, so this run recovers
	// as after a crash.
	s := openStoreT(t, root)
	if !s.Abnormal {
		t.Fatal("open after a failed open not abnormal")
	}
}

func TestRedispatchSkipsRecordsWithoutQueue(t *testing.T) {
	root := t.TempDir()
	s := openStoreT(t, root)
	p := newProducer(t)
	p.send(s, "TopicA", 0, "", message.TransactionNotType)
	bad := []sendResult{
		p.send(s, "../escape", 0, "", message.TransactionNotType),
		p.send(s, "TopicA", -1, "", message.TransactionNotType),
	}
	p.send(s, "TopicA", 0, "TagB", message.TransactionNotType)
	for _, r := range bad {
		delete(p.want, r.key)
	}
	crash(t, s)
	s = openStoreT(t, root)
	checkQueues(t, s, p.want)
	if _, err := os.Stat(filepath.Join(root, "escape")); !os.IsNotExist(err) {
		t.Fatalf("queue created outside the store: %v", err)
	}
}

// TestRedispatchScheduleTopicTagsCode checks that re-dispatch gives a
// SCHEDULE_TOPIC_XXXX unit its delivery time (store time + the delay of its
// DELAY level, clamped to the highest level) and every other unit its tag
// hash code, as the send path does.
func TestRedispatchScheduleTopicTagsCode(t *testing.T) {
	levels := []time.Duration{time.Second, 5 * time.Second, 10 * time.Second}
	cfg := testConfig(t.TempDir())
	cfg.CommitLogFileSize = 64 << 10
	cfg.DelayLevels = levels
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const storeTS = 1_700_000_000_000
	cases := []struct {
		name  string
		topic string
		qid   int32
		props map[string]string
		want  int64
	}{
		{name: "level 2", topic: body.ScheduleTopic, qid: 1,
			props: map[string]string{message.PropertyDelay: "2", message.PropertyTags: "TagA"}, want: storeTS + 5000},
		{name: "level above the highest is clamped", topic: body.ScheduleTopic, qid: 2,
			props: map[string]string{message.PropertyDelay: "40"}, want: storeTS + 10000},
		{name: "schedule record without a level keeps its tag hash", topic: body.ScheduleTopic, qid: 0,
			props: map[string]string{message.PropertyTags: "TagB"}, want: message.TagsHashCode("TagB")},
		{name: "malformed level keeps the tag hash", topic: body.ScheduleTopic, qid: 0,
			props: map[string]string{message.PropertyDelay: "x", message.PropertyTags: "TagC"}, want: message.TagsHashCode("TagC")},
		{name: "delay property outside the schedule topic is a tag hash", topic: "TopicA", qid: 0,
			props: map[string]string{message.PropertyDelay: "2", message.PropertyTags: "TagD"}, want: message.TagsHashCode("TagD")},
	}
	next := map[QueueKey]int64{}
	var offsets []int64
	for _, c := range cases {
		m := message.Message{
			Topic: c.topic, QueueID: c.qid, Body: []byte(c.name), Properties: message.FormatProperties(c.props),
			BornHost: netip.MustParseAddrPort("127.0.0.1:50000"), StoreHost: netip.MustParseAddrPort("127.0.0.1:10911"),
		}
		key := QueueKey{Topic: c.topic, QueueID: c.qid}
		off, err := s.CommitLog.Append(message.AppendRecord(nil, &m), next[key], storeTS)
		if err != nil {
			t.Fatal(err)
		}
		offsets = append(offsets, off)
		next[key]++
	}
	crash(t, s)

	s, err = Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.impl.shutdown(s, false) })
	seen := map[QueueKey]int64{}
	for i, c := range cases {
		key := QueueKey{Topic: c.topic, QueueID: c.qid}
		units, err := s.Queues[key].Get(seen[key], make([]consumequeue.Unit, 0, 1))
		if err != nil || len(units) != 1 {
			t.Fatalf("%s: Get: %v %v", c.name, units, err)
		}
		seen[key]++
		if units[0].CommitLogOffset != offsets[i] || units[0].TagsCode != c.want {
			t.Errorf("%s: unit %+v, want offset %d tagsCode %d", c.name, units[0], offsets[i], c.want)
		}
	}
}

// SyncQueuesFS syncs the consume queues' file system through the store
// root's descriptor, or says it cannot (ErrUnsupported: the flusher then
// msyncs queue by queue) — always on a file system without syncfs.
func TestSyncQueuesFS(t *testing.T) {
	s := openStoreT(t, t.TempDir())
	if err := s.SyncQueuesFS(); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("SyncQueuesFS without any queue file: %v, want ErrUnsupported", err)
	}
	q, err := s.OpenQueue(QueueKey{Topic: "TopicA", QueueID: 0})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Put(0, consumequeue.Unit{CommitLogOffset: 0, Size: 100}); err != nil {
		t.Fatal(err)
	}
	// Where the OS file system's own syncfs of this directory is trusted,
	// the store's must sync too, not fall back.
	want := error(nil)
	if d, err := vfs.Default.OpenFile(s.impl.cfg.RootDir, os.O_RDONLY, 0); err != nil {
		t.Fatal(err)
	} else {
		want = d.(vfs.FSSyncer).SyncFS()
		d.Close()
	}
	if err := s.SyncQueuesFS(); (err == nil) != (want == nil) || err != nil && !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("SyncQueuesFS: %v; the directory's own syncfs: %v", err, want)
	}

	cfg := testConfig("/store")
	cfg.FS = faultfs.New(1)
	fs, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	fq, err := fs.OpenQueue(QueueKey{Topic: "TopicA", QueueID: 0})
	if err != nil {
		t.Fatal(err)
	}
	if err := fq.Put(0, consumequeue.Unit{CommitLogOffset: 0, Size: 100}); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.impl.fs.Stat("/store/consumequeue"); err != nil {
		t.Fatalf("the queue's directory: %v", err)
	}
	if err := fs.SyncQueuesFS(); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("SyncQueuesFS on faultfs: %v, want ErrUnsupported", err)
	}
}
