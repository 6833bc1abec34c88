package commitlog

import (
	"errors"
	"sync"
	"syscall"
	"testing"
)

func TestConcurrentFlushAndReadWhileAppending(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, newFaultFS())
	const total = 400
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 3)

	wg.Add(1)
	go func() { // the flusher
		defer wg.Done()
		var last int64
		for {
			select {
			case <-done:
				return
			default:
			}
			got, err := l.Flush()
			if err != nil {
				errs <- err
				return
			}
			if got < last {
				errs <- errors.New("flushed position went backwards")
				return
			}
			last = got
		}
	}()
	wg.Add(1)
	go func() { // a reader scanning whatever is published
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := l.Scan(0, func(off int64, rec []byte) bool {
				return rec[0] != 0xff // touch the bytes
			}); err != nil {
				errs <- err
				return
			}
		}
	}()

	recs := appendN(t, l, 0, total)
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	flushed, err := l.Flush()
	if err != nil || flushed != l.WrotePosition() {
		t.Fatalf("final Flush = %d, %v; want %d", flushed, err, l.WrotePosition())
	}
	if l.FlushedPosition() != flushed {
		t.Fatalf("FlushedPosition %d", l.FlushedPosition())
	}
	for _, a := range recs {
		checkStored(t, l, a)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestFlushFailureIsSticky(t *testing.T) {
	fs := newFaultFS()
	l := openTest(t, t.TempDir(), fs)
	recs := appendN(t, l, 0, 5)
	if _, err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	flushed := l.FlushedPosition()
	appendN(t, l, 5, 1)

	fs.syncErr.Store(true)
	_, err := l.Flush()
	if !errors.Is(err, syscall.EIO) || !errors.Is(err, ErrNotWritable) {
		t.Fatalf("Flush = %v, want EIO wrapped in ErrNotWritable", err)
	}
	if l.FlushedPosition() != flushed {
		t.Fatalf("FlushedPosition moved to %d after a failed flush", l.FlushedPosition())
	}
	syncs := fs.syncs.Load()

	// The failure stays, even once the disk "works" again: no retried fsync.
	fs.syncErr.Store(false)
	if _, err := l.Append(testRecord(9, 10), 0, 1); !errors.Is(err, ErrNotWritable) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("Append after failed flush = %v, want ErrNotWritable", err)
	}
	if _, err := l.Flush(); !errors.Is(err, ErrNotWritable) {
		t.Fatalf("second Flush = %v", err)
	}
	if fs.syncs.Load() != syncs {
		t.Fatalf("Flush retried msync after a failure")
	}
	// Reads keep working.
	checkStored(t, l, recs[2])
	if err := l.Close(); !errors.Is(err, ErrNotWritable) {
		t.Fatalf("Close = %v, want the sticky error", err)
	}
}
