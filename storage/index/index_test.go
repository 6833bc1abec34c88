package index

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/wire/message"
)

const t0 = int64(1_700_000_000_000)

// TestKeyHashIsAbsJavaHashCode: KeyHash(topic, key), hashed over the
// parts, is |String.hashCode| of the joined topic#key (Java's buildKey).
func TestKeyHashIsAbsJavaHashCode(t *testing.T) {
	for _, tc := range []struct {
		topic, key string
		want       int32
	}{
		{topic: "", key: "", want: '#'},
		{topic: "A", key: "a", want: ('A'*31+'#')*31 + 'a'},
		{topic: "TopicTest", key: "key-1", want: abs32(javaHashCode("TopicTest#key-1"))},
		{topic: "T", key: "Aa", want: abs32(javaHashCode("T#BB"))}, // Aa and BB collide
		{topic: "TopicTest", key: "k1A;61BE", want: 0},             // hashCode is MinInt32: Math.abs overflows, Java uses 0
		{topic: "é", key: "", want: 233*31 + '#'},
		{topic: "T", key: "😀", want: (('T'*31+'#')*31+0xD83D)*31 + 0xDE00},                              // a surrogate pair, as Java's UTF-16 String
		{topic: "T\xe2\x82", key: "\x82", want: abs32(javaHashUnits('T', 0xFFFD, 0xFFFD, '#', 0xFFFD))}, // invalid UTF-8: U+FFFD per byte
	} {
		if got := KeyHash(tc.topic, tc.key); got != tc.want {
			t.Errorf("KeyHash(%q, %q) = %d, want %d", tc.topic, tc.key, got, tc.want)
		}
	}
	if javaHashCode("TopicTest#k1A;61BE") != math.MinInt32 {
		t.Fatal("test premise: TopicTest#k1A;61BE hashes to MinInt32")
	}
}

// FuzzKeyHash: hashing the parts equals Java's String.hashCode of the
// joined key, as message.TagsHashCode computes it, for any bytes.
func FuzzKeyHash(f *testing.F) {
	f.Add("TopicTest", "key-1")
	f.Add("T", "😀")
	f.Add("T\xf0\x9f\x98", "\x80#")
	f.Add("Topic_é_Test", "abcd😀efgh\xffijklm")
	f.Fuzz(func(t *testing.T, topic, key string) {
		want := int32(message.TagsHashCode(topic + "#" + key))
		if want == math.MinInt32 {
			want = 0
		}
		if got := KeyHash(topic, key); got != abs32(want) {
			t.Fatalf("KeyHash(%q, %q) = %d, want |%d|", topic, key, got, want)
		}
	})
}

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{name: "defaults", cfg: Config{Dir: "x"}},
		{name: "no dir", cfg: Config{}, wantErr: true},
		{name: "one item is none usable", cfg: Config{Dir: "x", HashSlots: 1, MaxItems: 1}, wantErr: true},
		{name: "negative slots", cfg: Config{Dir: "x", HashSlots: -1}, wantErr: true},
		{name: "file above 2 GiB", cfg: Config{Dir: "x", HashSlots: 1, MaxItems: math.MaxInt32 / ItemBytes}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if (err != nil) != tc.wantErr || (err != nil && !errors.Is(err, ErrConfig)) {
				t.Fatalf("Validate: %v, want error %v", err, tc.wantErr)
			}
			if err == nil && tc.name == "defaults" && tc.cfg.FileBytes() != 420_000_040 {
				t.Fatalf("default file size %d, want 420000040", tc.cfg.FileBytes())
			}
		})
	}
}

