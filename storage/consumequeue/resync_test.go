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
	if q.ResyncFrom(msgUnit(8).CommitLogOffset) {
		t.Fatal("ResyncFrom past the last unit reported units to sync")
	}
	if !q.ResyncFrom(msgUnit(4).CommitLogOffset) {
		t.Fatal("ResyncFrom found no units to sync")
	}
	putRange(t, q, 8, 9)
	mustFlush(t, q)

	cfg.FS = fs.Crash()
	r, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := getAll(t, r, 0, 20)
	if len(got) != 9 {
		t.Fatalf("%d units after the power cut, want 9", len(got))
	}
	for i, u := range got {
		if u != msgUnit(int64(i)) {
			t.Fatalf("unit %d = %+v, want %+v", i, u, msgUnit(int64(i)))
		}
	}
}
