package index

import (
	"bytes"
	"path/filepath"
	"slices"
	"testing"

	"github.com/actormq/actormq/internal/testkit"
)

// TestPutKeysWritesWhatPutWrites: PutKeys leaves the files byte for byte
// as Put of the same keys one at a time does (chains sharing slots, a
// key already indexed for the record at the end, a roll to a second file
// in the middle of a batch) and reports the items it wrote.
func TestPutKeysWritesWhatPutWrites(t *testing.T) {
	type put struct {
		topic, key string
		phys, ts   int64
	}
	puts := []put{
		{"T", "a", 100, t0}, {"T", "b", 100, t0}, {"T", "a", 200, t0 + 1500},
		{"T", "c", 300, t0 + 2000}, {"T", "a", 300, t0 + 2000}, // three keys of one record
		{"T", "a", 300, t0 + 2000},                             // indexed already: skipped
		{"T", "d", 400, t0 + 3000}, {"U", "a", 500, t0 + 4000}, // the fifth item, then a roll
		{"T", "a", 600, t0 + 5000},
		{"T", "e", 50, t0}, // below the end: skipped
	}
	dirPut, dirKeys := filepath.Join(t.TempDir(), "put"), filepath.Join(t.TempDir(), "keys")
	clock := newClock()
	one := openTest(t, testConfig(dirPut, clock))
	wrotePut := 0
	for _, p := range puts {
		ok, err := one.Put(p.topic, p.key, p.phys, p.ts)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			wrotePut++
		}
	}
	clock = newClock()
	batched := openTest(t, testConfig(dirKeys, clock))
	keys := make([]Key, len(puts))
	for i, p := range puts {
		keys[i] = Key{Hash: KeyHash(p.topic, p.key), Phys: p.phys, StoreTimestamp: p.ts}
	}
	wroteKeys, err := batched.PutKeys(keys[:4])
	if err != nil {
		t.Fatal(err)
	}
	n, err := batched.PutKeys(keys[4:])
	if err != nil {
		t.Fatal(err)
	}
	if wroteKeys += n; wroteKeys != wrotePut || wrotePut != 8 {
		t.Fatalf("PutKeys wrote %d items, Put %d; want 8", wroteKeys, wrotePut)
	}
	if err := one.Close(); err != nil {
		t.Fatal(err)
	}
	if err := batched.Close(); err != nil {
		t.Fatal(err)
	}
	files := testkit.DirNames(t, dirPut)
	if keyFiles := testkit.DirNames(t, dirKeys); len(files) != 2 || !slices.Equal(files, keyFiles) {
		t.Fatalf("files: Put %v, PutKeys %v; want the same two", files, keyFiles)
	}
	for _, name := range files {
		if !bytes.Equal(fileBytes(t, dirPut, name), fileBytes(t, dirKeys, name)) {
			t.Errorf("file %s differs between Put and PutKeys", name)
		}
	}
}
