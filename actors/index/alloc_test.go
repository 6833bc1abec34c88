package index

import (
	"slices"
	"testing"

	"github.com/actormq/actormq/wire/message"
)

// TestIndexRecordAllocatesNothing: indexing a record (UNIQ_KEY and KEYS,
// no keys, or ROLLBACK) parses it in place and hashes topic#key without
// building it: no allocation per record, and the keys are indexed.
func TestIndexRecordAllocatesNothing(t *testing.T) {
	a := bareActor(t, nil, 1024, 100_000)
	recs := []struct {
		rec   []byte
		keyed bool
	}{
		{rec: rec{topic: "T", body: "x", keys: "a  b", uniq: "U"}.encode(), keyed: true},
		{rec: rec{topic: "T", body: "x"}.encode()},
		{rec: rec{topic: "T", body: "x", keys: "a", sysFlag: message.TransactionRollback}.encode()},
	}
	var off int64
	allocs := testing.AllocsPerRun(100, func() {
		for _, r := range recs {
			off += 1000
			if err := a.indexRecord(off, r.rec); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.putKeys(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("indexing %d records allocates %v times", len(recs), allocs)
	}
	keyedOff := off - 2000 // the last run's keyed record
	for _, key := range []string{"a", "b", "U"} {
		if got := a.x.idx.Query("T", key, 1, 0, 1<<62); !slices.Equal(got, []int64{keyedOff}) {
			t.Errorf("Query(T#%s) newest = %v, want [%d]", key, got, keyedOff)
		}
	}
}

// TestCatchUpAllocatesNothing: a catch-up step over records in the commit
// log (scan, index, end) allocates nothing once the index file exists.
func TestCatchUpAllocatesNothing(t *testing.T) {
	const step = 50
	clog := newLog(t, 1<<20)
	var last int64
	for i := range 102 * step { // a warm-up step and 101 measured ones
		r := rec{topic: "T", body: "x", uniq: "U" + string(rune('a'+i%26))}
		if i%2 == 1 {
			r.uniq = "" // no keys
		}
		var err error
		if last, err = clog.Append(r.encode(), 0, t0+int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	a := bareActor(t, clog, 1024, 100_000)
	allocs := testing.AllocsPerRun(101, func() { a.catchUp(step, 0, noBound) })
	if allocs != 0 {
		t.Errorf("a catch-up step of %d records allocates %v times", step, allocs)
	}
	if _, end := a.x.idx.LastUpdate(); end != last || a.next != clog.WrotePosition() {
		t.Fatalf("after the steps: index end %d, next %d; want %d and %d", end, a.next, last, clog.WrotePosition())
	}
}
