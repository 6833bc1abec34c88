package index

import (
	"math"
	"slices"
	"testing"
)

// TestPutSkipsKeysOfARecordAcrossARoll: a record whose keys straddle a
// file roll (the first in the full file, the next in the new one) is read
// again (a restart resumes at the end offset, a start-up scan step stops
// within a group commit the writer's IndexBatch then hands over): none of
// its keys is indexed twice, whichever file holds it.
func TestPutSkipsKeysOfARecordAcrossARoll(t *testing.T) {
	dir := t.TempDir()
	x := openTest(t, testConfig(dir, newClock()))
	for i := int64(1); i <= 4; i++ {
		mustPut(t, x, "T", "k", i*10, t0+i*1000)
	}
	keys := []Key{
		{Hash: KeyHash("T", "a"), Phys: 50, StoreTimestamp: t0 + 5000}, // the first file's last item
		{Hash: KeyHash("T", "b"), Phys: 50, StoreTimestamp: t0 + 5000}, // the second file's first
	}
	if n, err := x.PutKeys(keys); err != nil || n != 2 {
		t.Fatalf("PutKeys = %d, %v; want 2", n, err)
	}
	if len(x.files) != 2 {
		t.Fatalf("%d files, want 2 (the record's keys across the roll)", len(x.files))
	}
	if n, err := x.PutKeys(keys); err != nil || n != 0 {
		t.Fatalf("PutKeys of the record again = %d, %v; want 0 (indexed)", n, err)
	}
	if c := x.files[1].count(); c != 2 {
		t.Fatalf("second file indexCount %d, want 2 (one item)", c)
	}
	if got := x.Query("T", "a", 64, 0, math.MaxInt64); !slices.Equal(got, []int64{50}) {
		t.Fatalf("Query(T#a) = %v", got)
	}
}
