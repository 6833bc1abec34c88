package consumequeue

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

func TestTruncateDirty(t *testing.T) {
	cases := []struct {
		name      string
		phyOffset int64
		want      offsets
		wantFiles []string
	}{
		{"nothing dirty", 5000, offsets{0, 12, 1200}, []string{"00000000000000000000", "00000000000000000100", "00000000000000000200"}},
		{"inside the last file", 1100, offsets{0, 11, 1100}, []string{"00000000000000000000", "00000000000000000100", "00000000000000000200"}},
		{"at a file boundary", 1000, offsets{0, 10, 1000}, []string{"00000000000000000000", "00000000000000000100"}},
		{"record torn in the middle", 650, offsets{0, 7, 700}, []string{"00000000000000000000", "00000000000000000100"}},
		{"everything", 0, offsets{0, 0, 0}, []string{"00000000000000000000"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			q := openTest(t, root, smallFile)
			putRange(t, q, 0, 12)
			if err := q.TruncateDirty(tc.phyOffset); err != nil {
				t.Fatal(err)
			}
			if got := offsetsOf(q); got != tc.want {
				t.Fatalf("offsets = %+v, want %+v", got, tc.want)
			}
			if got := queueFiles(t, root); !slices.Equal(got, tc.wantFiles) {
				t.Fatalf("files = %v, want %v", got, tc.wantFiles)
			}
			// The cut is durable: a reopen sees the same end.
			q.Close()
			q = openTest(t, root, smallFile)
			if got := offsetsOf(q); got != tc.want {
				t.Fatalf("after reopen offsets = %+v, want %+v", got, tc.want)
			}
			// And the queue continues from there.
			putRange(t, q, tc.want.max, tc.want.max+3)
			if got := q.MaxOffset(); got != tc.want.max+3 {
				t.Fatalf("max after append = %d", got)
			}
		})
	}
}

func TestTruncateDirtyKeepsFillers(t *testing.T) {
	root := t.TempDir()
	q := openTest(t, root, smallFile)
	if err := q.Put(3, msgUnit(3)); err != nil {
		t.Fatal(err)
	}
	if err := q.TruncateDirty(100); err != nil {
		t.Fatal(err)
	}
	// Unit 3 is gone; fillers 0..2 stay and no message remains.
	if got, want := offsetsOf(q), (offsets{3, 3, 0}); got != want {
		t.Fatalf("offsets = %+v, want %+v", got, want)
	}
	// The next unit makes MinOffset point at it again.
	if err := q.Put(3, Unit{CommitLogOffset: 100, Size: 50}); err != nil {
		t.Fatal(err)
	}
	if got, want := offsetsOf(q), (offsets{3, 4, 150}); got != want {
		t.Fatalf("offsets = %+v, want %+v", got, want)
	}
}

func TestDeleteBelow(t *testing.T) {
	root := t.TempDir()
	q := openTest(t, root, smallFile)
	putRange(t, q, 0, 12) // unit i points at commit-log offset i*100
	if err := q.DeleteBelow(0); err != nil {
		t.Fatal(err)
	}
	if got := len(queueFiles(t, root)); got != 3 {
		t.Fatalf("DeleteBelow(0) left %d files", got)
	}
	// Commit log now starts at 720: file 0 (units 0..4) expires, file 1's last
	// unit (9 → 900) does not; the first unit at or above 720 is 8.
	if err := q.DeleteBelow(720); err != nil {
		t.Fatal(err)
	}
	if got, want := offsetsOf(q), (offsets{8, 12, 1200}); got != want {
		t.Fatalf("offsets = %+v, want %+v", got, want)
	}
	if got, want := queueFiles(t, root), []string{"00000000000000000100", "00000000000000000200"}; !slices.Equal(got, want) {
		t.Fatalf("files = %v, want %v", got, want)
	}
	if _, err := q.Get(4, make([]Unit, 0, 1)); !errors.Is(err, ErrOffsetGone) {
		t.Fatalf("Get of a deleted unit: err = %v", err)
	}
	// The newest file is never deleted, even when every unit has expired.
	if err := q.DeleteBelow(5000); err != nil {
		t.Fatal(err)
	}
	if got, want := offsetsOf(q), (offsets{12, 12, 1200}); got != want {
		t.Fatalf("offsets = %+v, want %+v", got, want)
	}
	if got, want := queueFiles(t, root), []string{"00000000000000000200"}; !slices.Equal(got, want) {
		t.Fatalf("files = %v, want %v", got, want)
	}
	q.Close()
	q = openTest(t, root, smallFile)
	if got := q.MaxOffset(); got != 12 {
		t.Fatalf("max after reopen = %d", got)
	}
}

