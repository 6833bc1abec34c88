package index

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/actormq/actormq/actors/writer"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/commitlog"
	storeindex "github.com/actormq/actormq/storage/index"
	"github.com/actormq/actormq/wire/message"
)

// handOffRecs are records of every shape the index treats apart: UNIQ_KEY
// and KEYS together or alone, empty KEYS entries, a key repeated within a
// record and across records and topics, a ROLLBACK-typed record, none.
func handOffRecs() []rec {
	var rs []rec
	for i := range 40 {
		r := rec{topic: "T", body: string(rune('a' + i%26)), ts: t0 + int64(i)*1000}
		switch i % 8 {
		case 0:
			r.uniq = "U" + r.body
		case 1:
			r.uniq, r.keys = "V"+r.body, "k1 k2"
		case 2:
			r.keys = " k1  k3 "
		case 3:
			r.topic, r.keys = "S", "k1 k1 é"
		case 4:
			r.keys, r.sysFlag = "k2", message.SetTransactionType(0, message.TransactionRollback)
		case 5: // no keys
		case 6:
			r.topic, r.uniq = "S", "U"+r.body
		case 7:
			r.uniq, r.keys = "W", "k3"
		}
		rs = append(rs, r)
	}
	return rs
}

// handOffGroups splits rs into group commits of 1, 3, 5, 2 and 7 records,
// appends them to clog and returns each group's batch: Complete, with the
// keys the topic actors compute (storeindex.EachKeyHash); the scan's batch
// is the same without keys and Complete.
func handOffGroups(t *testing.T, clog *commitlog.CommitLog, rs []rec) []writer.IndexBatch {
	t.Helper()
	var out []writer.IndexBatch
	sizes := []int{1, 3, 5, 2, 7}
	for g := 0; len(rs) > 0; g++ {
		n := min(sizes[g%len(sizes)], len(rs))
		b := writer.IndexBatch{From: clog.WrotePosition(), Complete: true, Last: -1}
		for _, r := range rs[:n] {
			off, err := clog.Append(r.encode(), 0, r.ts)
			if err != nil {
				t.Fatal(err)
			}
			if message.TransactionType(r.sysFlag) != message.TransactionRollback {
				storeindex.EachKeyHash(r.topic, r.uniq, r.keys, func(h int32) {
					b.Keys = append(b.Keys, storeindex.Key{Hash: h, Phys: off, StoreTimestamp: r.ts})
				})
			}
			b.Last, b.LastTimestamp = off, r.ts
		}
		b.To = clog.WrotePosition()
		out = append(out, b)
		rs = rs[n:]
	}
	return out
}

// handOff gives a the batch b (a copy: the actor releases what it gets)
// and runs the wakeUps it asks for.
func handOff(a *indexActor, b writer.IndexBatch, complete bool) {
	b.Complete = complete
	b.Keys = slices.Clone(b.Keys)
	if a.handOff(&b) {
		for a.step() {
		}
	}
}

// indexFiles closes a's index and returns its files' contents in name
// (creation) order.
func indexFiles(t *testing.T, a *indexActor, dir string) [][]byte {
	t.Helper()
	if err := a.x.idx.Close(); err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, name := range testkit.DirNames(t, dir) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func sameFiles(t *testing.T, what string, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d index files, the scan wrote %d", what, len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("%s: index file %d differs from the scan's", what, i)
		}
	}
}

