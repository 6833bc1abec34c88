package index

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Small files: 40 + 4×4 + 6×20 = 176 bytes, five usable items per file.
const (
	testSlots = 4
	testItems = 6
	testBytes = HeaderBytes + testSlots*SlotBytes + testItems*ItemBytes
)

// testClock is a fixed clock that tests move by hand.
type testClock struct{ now time.Time }

func (c *testClock) Now() time.Time { return c.now }

func newClock() *testClock {
	return &testClock{now: time.Date(2024, 5, 6, 7, 8, 9, 123_000_000, time.Local)}
}

func testConfig(dir string, clock *testClock) Config {
	return Config{Dir: dir, HashSlots: testSlots, MaxItems: testItems, Now: clock.Now}
}

func openTest(t *testing.T, cfg Config) *Index {
	t.Helper()
	x, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = x.Close() })
	return x
}

func mustPut(t *testing.T, x *Index, topic, key string, phys, ts int64) {
	t.Helper()
	ok, err := x.Put(topic, key, phys, ts)
	if err != nil || !ok {
		t.Fatalf("Put(%q, %q, %d, %d) = %v, %v; want true, nil", topic, key, phys, ts, ok, err)
	}
}

// javaHashCode is an independent Java String.hashCode for ASCII keys.
func javaHashCode(s string) int32 {
	var h int32
	for i := 0; i < len(s); i++ {
		h = 31*h + int32(s[i])
	}
	return h
}

// javaHashUnits is Java's String.hashCode of a string of UTF-16 code units.
func javaHashUnits(units ...uint16) int32 {
	var h int32
	for _, u := range units {
		h = 31*h + int32(u)
	}
	return h
}

// fileBytes reads one index file from disk.
func fileBytes(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func be64(b []byte, off int) int64 { return int64(binary.BigEndian.Uint64(b[off:])) }
func be32(b []byte, off int) int32 { return int32(binary.BigEndian.Uint32(b[off:])) }

// rawItem is one item decoded straight from file bytes.
type rawItem struct {
	hash     int32
	phys     int64
	timeDiff int32
	prev     int32
}

func readRawItem(b []byte, slots, n int) rawItem {
	p := HeaderBytes + slots*SlotBytes + n*ItemBytes
	return rawItem{hash: be32(b, p), phys: be64(b, p+4), timeDiff: be32(b, p+12), prev: be32(b, p+16)}
}

func rawSlot(b []byte, s int) int32 { return be32(b, HeaderBytes+s*SlotBytes) }
