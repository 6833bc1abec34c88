package index

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzOpen loads arbitrary bytes as an index file (cut or zero-padded to
// the file size) and checks that nothing panics or loops: queries answer
// sorted, distinct, bounded offsets; truncation to a commit-log end, an
// end advanced below it and a put after that work, and the put key is then
// found.
func FuzzOpen(f *testing.F) {
	dir := f.TempDir()
	clock := newClock()
	x, err := Open(testConfig(dir, clock))
	if err != nil {
		f.Fatal(err)
	}
	for i, k := range []string{"a", "Aa", "BB", "a", "c"} {
		if _, err := x.Put("T", k, int64(100+i*50), t0+int64(i)*1500); err != nil {
			f.Fatal(err)
		}
	}
	if err := x.Close(); err != nil {
		f.Fatal(err)
	}
	valid, err := os.ReadFile(filepath.Join(dir, formatFileName(clock.now)))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add([]byte{})
	loop := slices.Clone(valid)
	loop[HeaderBytes+testSlots*SlotBytes+2*ItemBytes+itemPrev+3] = 2 // item 2 names itself
	f.Add(loop)

	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		file := make([]byte, testBytes)
		copy(file, data)
		if err := os.WriteFile(filepath.Join(dir, "20240101000000000"), file, 0o644); err != nil {
			t.Fatal(err)
		}
		x, err := Open(testConfig(dir, newClock()))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer x.Close()
		for _, key := range []string{"a", "Aa", "c", "zz"} {
			got := x.Query("T", key, 3, math.MinInt64, math.MaxInt64)
			if len(got) > 3 || !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
				t.Fatalf("Query(%s) = %v", key, got)
			}
		}
		const phys = int64(1) << 40
		if err := x.TruncateFrom(phys); err != nil {
			t.Fatalf("TruncateFrom: %v", err)
		}
		if err := x.Advance(phys-100, t0); err != nil {
			t.Fatalf("Advance after TruncateFrom: %v", err)
		}
		if ok, err := x.Put("T", "new", phys, t0); err != nil || !ok {
			t.Fatalf("Put after TruncateFrom and Advance = %v, %v", ok, err)
		}
		if got := x.Query("T", "new", 64, math.MinInt64, math.MaxInt64); !slices.Contains(got, phys) {
			t.Fatalf("Query(T#new) = %v, want %d in it", got, phys)
		}
		if _, err := x.DeleteBelow(math.MaxInt64); err != nil {
			t.Fatalf("DeleteBelow: %v", err)
		}
	})
}
