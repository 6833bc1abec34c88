package index

import (
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
	storeindex "github.com/actormq/actormq/storage/index"
)

// Log messages the restart tests read.
const (
	msgIndexing = "indexing the commit log"
	msgCaughtUp = "index caught up with the commit log"
)

// TestRestartResumesAfterRecordsWithoutKeys: after a stop, the next start
// indexes from the last record the index went past, though that record
// and the ones before it carry no keys (batch items carry no UNIQ_KEY):
// it re-reads that one record, not the log from its last keyed record.
func TestRestartResumesAfterRecordsWithoutKeys(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.send(rec{topic: "T", body: "keyed", keys: "k", ts: t0})
	var last int64
	for i := range 20 {
		last = f.send(rec{topic: "T", body: "plain" + strconv.Itoa(i), ts: t0 + 1})
	}
	testkit.Eventually(t, "the last record indexed", func() bool { return f.lastUpdatePhyOffset() == last })
	f.stop()

	f.start(false)
	testkit.Eventually(t, "caught up after the restart", func() bool {
		return len(f.logs.field(t, msgCaughtUp, "records")) == 2
	})
	if from := f.logs.field(t, msgIndexing, "from"); !slices.Equal(from, []int64{0, last}) {
		t.Fatalf("indexing started from %v, want [0 %d]", from, last)
	}
	if records := f.logs.field(t, msgCaughtUp, "records"); records[1] != 1 {
		t.Fatalf("the restart read %d records, want 1", records[1])
	}
	f.send(rec{topic: "T", body: "new", keys: "k", ts: t0 + 2})
	testkit.Eventually(t, "the new record indexed", func() bool {
		return slices.Equal(f.queryAll("T", "k"), []string{"keyed", "new"})
	})
}

// TestKillRestartResumesFromTheFlushedEnd: the files a kill -9 leaves
// (every store into the mappings; headers as of the last flush) make the
// next start index from the flushed end: the last record indexed when the
// watermark was flushed, or the end of the last full file when the newest
// file was never flushed. Either way every keyed record is found once.
func TestKillRestartResumesFromTheFlushedEnd(t *testing.T) {
	for _, tc := range []struct {
		name          string
		flushInterval time.Duration
		flushed       bool // wait until the end is flushed before the kill
	}{
		{name: "end flushed", flushInterval: 10 * time.Millisecond, flushed: true},
		{name: "newest file never flushed", flushInterval: time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			f := newFixture(t, fixtureOpts{root: root, flushInterval: tc.flushInterval})
			var keyed []int64
			var want []string
			for i := range 10 { // seven items a file: a full file and a second one
				want = append(want, "keyed"+strconv.Itoa(i))
				keyed = append(keyed, f.send(rec{topic: "T", body: want[i], keys: "k", ts: t0 + int64(i)}))
			}
			var last int64
			for i := range 20 {
				last = f.send(rec{topic: "T", body: "plain" + strconv.Itoa(i), ts: t0 + 20})
			}
			testkit.Eventually(t, "the last record indexed", func() bool { return f.lastUpdatePhyOffset() == last })
			wantFrom := keyed[6] // the full first file's end, flushed when it filled
			if tc.flushed {
				wantFrom = last
				testkit.Eventually(t, "the end flushed", func() bool { return flushedEnd(t, root) == last })
			}

			// The kill -9: the files as the page cache holds them.
			root2 := t.TempDir()
			copyDir(t, root, root2)
			g := newFixture(t, fixtureOpts{root: root2})
			testkit.Eventually(t, "caught up after the kill", func() bool {
				return len(g.logs.field(t, msgCaughtUp, "records")) == 1
			})
			if from := g.logs.field(t, msgIndexing, "from"); !slices.Equal(from, []int64{wantFrom}) {
				t.Fatalf("indexing started from %v, want [%d]", from, wantFrom)
			}
			if got := g.queryAll("T", "k"); !slices.Equal(got, want) {
				t.Fatalf("keyed records after the kill: %s, want %s", fmtBodies(got), fmtBodies(want))
			}
		})
	}
}

// flushedEnd is the index end stored in the files under root: what a
// restart finds. Opening and closing the files writes nothing (only
// written files are flushed).
func flushedEnd(t *testing.T, root string) int64 {
	t.Helper()
	x, err := storeindex.Open(storeindex.Config{Dir: filepath.Join(root, "index"), HashSlots: 16, MaxItems: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	return x.EndPhyOffset()
}
