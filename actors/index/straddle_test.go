package index

import (
	"encoding/binary"
	"path/filepath"
	"strconv"
	"testing"
)

// indexItems is how many items a's index files hold (each header's
// indexCount counts from 1). It closes the index.
func indexItems(t *testing.T, a *indexActor, dir string) int {
	t.Helper()
	n := 0
	for _, b := range indexFiles(t, a, dir) {
		n += int(int32(binary.BigEndian.Uint32(b[36:]))) - 1
	}
	return n
}

// TestHandOffAfterAScanAcrossRolls: files that roll every 7 items, and a
// start-up scan step that stops after any record before the batches come
// (so the first batch it overlaps hands over keys of records it read):
// the index holds as many items as the scan of everything writes, none
// twice, also where a record's keys straddle a roll
// (storeindex.Index.hasAtEnd). Headers of rolled files may differ (they
// follow where Advance ran), so items are counted, not bytes compared.
func TestHandOffAfterAScanAcrossRolls(t *testing.T) {
	clog := newLog(t, 4<<10)
	groups := handOffGroups(t, clog, handOffRecs())
	dir := t.TempDir()
	scan := openActor(t, filepath.Join(dir, "scan"), clog, 16, 8)
	for scan.catchUp(0, 0, noBound) {
	}
	want := indexItems(t, scan, filepath.Join(dir, "scan"))
	for stop := 1; stop <= 40; stop++ {
		sub := filepath.Join(dir, "late"+strconv.Itoa(stop))
		late := openActor(t, sub, clog, 16, 8)
		late.catchUp(stop, 0, noBound)
		for _, b := range groups {
			handOff(late, b, true)
		}
		if len(late.handoffs) != 0 || late.next != clog.WrotePosition() {
			t.Fatalf("scan of %d first: %d batches waiting, next %d, want %d", stop, len(late.handoffs), late.next, clog.WrotePosition())
		}
		if got := indexItems(t, late, sub); got != want {
			t.Errorf("scan of %d records first: %d items, the scan of everything wrote %d", stop, got, want)
		}
	}
}