// TestFileLayout checks the bytes on disk against storage-format.md §5:
// header fields, item fields, slot heads and chains, timeDiff in seconds.
func TestFileLayout(t *testing.T) {
	dir := t.TempDir()
	clock := newClock()
	x := openTest(t, testConfig(dir, clock))
	puts := []struct {
		key  string
		phys int64
		ts   int64
	}{
		{key: "k1", phys: 100, ts: t0},
		{key: "Aa", phys: 200, ts: t0 + 1500},
		{key: "BB", phys: 300, ts: t0 + 2999}, // same hash as T#Aa: same slot, chained
		{key: "k1", phys: 400, ts: t0 + 10_000},
	}
	for _, p := range puts {
		mustPut(t, x, "T", p.key, p.phys, p.ts)
	}
	if err := x.Flush(); err != nil {
		t.Fatal(err)
	}
	names := testkit.DirNames(t, dir)
	if want := []string{"20240506070809123"}; !slices.Equal(names, want) {
		t.Fatalf("files %v, want %v (creation time yyyyMMddHHmmssSSS)", names, want)
	}
	b := fileBytes(t, dir, names[0])
	if len(b) != testBytes {
		t.Fatalf("file is %d bytes, want %d", len(b), testBytes)
	}
	for _, h := range []struct {
		name string
		got  int64
		want int64
	}{
		{"beginTimestamp", be64(b, 0), t0},
		{"endTimestamp", be64(b, 8), t0 + 10_000},
		{"beginPhyOffset", be64(b, 16), 100},
		{"endPhyOffset", be64(b, 24), 400},
		{"hashSlotCount", int64(be32(b, 32)), 4},
		{"indexCount", int64(be32(b, 36)), 5},
	} {
		if h.got != h.want {
			t.Errorf("header %s = %d, want %d", h.name, h.got, h.want)
		}
	}
	if it := readRawItem(b, testSlots, 0); it != (rawItem{}) {
		t.Errorf("item 0 = %+v, want unused zeros", it)
	}
	// Model: each put becomes item i (from 1), chained to its slot's head.
	heads := map[int]int32{}
	for i, p := range puts {
		n := int32(i + 1)
		hash := abs32(javaHashCode("T#" + p.key))
		slot := int(hash) % testSlots
		want := rawItem{hash: hash, phys: p.phys, timeDiff: int32((p.ts - t0) / 1000), prev: heads[slot]}
		heads[slot] = n
		if got := readRawItem(b, testSlots, int(n)); got != want {
			t.Errorf("item %d (%s) = %+v, want %+v", n, p.key, got, want)
		}
	}
	for s := 0; s < testSlots; s++ {
		if got := rawSlot(b, s); got != heads[s] {
			t.Errorf("slot %d = %d, want %d", s, got, heads[s])
		}
	}
	if heads[int(abs32(javaHashCode("T#Aa")))%testSlots] != 3 {
		t.Error("test premise: T#BB (item 3) heads the slot it shares with T#Aa")
	}
	if got := readRawItem(b, testSlots, 3).prev; got != 2 {
		t.Errorf("T#BB chains to item %d, want 2 (T#Aa)", got)
	}
	for n := len(puts) + 1; n < testItems; n++ {
		if it := readRawItem(b, testSlots, n); it != (rawItem{}) {
			t.Errorf("item %d = %+v, want zeros", n, it)
		}
	}
}

// TestFullFileRollsToSecondFile: indexCount reaching maxIndexNum starts a
// new file named one millisecond later (same clock), beginning where the
// full one ended; queries walk both.
func TestFullFileRollsToSecondFile(t *testing.T) {
	dir := t.TempDir()
	clock := newClock()
	x := openTest(t, testConfig(dir, clock))
	for i := int64(1); i <= 7; i++ {
		mustPut(t, x, "T", "k", i*10, t0+i*1000)
	}
	if err := x.Flush(); err != nil {
		t.Fatal(err)
	}
	names := testkit.DirNames(t, dir)
	if want := []string{"20240506070809123", "20240506070809124"}; !slices.Equal(names, want) {
		t.Fatalf("files %v, want %v", names, want)
	}
	first, second := fileBytes(t, dir, names[0]), fileBytes(t, dir, names[1])
	if c := be32(first, 36); c != testItems {
		t.Errorf("first file indexCount %d, want %d (full)", c, testItems)
	}
	if be64(first, 24) != 50 || be64(first, 8) != t0+5000 {
		t.Errorf("first file ends at %d/%d, want 50/%d", be64(first, 24), be64(first, 8), t0+5000)
	}
	if be32(second, 36) != 3 || be64(second, 16) != 60 || be64(second, 0) != t0+6000 ||
		be64(second, 24) != 70 || be64(second, 8) != t0+7000 {
		t.Errorf("second file header count %d begin %d/%d end %d/%d, want 3, 60/%d, 70/%d",
			be32(second, 36), be64(second, 16), be64(second, 0), be64(second, 24), be64(second, 8), t0+6000, t0+7000)
	}
	if it := readRawItem(second, testSlots, 1); it.phys != 60 || it.prev != 0 || it.timeDiff != 0 {
		t.Errorf("second file item 1 = %+v, want offset 60, no predecessor, timeDiff 0", it)
	}
	if got := x.Query("T", "k", 64, 0, math.MaxInt64); !slices.Equal(got, []int64{10, 20, 30, 40, 50, 60, 70}) {
		t.Fatalf("Query across files = %v", got)
	}
	if ts, phy := x.LastUpdate(); ts != t0+7000 || phy != 70 {
		t.Fatalf("LastUpdate = %d, %d", ts, phy)
	}
}

