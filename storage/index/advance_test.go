package index

import (
	"math"
	"slices"
	"testing"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/sim/faultfs"
)

// TestAdvanceWithoutItems: records without keys move the end too, in a file
// created for it when there is none; the end survives a reopen, bounds
// Put, and TruncateFrom keeps the file while the commit log still holds
// the record at the end, and deletes it when the log lost that record.
func TestAdvanceWithoutItems(t *testing.T) {
	dir := t.TempDir()
	clock := newClock()
	x := openTest(t, testConfig(dir, clock))
	if err := x.Advance(500, t0+5000); err != nil {
		t.Fatal(err)
	}
	if ts, phy := x.LastUpdate(); ts != t0+5000 || phy != 500 {
		t.Fatalf("LastUpdate = %d, %d; want %d, 500", ts, phy, t0+5000)
	}
	if ok, _ := x.Put("T", "k", 400, t0); ok {
		t.Fatal("a record below the advanced end was indexed")
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	names := testkit.DirNames(t, dir)
	if len(names) != 1 {
		t.Fatalf("files %v, want the one Advance created", names)
	}
	b := fileBytes(t, dir, names[0])
	if be64(b, 24) != 500 || be64(b, 8) != t0+5000 || be32(b, 36) > 1 || be32(b, 32) != 0 {
		t.Fatalf("header end %d/%d, indexCount %d, hashSlotCount %d; want 500/%d and no items",
			be64(b, 24), be64(b, 8), be32(b, 36), be32(b, 32), t0+5000)
	}

	y := openTest(t, testConfig(dir, clock))
	if err := y.TruncateFrom(600); err != nil {
		t.Fatal(err)
	}
	if got := y.EndPhyOffset(); got != 500 {
		t.Fatalf("EndPhyOffset after reopen = %d, want 500", got)
	}
	if err := y.TruncateFrom(500); err != nil { // the log lost the record at 500
		t.Fatal(err)
	}
	if got, names := y.EndPhyOffset(), testkit.DirNames(t, dir); got != 0 || len(names) != 0 {
		t.Fatalf("after the log lost the end record: end %d, files %v; want 0 and none", got, names)
	}
}

// TestAdvancePastItems: the end moves beyond the newest item, Put skips
// what lies below it, a full file keeps its advanced end when the next
// one starts, and truncating below the advanced end brings it back to the
// newest item left.
func TestAdvancePastItems(t *testing.T) {
	dir := t.TempDir()
	x := openTest(t, testConfig(dir, newClock()))
	mustPut(t, x, "T", "a", 100, t0)
	mustPut(t, x, "T", "b", 200, t0+1000)
	if err := x.Advance(300, t0+2000); err != nil {
		t.Fatal(err)
	}
	if err := x.Advance(250, t0+9000); err != nil { // not beyond: no change
		t.Fatal(err)
	}
	if ts, phy := x.LastUpdate(); ts != t0+2000 || phy != 300 {
		t.Fatalf("LastUpdate = %d, %d; want %d, 300", ts, phy, t0+2000)
	}
	if ok, _ := x.Put("T", "c", 250, t0); ok {
		t.Fatal("a record below the advanced end was indexed")
	}
	for i := int64(0); i < 3; i++ { // items 3..5: the file is full
		mustPut(t, x, "T", "c", 400+i*100, t0+3000)
	}
	if err := x.Advance(900, t0+4000); err != nil {
		t.Fatal(err)
	}
	mustPut(t, x, "T", "d", 1000, t0+5000) // rolls
	if err := x.Flush(); err != nil {
		t.Fatal(err)
	}
	names := testkit.DirNames(t, dir)
	if len(names) != 2 {
		t.Fatalf("files %v, want 2", names)
	}
	if first := fileBytes(t, dir, names[0]); be64(first, 24) != 900 || be64(first, 8) != t0+4000 {
		t.Fatalf("full file ends at %d/%d, want 900/%d", be64(first, 24), be64(first, 8), t0+4000)
	}

	if err := x.TruncateFrom(950); err != nil { // the log ends inside the second file's range
		t.Fatal(err)
	}
	if got := x.EndPhyOffset(); got != 900 {
		t.Fatalf("EndPhyOffset = %d, want the full file's advanced 900", got)
	}
	if err := x.TruncateFrom(450); err != nil {
		t.Fatal(err)
	}
	if got := x.EndPhyOffset(); got != 400 {
		t.Fatalf("EndPhyOffset = %d, want 400, the newest item below 450", got)
	}
	if got := x.Query("T", "c", 64, 0, math.MaxInt64); !slices.Equal(got, []int64{400}) {
		t.Fatalf("Query(T#c) = %v, want [400]", got)
	}
}

// TestAdvanceIsDurableOnlyAfterFlush: like an item's, an advanced end
// reaches the disk with the next flush; a power cut before it leaves the
// end of the last flush, from which re-indexing covers the rest.
func TestAdvanceIsDurableOnlyAfterFlush(t *testing.T) {
	fs := faultfs.New(1)
	cfg := Config{Dir: "/store/index", HashSlots: testSlots, MaxItems: testItems, Now: newClock().Now, FS: fs}
	x, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, x, "T", "a", 100, t0)
	if err := x.Advance(200, t0); err != nil {
		t.Fatal(err)
	}
	if err := x.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := x.Advance(300, t0); err != nil {
		t.Fatal(err)
	}
	cfg.FS = fs.Crash()
	y := openTest(t, cfg)
	if err := y.TruncateFrom(1000); err != nil {
		t.Fatal(err)
	}
	if got := y.EndPhyOffset(); got != 200 {
		t.Fatalf("EndPhyOffset after the power cut = %d, want the flushed 200", got)
	}
	if got := y.Query("T", "a", 64, 0, math.MaxInt64); !slices.Equal(got, []int64{100}) {
		t.Fatalf("Query(T#a) = %v, want [100]", got)
	}
}
