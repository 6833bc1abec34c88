package commitlog

import (
	"math"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkAppend measures the writer's cost per record (Append: stage,
// patch, pwrite, publish) with 128-byte bodies; segment creation is
// amortized in, segment deletion is not. minflt/op counts the page faults
// the appending thread takes.
func BenchmarkAppend(b *testing.B) { benchmarkAppend(b, false) }

// BenchmarkAppendCreateAhead is BenchmarkAppend with a goroutine that keeps
// the next segment created 32 MiB ahead of the write position
// (CreateAhead, as an ASYNC_FLUSH broker's prefaulter actor does): segment
// creation leaves the appending thread.
func BenchmarkAppendCreateAhead(b *testing.B) { benchmarkAppend(b, true) }

// BenchmarkAppendPrefaultedWritten is BenchmarkAppendCreateAhead with
// PrefaultWritten, as a SYNC_FLUSH broker prefaults: the zeros written back
// ahead share the file with the appends.
func BenchmarkAppendPrefaultedWritten(b *testing.B) { benchmarkAppendWith(b, true, true) }

func benchmarkAppend(b *testing.B, prefault bool) { benchmarkAppendWith(b, prefault, false) }

func benchmarkAppendWith(b *testing.B, prefault, written bool) {
	const fileSize = 64 << 20
	const ahead = 32 << 20
	l := openBenchLog(b, fileSize)
	// The prefaulter runs one call per wake-up; the appending loop
	// wakes it each time it has written ahead/2 since the last wake-up.
	wake := make(chan struct{}, 1)
	done := make(chan struct{})
	next := int64(math.MaxInt64)
	if prefault {
		next = 0
		go func() {
			defer close(done)
			for range wake {
				pf := l.CreateAhead
				if written {
					pf = l.PrefaultWritten
				}
				if _, err := pf(ahead); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	} else {
		close(done)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	rec := testRecord(1, 128)
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	b.ResetTimer()
	flt0 := threadMinflt()
	for i := 0; i < b.N; i++ {
		pos, err := l.Append(rec, int64(i), int64(i))
		if err != nil {
			b.Fatal(err)
		}
		if pos >= next {
			next = pos + ahead/2
			select {
			case wake <- struct{}{}:
			default:
			}
		}
		// Keep the temp dir small on long runs.
		if i&0xffff == 0 && l.WrotePosition()-l.MinOffset() > 4*fileSize {
			b.StopTimer()
			if _, err := l.DeleteExpiredFiles(time.Now().Add(time.Hour), true, 100); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(threadMinflt()-flt0)/float64(b.N), "minflt/op")
	b.StopTimer()
	if prefault {
		close(wake)
	}
	<-done
}

// threadMinflt is the calling thread's minor page fault count.
func threadMinflt() int64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return ru.Minflt
}

// BenchmarkRead measures a zero-copy read plus its Release (the pull path).
func BenchmarkRead(b *testing.B) {
	l := openTest(b, b.TempDir(), nil)
	defer l.Close()
	recs := appendN(b, l, 0, 8)
	a := recs[3]
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := l.Read(a.offset, len(a.rec))
		if err != nil {
			b.Fatal(err)
		}
		s.Release()
	}
}

// openBenchLog opens and recovers an empty CommitLog in a temp dir for a
// benchmark, closed when the benchmark ends.
func openBenchLog(b *testing.B, fileSize int64) *CommitLog {
	b.Helper()
	l, err := Open(Config{Dir: b.TempDir(), FileSize: fileSize})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	if _, err := l.Recover(false, 0); err != nil {
		b.Fatal(err)
	}
	return l
}

// benchPrefaulter runs prefault on a goroutine of its own, as the broker's
// prefaulter does: once before the clock starts, then again whenever the
// write position has moved ahead/2 past the last wake (poke).
type benchPrefaulter struct {
	wake       chan struct{}
	done       chan struct{}
	next, half int64
}

func startBenchPrefaulter(b *testing.B, prefault func(int64) (int64, error), ahead int64) *benchPrefaulter {
	if _, err := prefault(ahead); err != nil {
		b.Fatal(err)
	}
	p := &benchPrefaulter{wake: make(chan struct{}, 1), done: make(chan struct{}), next: ahead / 2, half: ahead / 2}
	go func() {
		defer close(p.done)
		for range p.wake {
			if _, err := prefault(ahead); err != nil {
				b.Error(err)
				return
			}
		}
	}()
	return p
}

// poke wakes the prefaulter when pos passed the next mark.
func (p *benchPrefaulter) poke(pos int64) {
	if pos < p.next {
		return
	}
	p.next = pos + p.half
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *benchPrefaulter) stop() {
	close(p.wake)
	<-p.done
}

// trimBenchLog deletes the oldest segments, off the clock, once the log
// holds more than two of fileSize, so a long benchmark stays on disk.
func trimBenchLog(b *testing.B, l *CommitLog, fileSize int64) {
	if l.WrotePosition()-l.MinOffset() <= 2*fileSize {
		return
	}
	b.StopTimer()
	if _, err := l.DeleteExpiredFiles(time.Now().Add(time.Hour), true, 100); err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
}