func TestQueryTimeRangeAndLimit(t *testing.T) {
	x := openTest(t, testConfig(t.TempDir(), newClock()))
	for i := int64(0); i < 8; i++ { // two files: 5 + 3 items
		mustPut(t, x, "T", "k", 10+i*10, t0+i*1000)
	}
	mustPut(t, x, "T", "other", 90, t0+8000)
	for _, tc := range []struct {
		name       string
		maxNum     int
		begin, end int64
		want       []int64
	}{
		{name: "all", maxNum: 64, begin: 0, end: math.MaxInt64, want: []int64{10, 20, 30, 40, 50, 60, 70, 80}},
		{name: "middle spans both files", maxNum: 64, begin: t0 + 3000, end: t0 + 5500, want: []int64{40, 50, 60}},
		{name: "newer only", maxNum: 64, begin: t0 + 6000, end: math.MaxInt64, want: []int64{70, 80}},
		{name: "limit keeps the newest", maxNum: 3, begin: 0, end: math.MaxInt64, want: []int64{60, 70, 80}},
		{name: "after everything", maxNum: 64, begin: t0 + 9000, end: math.MaxInt64, want: nil},
		{name: "before everything", maxNum: 64, begin: 0, end: t0 - 1, want: nil},
		{name: "zero max", maxNum: 0, begin: 0, end: math.MaxInt64, want: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := x.Query("T", "k", tc.maxNum, tc.begin, tc.end); !slices.Equal(got, tc.want) {
				t.Fatalf("Query = %v, want %v", got, tc.want)
			}
		})
	}
	if got := x.Query("T", "missing", 64, 0, math.MaxInt64); got != nil {
		t.Fatalf("missing key: %v", got)
	}
}

// TestQuerySecondPrecision: an item's time is its file's begin plus whole
// seconds, so a record stored 2.999 s after the begin reads as 2 s.
func TestQuerySecondPrecision(t *testing.T) {
	x := openTest(t, testConfig(t.TempDir(), newClock()))
	mustPut(t, x, "T", "k", 10, t0)
	mustPut(t, x, "T", "k", 20, t0+2999)
	if got := x.Query("T", "k", 64, t0+2001, math.MaxInt64); got != nil {
		t.Fatalf("Query from t0+2001 = %v, want none (item time t0+2000)", got)
	}
	if got := x.Query("T", "k", 64, t0+2000, math.MaxInt64); !slices.Equal(got, []int64{20}) {
		t.Fatalf("Query from t0+2000 = %v, want [20]", got)
	}
}

// TestQueryReturnsHashCollisions: T#Aa and T#BB hash alike; the index
// cannot tell them apart (the caller checks the records' keys).
func TestQueryReturnsHashCollisions(t *testing.T) {
	x := openTest(t, testConfig(t.TempDir(), newClock()))
	mustPut(t, x, "T", "Aa", 10, t0)
	mustPut(t, x, "T", "BB", 20, t0)
	mustPut(t, x, "T", "zz", 30, t0)
	if got := x.Query("T", "Aa", 64, 0, math.MaxInt64); !slices.Equal(got, []int64{10, 20}) {
		t.Fatalf("Query(T#Aa) = %v, want [10 20]", got)
	}
}