func TestCloseAndDestroy(t *testing.T) {
	root := t.TempDir()
	q := openTest(t, root, smallFile)
	putRange(t, q, 0, 3)
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := q.Put(3, msgUnit(3)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Put after Close: %v", err)
	}
	if _, err := q.Get(0, make([]Unit, 0, 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
	if err := q.Flush(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Flush after Close: %v", err)
	}
	q = openTest(t, root, smallFile)
	if err := q.Destroy(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "TopicA")); !os.IsNotExist(err) {
		t.Fatalf("topic directory still there: %v", err)
	}
	q = openTest(t, root, smallFile)
	if got := offsetsOf(q); got != (offsets{}) {
		t.Fatalf("queue after Destroy: %+v", got)
	}
}

// TestConcurrentReaders runs readers against the owner's Puts, file
// creation and deletion; with -race it checks the locking contract.
func TestConcurrentReaders(t *testing.T) {
	q := openTest(t, t.TempDir(), smallFile)
	const total = 400
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 4)
	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]Unit, 0, 8)
			for {
				select {
				case <-stop:
					return
				default:
				}
				from := max(q.MinOffset(), q.MaxOffset()-6)
				got, err := q.Get(from, buf)
				if errors.Is(err, ErrOffsetGone) {
					continue // deleted between MinOffset and Get
				}
				if err != nil {
					errs <- err
					return
				}
				for i, u := range got {
					if want := msgUnit(from + int64(i)); u != want {
						errs <- errors.New("reader saw a unit that was not written yet")
						return
					}
				}
				if err := q.Flush(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := int64(0); i < total; i++ {
		if err := q.Put(i, msgUnit(i)); err != nil {
			t.Fatal(err)
		}
		if i%25 == 0 {
			if err := q.DeleteBelow((i - 10) * 100); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := q.MaxOffset(); got != total {
		t.Fatalf("max = %d", got)
	}
}

// TestPutAfterTruncateDirtyWritesAtTheNewEnd checks that Puts right after a
// truncation, without a reopen (the store's re-dispatch after a crash),
// land at the new end: Put keeps the slot after the last unit (queue.tail)
// and must not use the one from before the cut.
func TestPutAfterTruncateDirtyWritesAtTheNewEnd(t *testing.T) {
	q := openTest(t, t.TempDir(), 0)
	putRange(t, q, 0, 10)
	if err := q.TruncateDirty(msgUnit(6).CommitLogOffset); err != nil {
		t.Fatal(err)
	}
	again := func(i int64) Unit { u := msgUnit(i); u.TagsCode = -i; return u }
	for i := int64(6); i < 8; i++ {
		if err := q.Put(i, again(i)); err != nil {
			t.Fatalf("Put(%d): %v", i, err)
		}
	}
	want := make([]Unit, 0, 8)
	for i := range int64(8) {
		if i < 6 {
			want = append(want, msgUnit(i))
		} else {
			want = append(want, again(i))
		}
	}
	if got := getAll(t, q, 0, 10); !slices.Equal(got, want) {
		t.Fatalf("units after truncating at 6 and putting 6 and 7 again:\n got %v\nwant %v", got, want)
	}
}
