package store

import (
	"errors"
	"syscall"
	"testing"

	"github.com/actormq/actormq/sim/faultfs"
)

// restartRound sends n records round-robin to three queues of topic T and
// puts their units, as the writer and the queue actors do.
func restartRound(t *testing.T, s *Store, p *producer, n int) []sendResult {
	t.Helper()
	var out []sendResult
	for i := range n {
		res := p.send(s, "T", int32(i%3), "", 0)
		q, err := s.OpenQueue(res.key)
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Put(res.queueOffset, res.unit); err != nil {
			t.Fatal(err)
		}
		out = append(out, res)
	}
	return out
}

// flushAll flushes the commit log and every queue, then moves the
// checkpoint to the newest record: what the writer and the queue flusher
// do before a record counts as durable.
func flushAll(t *testing.T, s *Store, p *producer) {
	t.Helper()
	if _, err := s.CommitLog.Flush(); err != nil {
		t.Fatal(err)
	}
	for key, q := range s.Queues {
		if err := q.Flush(); err != nil {
			t.Fatalf("flush %v: %v", key, err)
		}
	}
	if err := s.UpdateCheckpoint(p.storeTS-1000, p.storeTS-1000); err != nil {
		t.Fatal(err)
	}
}

// The broker stops after its syncs failed (EIO); its records and units are
// left in the page cache only. It restarts on the same disk, takes more
// sends, flushes them and moves the checkpoint past everything, and then
// the power is cut. Every record and unit must be there after recovery:
// recovery made the commit-log tail durable before the first append, and
// had the queues sync their loaded units again with the first flush
// (before the checkpoint could count them durable). Before, the unsynced
// tail became a hole: recovery ended the log there and deleted the later
// segments, and the queues lost the units the checkpoint had passed.
func TestRestartAfterFailedSyncsKeepsEverythingFlushedLater(t *testing.T) {
	fs := faultfs.New(11)
	cfg := testConfig("/store")
	cfg.FS = fs
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := newProducer(t)
	sent := restartRound(t, s, p, 12)
	flushAll(t, s, p)
	sent = append(sent, restartRound(t, s, p, 12)...)
	fs.Inject(faultfs.Rule{Ops: faultfs.OpMsync, Kind: faultfs.KindEIO})
	if _, err := s.CommitLog.Flush(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("commit-log flush = %v, want EIO", err)
	}
	s = reopenAfterFailedClose(t, s, fs, cfg)
	checkQueues(t, s, p.want) // everything, from the page cache
	sent = append(sent, restartRound(t, s, p, 24)...)
	flushAll(t, s, p)

	cfg.FS = fs.Crash()
	s, err = Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkQueues(t, s, p.want)
	for _, r := range sent {
		if _, _, err := s.CommitLog.ReadRecord(r.unit.CommitLogOffset, true); err != nil {
			t.Fatalf("record at %d: %v", r.unit.CommitLogOffset, err)
		}
	}
}

// reopenAfterFailedClose closes a store whose syncs failed (the Close must
// report it), clears fs's rules and opens the store again without a power
// cut: the restart must recover as after a crash.
func reopenAfterFailedClose(t *testing.T, s *Store, fs *faultfs.FS, cfg Config) *Store {
	t.Helper()
	if err := s.Close(); err == nil {
		t.Fatal("Close after failed syncs succeeded")
	}
	fs.ClearRules()
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Abnormal {
		t.Fatal("a stop after failed syncs recovered as clean")
	}
	return s
}

// A sync that fails while recovery makes the kept data durable fails Open.
func TestRecoverySyncFailureFailsOpen(t *testing.T) {
	fs := faultfs.New(12)
	cfg := testConfig("/store")
	cfg.FS = fs
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	restartRound(t, s, newProducer(t), 12)
	fs.Inject(faultfs.Rule{Ops: faultfs.OpMsync, Kind: faultfs.KindEIO})
	s.Close() // fails: nothing syncs

	if _, err := Open(cfg); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Open with failing syncs = %v, want EIO", err)
	}
	fs.ClearRules()
	s, err = Open(cfg)
	if err != nil {
		t.Fatalf("Open once syncs work again: %v", err)
	}
	defer s.Close()
	if q := s.Queues[QueueKey{Topic: "T", QueueID: 0}]; q == nil || q.MaxOffset() != 4 {
		t.Fatalf("queue T/0 after recovery: %v", q)
	}
}

// The consume queues' msyncs fail as Linux write-back does (the pages stay
// in the page cache, clean: faultfs.KindLostWrite); the commit log's
// succeed. The store restarts on the same disk without a power cut, where
// the queues read back right, so re-dispatch finds nothing to repair; it
// takes more sends, flushes them and moves the checkpoint past
// everything, and then the power is cut. Every unit must be there: the
// abnormal start rewrote the loaded units from the recovery start
// (ResyncFrom). Before, their pages stayed clean, the flush wrote nothing,
// and the power cut lost units the checkpoint had passed.
func TestRestartWithoutPowerCutAfterLostQueueWritesKeepsUnits(t *testing.T) {
	fs := faultfs.New(13)
	cfg := testConfig("/store")
	cfg.FS = fs
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := newProducer(t)
	restartRound(t, s, p, 12)
	flushAll(t, s, p)
	restartRound(t, s, p, 12)
	if _, err := s.CommitLog.Flush(); err != nil {
		t.Fatal(err)
	}
	fs.Inject(faultfs.Rule{Ops: faultfs.OpMsync, Path: "/store/consumequeue/", Kind: faultfs.KindLostWrite})
	for key, q := range s.Queues {
		if err := q.Flush(); !errors.Is(err, syscall.EIO) {
			t.Fatalf("flush %v = %v, want EIO", key, err)
		}
	}
	s = reopenAfterFailedClose(t, s, fs, cfg)
	checkQueues(t, s, p.want) // everything, from the page cache
	restartRound(t, s, p, 24)
	flushAll(t, s, p)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	cfg.FS = fs.Crash()
	s, err = Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkQueues(t, s, p.want)
}