func TestPutSkipsWhatIsIndexed(t *testing.T) {
	x := openTest(t, testConfig(t.TempDir(), newClock()))
	mustPut(t, x, "T", "a", 100, t0)
	mustPut(t, x, "T", "b", 200, t0)
	for _, tc := range []struct {
		name string
		key  string
		phys int64
		want bool
	}{
		{name: "below the end offset", key: "c", phys: 150, want: false},
		{name: "same key and record at the end", key: "b", phys: 200, want: false},
		{name: "another key of the record at the end", key: "a", phys: 200, want: true},
		{name: "a later record", key: "b", phys: 300, want: true},
	} {
		ok, err := x.Put("T", tc.key, tc.phys, t0)
		if err != nil || ok != tc.want {
			t.Errorf("%s: Put = %v, %v; want %v", tc.name, ok, err, tc.want)
		}
	}
	if got := x.Query("T", "b", 64, 0, math.MaxInt64); !slices.Equal(got, []int64{200, 300}) {
		t.Fatalf("Query(T#b) = %v", got)
	}
}

func TestReopenContinuesTheLastFile(t *testing.T) {
	dir := t.TempDir()
	clock := newClock()
	x := openTest(t, testConfig(dir, clock))
	mustPut(t, x, "T", "k", 10, t0)
	mustPut(t, x, "T", "k", 20, t0+1000)
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	clock.now = clock.now.Add(time.Hour)
	y := openTest(t, testConfig(dir, clock))
	if got := y.EndPhyOffset(); got != 20 {
		t.Fatalf("EndPhyOffset after reopen = %d, want 20", got)
	}
	if ok, _ := y.Put("T", "k", 20, t0+1000); ok {
		t.Fatal("the record at the end offset was indexed again after reopen")
	}
	mustPut(t, y, "T", "k", 30, t0+2000)
	if got := y.Query("T", "k", 64, 0, math.MaxInt64); !slices.Equal(got, []int64{10, 20, 30}) {
		t.Fatalf("Query after reopen = %v", got)
	}
	if names := testkit.DirNames(t, dir); len(names) != 1 {
		t.Fatalf("files %v, want the one file continued", names)
	}
}

// TestCrashBeforeSlotUpdateReindexes: a kill -9 after put wrote the item and
// the header but not the slot leaves the item unreachable; indexing the
// record again after the restart makes it reachable, once.
func TestCrashBeforeSlotUpdateReindexes(t *testing.T) {
	dir := t.TempDir()
	clock := newClock()
	x := openTest(t, testConfig(dir, clock))
	mustPut(t, x, "T", "a", 10, t0)
	mustPut(t, x, "T", "b", 20, t0)
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	// Undo the slot store of the last put.
	name := testkit.DirNames(t, dir)[0]
	b := fileBytes(t, dir, name)
	slot := int(KeyHash("T", "b")) % testSlots
	p := HeaderBytes + slot*SlotBytes
	b[p], b[p+1], b[p+2], b[p+3] = 0, 0, 0, byte(readRawItem(b, testSlots, 2).prev)
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}

	y := openTest(t, testConfig(dir, clock))
	if got := y.Query("T", "b", 64, 0, math.MaxInt64); got != nil {
		t.Fatalf("test premise: the orphaned item is reachable: %v", got)
	}
	mustPut(t, y, "T", "b", 20, t0) // re-indexing resumes at the end offset
	if got := y.Query("T", "b", 64, 0, math.MaxInt64); !slices.Equal(got, []int64{20}) {
		t.Fatalf("Query after re-indexing = %v, want [20]", got)
	}
	if ok, _ := y.Put("T", "b", 20, t0); ok {
		t.Fatal("indexed twice")
	}
}

