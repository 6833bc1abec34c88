package store

import (
	"encoding/binary"
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

// tornConfig keeps queue files of 1,000 units on fs, so that units 204 and
// 409 lie across the page boundaries at bytes 4,096 and 8,192.
func tornConfig(fs vfs.FS) Config {
	cfg := testConfig("/store")
	cfg.CommitLogFileSize = 64 << 10
	cfg.CQFileSize = 1000 * consumequeue.UnitBytes
	cfg.DelayLevels = []time.Duration{time.Second, 5 * time.Second}
	cfg.FS = fs
	return cfg
}

// openTorn opens a store of tornConfig on a fresh faultfs and returns it
// with its file system, its config and a producer for it.
func openTorn(t *testing.T) (*faultfs.FS, Config, *Store, *producer) {
	t.Helper()
	fs := faultfs.New(1)
	cfg := tornConfig(fs)
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return fs, cfg, s, newProducer(t)
}

// A power cut leaves units half on disk below the queues' ends: the tag
// code of the unit across a page boundary zero (the page after the
// boundary was not written back), the offset of another one torn at a
// sector inside it, and a delay unit's delivery time zero. Recovery keeps
// them all (offset >= 0, size > 0); re-dispatch after the crash must make
// them what the commit log says, and make that durable: the queue files
// alone, reopened after a second power cut that follows the first flush,
// hold the right units. Before Repair, re-dispatch skipped every record
// below a queue's MaxOffset and the torn units stayed.
func TestCrashRepairsTornUnits(t *testing.T) {
	const units = 420 // two whole pages of T/0 and a part of the third
	fs, _, s, p := openTorn(t)
	tq := QueueKey{Topic: "T", QueueID: 0}
	for range units {
		r := p.send(s, tq.Topic, tq.QueueID, "TagA", message.TransactionNotType)
		putUnit(t, s, r.key, r.queueOffset, r.unit)
	}
	// A delay-level-2 record: the send path stored its delivery time from
	// a clock reading taken before the append, 3 ms before store time + 5 s.
	dq := QueueKey{Topic: body.ScheduleTopic, QueueID: 1}
	delayed, want := appendDelayed(t, s, p.storeTS, 2)
	putUnit(t, s, dq, 0, consumequeue.Unit{CommitLogOffset: delayed.CommitLogOffset, Size: delayed.Size, TagsCode: want.TagsCode - 3})
	if _, err := s.CommitLog.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, q := range s.Queues {
		if err := q.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	img := fs.Crash() // the checkpoint was never written: recovery starts at offset 0

	tFile := filepath.Join("/store/consumequeue/T/0", fmt.Sprintf("%020d", 0))
	tear(t, img, tFile, 4096, 4)     // unit 204: the low half of its tag code
	tear(t, img, tFile, 409*20+4, 4) // unit 409: the low half of its offset
	tear(t, img, tFile, 8192, 8)     // unit 409: its whole tag code
	dFile := filepath.Join("/store/consumequeue", body.ScheduleTopic, "1", fmt.Sprintf("%020d", 0))
	tear(t, img, dFile, 12, 8) // the delay unit: its delivery time

	r, err := Open(tornConfig(img))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Abnormal {
		t.Fatal("the store opened as after a clean stop")
	}
	check := func(when string, get func(QueueKey) *consumequeue.ConsumeQueue) {
		t.Helper()
		wantT := p.want[tq]
		got, err := get(tq).Get(0, make([]consumequeue.Unit, 0, units+1))
		if err != nil || len(got) != units {
			t.Fatalf("%s: T/0 holds %d units (%v), want %d", when, len(got), err, units)
		}
		for i := range got {
			if got[i] != wantT[i] {
				t.Fatalf("%s: T/0 unit %d = %+v, want %+v", when, i, got[i], wantT[i])
			}
		}
		d, err := get(dq).Get(0, make([]consumequeue.Unit, 0, 2))
		if err != nil || len(d) != 1 || d[0] != want {
			t.Fatalf("%s: delay unit %+v (%v), want %+v", when, d, err, want)
		}
	}
	check("after recovery", func(k QueueKey) *consumequeue.ConsumeQueue { return r.Queues[k] })
	for _, q := range r.Queues {
		if err := q.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	img2 := img.Crash()
	check("after the repairs' flush and a power cut", func(k QueueKey) *consumequeue.ConsumeQueue {
		q, err := consumequeue.Open(consumequeue.Config{RootDir: "/store/consumequeue", Topic: k.Topic, QueueID: k.QueueID,
			FileSize: 1000 * consumequeue.UnitBytes, FS: img2})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { q.Close() })
		return q
	})
}

func putUnit(t *testing.T, s *Store, key QueueKey, off int64, u consumequeue.Unit) {
	t.Helper()
	q, err := s.OpenQueue(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Put(off, u); err != nil {
		t.Fatal(err)
	}
}

// appendDelayed appends a message diverted to SCHEDULE_TOPIC_XXXX queue
// level-1 at storeTS and returns its unit as appended and the unit
// re-dispatch makes of it (delivery time store time + the level's delay).
func appendDelayed(t *testing.T, s *Store, storeTS int64, level int) (appended, want consumequeue.Unit) {
	t.Helper()
	m := message.Message{
		Topic:   body.ScheduleTopic,
		QueueID: int32(level - 1),
		Body:    []byte("delayed"),
		Properties: message.FormatProperties(map[string]string{
			message.PropertyDelay: fmt.Sprint(level), message.PropertyRealTopic: "T", message.PropertyRealQueueID: "0",
		}),
		BornTimestamp: storeTS - 5,
		BornHost:      netip.MustParseAddrPort("127.0.0.1:50000"),
		StoreHost:     netip.MustParseAddrPort("127.0.0.1:10911"),
	}
	rec := message.AppendRecord(nil, &m)
	off, err := s.CommitLog.Append(rec, 0, storeTS)
	if err != nil {
		t.Fatal(err)
	}
	appended = consumequeue.Unit{CommitLogOffset: off, Size: int32(len(rec))}
	want = appended
	want.TagsCode = storeTS + s.impl.cfg.DelayLevels[level-1].Milliseconds()
	return appended, want
}

// tear zeroes n bytes at off of the durable file name on a crashed image,
// as a page or sector of a unit that never reached the disk leaves them.
func tear(t *testing.T, fs vfs.FS, name string, off int64, n int) {
	t.Helper()
	f, err := fs.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	before := make([]byte, n)
	if _, err := f.ReadAt(before, off); err != nil {
		t.Fatal(err)
	}
	if binary.BigEndian.Uint64(append(make([]byte, 8-min(n, 8)), before[:min(n, 8)]...)) == 0 {
		t.Fatalf("%s [%d,+%d) is zero already: nothing to tear", name, off, n)
	}
	if _, err := f.WriteAt(make([]byte, n), off); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}

// A flush round by pages msyncs whole pages only, so a power cut right
// after it leaves unit 409, across the page boundary at byte 8,192, with
// its offset and size but no tag code, and the units after it lost. The
// restart re-dispatches the lost units and repairs unit 409: the queue is
// what was sent.
func TestCrashAfterFlushPagesRestoresTheUnitAcrossTheBoundary(t *testing.T) {
	const units = 420
	fs, _, s, p := openTorn(t)
	for range units {
		r := p.send(s, "T", 0, "TagA", message.TransactionNotType)
		putUnit(t, s, r.key, r.queueOffset, r.unit)
	}
	if _, err := s.CommitLog.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.Queues[QueueKey{Topic: "T"}].FlushPages(2); err != nil {
		t.Fatal(err)
	}
	r, err := Open(tornConfig(fs.Crash()))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	checkQueues(t, r, p.want)
}
