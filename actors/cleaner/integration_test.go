package cleaner

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/commitlog"
	"github.com/actormq/actormq/wire/message"
)

// segBytes is tiny so that a few records fill several segments.
const segBytes = 4096

// openFilledLog opens a CommitLog in dir and appends until it has segs
// segments, then flushes so that later mtime changes are not overwritten.
func openFilledLog(t *testing.T, dir string, segs int) *commitlog.CommitLog {
	t.Helper()
	l, err := commitlog.Open(commitlog.Config{Dir: dir, FileSize: segBytes})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	if _, err := l.Recover(false, 0); err != nil {
		t.Fatalf("Recover: %v", err)
	}
	for seq := 0; l.WrotePosition() <= int64(segs-1)*segBytes; seq++ {
		m := message.Message{
			BornTimestamp: 1_700_000_000_000,
			BornHost:      netip.MustParseAddrPort("127.0.0.1:40000"),
			StoreHost:     netip.MustParseAddrPort("127.0.0.1:10911"),
			Body:          make([]byte, 300),
			Topic:         "TopicTest",
			Properties:    fmt.Sprintf("KEYS\x01k%d\x02", seq),
		}
		if _, err := l.Append(message.AppendRecord(nil, &m), int64(seq), 1_700_000_000_000); err != nil {
			t.Fatalf("Append #%d: %v", seq, err)
		}
	}
	if _, err := l.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	return l
}

func ageSegment(t *testing.T, dir string, start int64, mod time.Time) {
	t.Helper()
	if err := os.Chtimes(filepath.Join(dir, fmt.Sprintf("%020d", start)), mod, mod); err != nil {
		t.Fatal(err)
	}
}

// TestRealCommitLogRetention drives a real CommitLog: fresh files stay at a
// deleteWhen hour, expired ones vanish oldest first up to the first fresh
// one, and high usage force-deletes the rest but the newest.
func TestRealCommitLogRetention(t *testing.T) {
	dir := t.TempDir()
	l := openFilledLog(t, dir, 4)
	if files := testkit.DirNames(t, dir); len(files) != 4 {
		t.Fatalf("segments %v, want 4", files)
	}
	clk := &clock{now: time.Now()}
	queues, disk := &fakeQueues{}, &fakeDisk{ratio: 0.1}
	b := testBroker()
	b.DeleteWhen = []int{clk.Now().Hour()}
	c, err := Spawn(testkit.ActorSystem(t), Config{Broker: b, Interval: testInterval, Now: clk.Now, Logger: zerolog.Nop()},
		l, queues, disk)
	if err != nil {
		t.Fatalf("Spawn: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(testkit.Context(t)); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})

	// 1. Every file is younger than fileReservedTime: nothing goes.
	disk.waitRounds(t, 3)
	if l.MinOffset() != 0 || len(testkit.DirNames(t, dir)) != 4 || len(queues.callsCopy()) != 0 {
		t.Fatalf("fresh files: min %d, files %v, DeleteBelow %v", l.MinOffset(), testkit.DirNames(t, dir), queues.callsCopy())
	}

	// 2. The two oldest expire: both go, the third (fresh) stops the round.
	old := clk.Now().Add(-testReserved - time.Hour)
	ageSegment(t, dir, 0, old)
	ageSegment(t, dir, segBytes, old)
	testkit.Eventually(t, "expired files deleted", func() bool { return l.MinOffset() == 2*segBytes })
	testkit.Eventually(t, "DeleteBelow(8192)", func() bool { return len(queues.callsCopy()) == 1 })
	if files := testkit.DirNames(t, dir); !reflect.DeepEqual(files, []string{fmt.Sprintf("%020d", 2*segBytes), fmt.Sprintf("%020d", 3*segBytes)}) {
		t.Fatalf("files after expiry %v", files)
	}

	// 3. Usage above 85 % (92 %, also disk full) deletes the fresh one too; the newest stays.
	disk.set(0.92, nil)
	testkit.Eventually(t, "forced deletion", func() bool { return l.MinOffset() == 3*segBytes })
	testkit.Eventually(t, "DeleteBelow(12288)", func() bool { return len(queues.callsCopy()) == 2 })
	if got := queues.callsCopy(); !reflect.DeepEqual(got, []int64{2 * segBytes, 3 * segBytes}) {
		t.Fatalf("DeleteBelow calls %v", got)
	}
	disk.waitRounds(t, 3)
	if files := testkit.DirNames(t, dir); !reflect.DeepEqual(files, []string{fmt.Sprintf("%020d", 3*segBytes)}) {
		t.Fatalf("files after forced cleaning %v, want only the newest", files)
	}
	if !c.DiskFull() {
		t.Fatal("DiskFull false at 92 % usage")
	}
}