// TestTruncateFrom: items at or beyond a lost commit-log tail go, slots get
// their previous heads back, emptied files are deleted, and indexing
// resumes below the old end.
func TestTruncateFrom(t *testing.T) {
	dir := t.TempDir()
	x := openTest(t, testConfig(dir, newClock()))
	keys := []string{"a", "b", "a", "b", "a", "b", "a"} // offsets 10..70: files of 5 + 2
	for i, k := range keys {
		mustPut(t, x, "T", k, int64(10+i*10), t0+int64(i)*1000)
	}
	if err := x.TruncateFrom(65); err != nil {
		t.Fatal(err)
	}
	if got := x.EndPhyOffset(); got != 60 {
		t.Fatalf("EndPhyOffset = %d, want 60", got)
	}
	if got := x.Query("T", "a", 64, 0, math.MaxInt64); !slices.Equal(got, []int64{10, 30, 50}) {
		t.Fatalf("T#a after truncating from 65: %v", got)
	}
	if got := x.Query("T", "b", 64, 0, math.MaxInt64); !slices.Equal(got, []int64{20, 40, 60}) {
		t.Fatalf("T#b after truncating from 65: %v", got)
	}

	if err := x.TruncateFrom(35); err != nil {
		t.Fatal(err)
	}
	if err := x.Flush(); err != nil {
		t.Fatal(err)
	}
	names := testkit.DirNames(t, dir)
	if len(names) != 1 {
		t.Fatalf("files %v, want the emptied second file deleted", names)
	}
	b := fileBytes(t, dir, names[0])
	if be32(b, 36) != 4 || be32(b, 32) != 3 || be64(b, 24) != 30 || be64(b, 8) != t0+2000 {
		t.Fatalf("header after truncation: count %d slotCount %d end %d/%d", be32(b, 36), be32(b, 32), be64(b, 24), be64(b, 8))
	}
	for n := 4; n < testItems; n++ {
		if it := readRawItem(b, testSlots, n); it != (rawItem{}) {
			t.Fatalf("dropped item %d not cleared: %+v", n, it)
		}
	}
	for _, k := range []string{"a", "b"} {
		if head := rawSlot(b, int(KeyHash("T", k))%testSlots); head != 3 && head != 2 {
			t.Fatalf("slot of %s heads item %d, want a surviving item", k, head)
		}
	}
	// New records at the lost offsets are indexed again.
	mustPut(t, x, "T", "b", 40, t0+3000)
	if got := x.Query("T", "b", 64, 0, math.MaxInt64); !slices.Equal(got, []int64{20, 40}) {
		t.Fatalf("T#b after re-indexing: %v", got)
	}
	if err := x.TruncateFrom(0); err != nil {
		t.Fatal(err)
	}
	if names := testkit.DirNames(t, dir); len(names) != 0 || x.EndPhyOffset() != 0 {
		t.Fatalf("after truncating everything: files %v, end %d", names, x.EndPhyOffset())
	}
}

// TestTruncateDropsAFileCreatedBeforeACrash: a crash right after a roll
// leaves a newest file without items and with a zero header; TruncateFrom
// deletes it, so indexing resumes at the previous file's end, not at 0.
func TestTruncateDropsAFileCreatedBeforeACrash(t *testing.T) {
	dir := t.TempDir()
	clock := newClock()
	x := openTest(t, testConfig(dir, clock))
	for i := int64(1); i <= 5; i++ { // fills the first file
		mustPut(t, x, "T", "k", i*10, t0+i)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "20991231235959999"), make([]byte, testBytes), 0o644); err != nil {
		t.Fatal(err)
	}
	y := openTest(t, testConfig(dir, clock))
	if got := y.EndPhyOffset(); got != 0 {
		t.Fatalf("EndPhyOffset before TruncateFrom = %d, want the zero header's 0", got)
	}
	if err := y.TruncateFrom(1000); err != nil {
		t.Fatal(err)
	}
	if got := y.EndPhyOffset(); got != 50 {
		t.Fatalf("EndPhyOffset = %d, want 50", got)
	}
	if ok, _ := y.Put("T", "k", 50, t0+5); ok {
		t.Fatal("the record at the end offset was indexed again")
	}
	mustPut(t, y, "T", "k", 60, t0+6)
	if got := y.Query("T", "k", 64, 0, math.MaxInt64); !slices.Equal(got, []int64{10, 20, 30, 40, 50, 60}) {
		t.Fatalf("Query = %v", got)
	}
	if names := testkit.DirNames(t, dir); len(names) != 2 || names[1] == "20991231235959999" {
		t.Fatalf("files %v, want the first file and a new one", names)
	}
}

