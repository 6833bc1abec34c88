package store

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/storage/vfs"
	"github.com/actormq/actormq/wire/message"
)

// A record whose QUEUEOFFSET field is negative (a bit flip in a header the
// record checks of recovery do not cover) is skipped by re-dispatch, as Put
// skips it (ErrBadUnit): after a crash, Repair must not turn it into an
// error that fails every start.
func TestCrashRedispatchSkipsRecordWithBadQueueOffset(t *testing.T) {
	fs, _, s, p := openTorn(t)
	for range 3 {
		r := p.send(s, "T", 0, "TagA", message.TransactionNotType)
		putUnit(t, s, r.key, r.queueOffset, r.unit)
	}
	m := message.Message{
		Topic: "T", Body: []byte("flipped"),
		Properties: message.FormatProperties(map[string]string{message.PropertyTags: "TagA"}),
		BornHost:   netip.MustParseAddrPort("127.0.0.1:50000"),
		StoreHost:  netip.MustParseAddrPort("127.0.0.1:10911"),
	}
	if _, err := s.CommitLog.Append(message.AppendRecord(nil, &m), -1, p.storeTS); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CommitLog.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, q := range s.Queues {
		if err := q.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Open(tornConfig(fs.Crash()))
	if err != nil {
		t.Fatalf("Open after a crash with a record at queue offset -1: %v", err)
	}
	defer r.Close()
	if !r.Abnormal {
		t.Fatal("the store opened as after a clean stop")
	}
	checkQueues(t, r, p.want)
}

// A power cut during a consume-queue msync can keep the second page of a
// unit across a page boundary and lose the first: unit 614 (bytes 12,280
// to 12,300) then reads {offset 0, its size, its tag code}, which recovery
// keeps. When the commit log lost that unit's record too (its tail was not
// durable), TruncateDirty walked back from the end only while units point
// at or past the log end, stopped at the torn unit (offset 0) and kept it,
// and no record is left to Repair it from: the queue served a unit pointing
// at the log's first record. Units are in commit-log order, so a unit
// pointing below its predecessor is torn; truncation drops it with the
// dirty ones, and re-dispatch puts it back when its record survived.
func TestCrashDropsTornUnitWhoseRecordWasLost(t *testing.T) {
	const (
		units = 700
		torn  = 614
	)
	fs, cfg, s, p := openTorn(t)
	var lost int64 // commit-log offset of the torn unit's record
	for i := range units {
		r := p.send(s, "T", 0, "TagA", message.TransactionNotType)
		putUnit(t, s, r.key, r.queueOffset, r.unit)
		if i == torn {
			lost = r.unit.CommitLogOffset
		}
	}
	if _, err := s.CommitLog.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.Queues[QueueKey{Topic: "T"}].Flush(); err != nil {
		t.Fatal(err)
	}
	img := fs.Crash()
	seg := lost / cfg.CommitLogFileSize * cfg.CommitLogFileSize
	if last := p.want[QueueKey{Topic: "T"}][units-1].CommitLogOffset; last/cfg.CommitLogFileSize != lost/cfg.CommitLogFileSize {
		t.Fatalf("records %d to %d span segments: the test loses one segment's tail", torn, units-1)
	}
	tearZero(t, img, filepath.Join("/store/commitlog", fmt.Sprintf("%020d", seg)), lost-seg, int(cfg.CommitLogFileSize-(lost-seg)))
	tear(t, img, filepath.Join("/store/consumequeue/T/0", fmt.Sprintf("%020d", 0)), torn*consumequeue.UnitBytes, 8)

	r, err := Open(tornConfig(img))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want := map[QueueKey][]consumequeue.Unit{{Topic: "T"}: p.want[QueueKey{Topic: "T"}][:torn]}
	checkQueues(t, r, want)
}

// tearZero is tear without the check that the bytes were not zero.
func tearZero(t *testing.T, fs vfs.FS, name string, off int64, n int) {
	t.Helper()
	f, err := fs.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(make([]byte, n), off); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}