// TestHandOffWritesWhatTheScanWrites: index files built from the writer's
// Complete batches are byte for byte those the scan builds from the same
// group commits (the same files roll at the same items, with the same
// headers), and so are files built when the batches arrive during the
// start-up scan, from before, at and after where it stands.
func TestHandOffWritesWhatTheScanWrites(t *testing.T) {
	for _, maxItems := range []int{8, 1000} { // files roll every 7 items; one file
		clog := newLog(t, 4<<10) // records cross segments
		groups := handOffGroups(t, clog, handOffRecs())
		dir := t.TempDir()
		scan := openActor(t, filepath.Join(dir, "scan"), clog, 16, maxItems)
		keyed := openActor(t, filepath.Join(dir, "keyed"), clog, 16, maxItems)
		for _, b := range groups {
			handOff(scan, b, false)
			handOff(keyed, b, true)
		}
		if scan.next != clog.WrotePosition() || keyed.next != scan.next {
			t.Fatalf("next: scan %d, keyed %d; want %d", scan.next, keyed.next, clog.WrotePosition())
		}
		want := indexFiles(t, scan, filepath.Join(dir, "scan"))
		sameFiles(t, "Complete batches", indexFiles(t, keyed, filepath.Join(dir, "keyed")), want)
		if maxItems != 1000 {
			continue
		}
		// One file: Advance's order does not show in the rolled files'
		// headers, so a start-up scan that stops anywhere gives the same.
		for _, stop := range []int{1, 5, 6, 40} {
			late := openActor(t, filepath.Join(dir, "late", string(rune('a'+stop%26))), clog, 16, maxItems)
			late.catchUp(stop, 0, noBound) // the start-up scan's first step, before any batch came
			for _, b := range groups {
				handOff(late, b, true)
			}
			if len(late.handoffs) != 0 || late.next != clog.WrotePosition() {
				t.Fatalf("scan of %d first: %d batches waiting, next %d, want %d", stop, len(late.handoffs), late.next, clog.WrotePosition())
			}
			sameFiles(t, "batches after a scan", indexFiles(t, late, filepath.Join(dir, "late", string(rune('a'+stop%26)))), want)
		}
	}
}

// TestHandOffWaitsForTheBacklog: batches that start beyond what the
// start-up scan read wait for it (handOff asks for a wakeUp); the steps
// read up to the first of them and then apply them; the index ends as the
// scan of everything builds it.
func TestHandOffWaitsForTheBacklog(t *testing.T) {
	clog := newLog(t, 4<<10)
	groups := handOffGroups(t, clog, handOffRecs())
	dir := t.TempDir()
	scan := openActor(t, filepath.Join(dir, "scan"), clog, 16, 1000)
	for scan.catchUp(3, 0, noBound) { // steps end mid-group, as the start-up's do
	}
	want := indexFiles(t, scan, filepath.Join(dir, "scan"))

	a := openActor(t, filepath.Join(dir, "a"), clog, 16, 1000)
	backlog := 4 // groups only the scan reads
	for _, b := range groups[backlog:] {
		b.Keys = slices.Clone(b.Keys)
		if !a.handOff(&b) {
			t.Fatalf("batch from %d applied at next %d", b.From, a.next)
		}
	}
	for a.step() {
	}
	if len(a.handoffs) != 0 || a.next != clog.WrotePosition() {
		t.Fatalf("after the steps: %d batches waiting, next %d, want %d", len(a.handoffs), a.next, clog.WrotePosition())
	}
	sameFiles(t, "backlog then batches", indexFiles(t, a, filepath.Join(dir, "a")), want)
}

// TestHandOffDropsWhatWaitsTooLong: beyond handoffsMax waiting batches the
// waiting ones are dropped and the scan reads their records; the index
// still ends as the scan of everything builds it.
func TestHandOffDropsWhatWaitsTooLong(t *testing.T) {
	clog := newLog(t, 1<<20)
	var rs []rec
	for i := range handoffsMax + 20 {
		rs = append(rs, rec{topic: "T", body: "x", uniq: "U" + strconv.Itoa(i), ts: t0 + int64(i)})
	}
	var groups []writer.IndexBatch
	for _, r := range rs { // one record a commit
		groups = append(groups, handOffGroups(t, clog, []rec{r})...)
	}
	dir := t.TempDir()
	scan := openActor(t, filepath.Join(dir, "scan"), clog, 1024, 10_000)
	for scan.catchUp(0, 0, noBound) {
	}
	want := indexFiles(t, scan, filepath.Join(dir, "scan"))

	a := openActor(t, filepath.Join(dir, "a"), clog, 1024, 10_000)
	for _, b := range groups[10:] { // the first 10 records are the backlog
		b.Keys = slices.Clone(b.Keys)
		a.handOff(&b)
	}
	if len(a.handoffs) != len(groups)-10-handoffsMax {
		t.Fatalf("%d batches waiting, want %d", len(a.handoffs), len(groups)-10-handoffsMax)
	}
	for a.step() {
	}
	if len(a.handoffs) != 0 || a.next != clog.WrotePosition() {
		t.Fatalf("after the steps: %d batches waiting, next %d, want %d", len(a.handoffs), a.next, clog.WrotePosition())
	}
	sameFiles(t, "batches dropped", indexFiles(t, a, filepath.Join(dir, "a")), want)
}
