package consumequeue

import (
	"testing"

	"github.com/actormq/actormq/sim/faultfs"
)

// A queue whose syncs failed is reopened on the same disk: its units are
// in the page cache only, in files whose directory entries were not synced
// either. After ResyncFrom, the next Flush makes them durable with the new
// ones, so a power cut keeps every unit. Without it the flush covered only
// the new units (and no directory), and the crash lost the old ones.
func TestResyncFromMakesLoadedUnitsDurable(t *testing.T) {
	fs := faultfs.New(5)
	cfg := Config{RootDir: "/store/consumequeue", Topic: "TopicA", QueueID: 3, FileSize: smallFile, FS: fs}
	q, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	putRange(t, q, 0, 4)
	mustFlush(t, q)
	putRange(t, q, 4, 8) // one file roll: its directory entry waits for the next flush
	fs.Inject(faultfs.Rule{Ops: faultfs.OpMsync | faultfs.OpSyncDir, Kind: faultfs.KindEIO})
	if err := q.Close(); err == nil {
		t.Fatal("Close with failing syncs succeeded")
	}
	fs.ClearRules()

	q, err = Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if q.MaxOffset() != 8 {
		t.Fatalf("reopened with %d units, want 8 (page cache)", q.MaxOffset())
	}
	if resync, err := q.ResyncFrom(msgUnit(8).CommitLogOffset); resync || err != nil {
		t.Fatalf("ResyncFrom past the last unit: %v, %v, want no units to sync", resync, err)
	}
	if resync, err := q.ResyncFrom(msgUnit(4).CommitLogOffset); !resync || err != nil {
		t.Fatalf("ResyncFrom: %v, %v, want units to sync", resync, err)
	}
	putRange(t, q, 8, 9)
	mustFlush(t, q)

	wantUnitsAfterPowerCut(t, fs, cfg, 9)
}

// TestResyncFromRewritesPagesAFailedWriteBackLeftClean: the queue's msyncs
// fail as Linux write-back does (the pages stay in the page cache, clean:
// faultfs.KindLostWrite), and the queue is reopened on the same disk
// without a power cut, where its units read back right. ResyncFrom must
// make the next Flush write them: an msync of the clean pages writes
// nothing, and a power cut after it lost them.
func TestResyncFromRewritesPagesAFailedWriteBackLeftClean(t *testing.T) {
	fs := faultfs.New(6)
	cfg := Config{RootDir: "/store/consumequeue", Topic: "TopicA", QueueID: 3, FileSize: smallFile, FS: fs}
	q, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	putRange(t, q, 0, 8) // two files
	fs.Inject(faultfs.Rule{Ops: faultfs.OpMsync, Kind: faultfs.KindLostWrite})
	if err := q.Flush(); err == nil {
		t.Fatal("Flush with failing msyncs succeeded")
	}
	q.Close()
	fs.ClearRules()

	q, err = Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := getAll(t, q, 0, 20); len(got) != 8 {
		t.Fatalf("reopened with %d units, want 8 (page cache)", len(got))
	}
	if resync, err := q.ResyncFrom(msgUnit(0).CommitLogOffset); !resync || err != nil {
		t.Fatalf("ResyncFrom: %v, %v, want units to sync", resync, err)
	}
	mustFlush(t, q)

	wantUnitsAfterPowerCut(t, fs, cfg, 8)
}

// wantUnitsAfterPowerCut opens cfg's queue on what fs's disk kept through a
// power cut and wants exactly units 0..n-1 there.
func wantUnitsAfterPowerCut(t *testing.T, fs *faultfs.FS, cfg Config, n int) {
	t.Helper()
	cfg.FS = fs.Crash()
	r, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := getAll(t, r, 0, 20)
	if len(got) != n {
		t.Fatalf("%d units after the power cut, want %d", len(got), n)
	}
	for i, u := range got {
		if u != msgUnit(int64(i)) {
			t.Fatalf("unit %d = %+v, want %+v", i, u, msgUnit(int64(i)))
		}
	}
}