func TestDeleteBelowKeepsTheNewestFile(t *testing.T) {
	dir := t.TempDir()
	x := openTest(t, testConfig(dir, newClock()))
	for i := int64(1); i <= 11; i++ { // files ending at 50, 100, 110
		mustPut(t, x, "T", "k", i*10, t0+i)
	}
	for _, tc := range []struct {
		min         int64
		wantDeleted int
		wantFiles   int
	}{
		{min: 50, wantDeleted: 0, wantFiles: 3}, // end 50 is not below 50
		{min: 60, wantDeleted: 1, wantFiles: 2},
		{min: 1000, wantDeleted: 1, wantFiles: 1}, // never the newest
	} {
		n, err := x.DeleteBelow(tc.min)
		if err != nil || n != tc.wantDeleted {
			t.Fatalf("DeleteBelow(%d) = %d, %v; want %d", tc.min, n, err, tc.wantDeleted)
		}
		if names := testkit.DirNames(t, dir); len(names) != tc.wantFiles {
			t.Fatalf("after DeleteBelow(%d): files %v", tc.min, names)
		}
	}
	if got := x.Query("T", "k", 64, 0, math.MaxInt64); !slices.Equal(got, []int64{110}) {
		t.Fatalf("Query = %v, want [110]", got)
	}
}

func TestOpenFiles(t *testing.T) {
	t.Run("wrong size is refused", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "20240101000000000"), make([]byte, 100), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(testConfig(dir, newClock())); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Open: %v, want ErrCorrupt", err)
		}
	})
	t.Run("empty file is sized and used", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "20240101000000000"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		x := openTest(t, testConfig(dir, newClock()))
		mustPut(t, x, "T", "k", 10, t0)
		if err := x.Close(); err != nil {
			t.Fatal(err)
		}
		if names := testkit.DirNames(t, dir); !slices.Equal(names, []string{"20240101000000000", "notes.txt"}) {
			t.Fatalf("files %v", names)
		}
		if b := fileBytes(t, dir, "20240101000000000"); len(b) != testBytes || be64(b, 24) != 10 {
			t.Fatalf("file %d bytes, end %d", len(b), be64(b, 24))
		}
	})
	t.Run("a new name follows the newest one", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "20991231235959999"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		x := openTest(t, testConfig(dir, newClock()))
		for i := int64(1); i <= 6; i++ { // the sixth put rolls
			mustPut(t, x, "T", "k", i, t0)
		}
		if names := testkit.DirNames(t, dir); !slices.Equal(names, []string{"20991231235959999", "21000101000000000"}) {
			t.Fatalf("files %v", names)
		}
	})
}

func TestCallsAfterClose(t *testing.T) {
	x := openTest(t, testConfig(t.TempDir(), newClock()))
	mustPut(t, x, "T", "k", 10, t0)
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Put("T", "k", 20, t0); !errors.Is(err, ErrClosed) {
		t.Fatalf("Put after Close: %v", err)
	}
	if got := x.Query("T", "k", 64, 0, math.MaxInt64); got != nil {
		t.Fatalf("Query after Close: %v", got)
	}
	if err := x.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestEachKeyHash: UNIQ_KEY first, then each non-empty KEYS entry in order
// (a repeated entry twice), nothing for empty values.
func TestEachKeyHash(t *testing.T) {
	var got []int32
	EachKeyHash("T", "u", " a  b a", func(h int32) { got = append(got, h) })
	want := []int32{KeyHash("T", "u"), KeyHash("T", "a"), KeyHash("T", "b"), KeyHash("T", "a")}
	if !slices.Equal(got, want) {
		t.Fatalf("hashes %v, want %v", got, want)
	}
	got = got[:0]
	EachKeyHash("T", "", "", func(h int32) { got = append(got, h) })
	EachKeyHash("T", "", "   ", func(h int32) { got = append(got, h) })
	if len(got) != 0 {
		t.Fatalf("hashes %v for no keys", got)
	}
}
