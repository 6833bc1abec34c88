package commitlog

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkFlushGroup measures what a SYNC_FLUSH group commit waits for: one
// Flush (msync) of a group of records just appended, with a goroutine
// preparing 32 MiB ahead of the write position as the writer's
// prefaulter does, either with CreateAhead (blocks stay allocated but
// unwritten until the records' own flush converts them) or with
// PrefaultWritten (the zeros ahead are written back first). ns/op is one
// append plus flush; p50-µs and p99-µs are the flush alone. Run it on the
// file system the store uses (TMPDIR): the difference is the file system's.
//
//	go test -run x -bench FlushGroup -benchtime 2000x ./storage/commitlog
func BenchmarkFlushGroup(b *testing.B) {
	for _, group := range []int{40 << 10, 200} {
		for _, written := range []bool{false, true} {
			name := fmt.Sprintf("group=%d/ahead=unwritten", group)
			if written {
				name = fmt.Sprintf("group=%d/ahead=written", group)
			}
			b.Run(name, func(b *testing.B) { benchmarkFlushGroup(b, group, written) })
		}
	}
}

func benchmarkFlushGroup(b *testing.B, group int, written bool) {
	const fileSize = 256 << 20
	const ahead = 32 << 20
	l := openBenchLog(b, fileSize)
	prefault := l.CreateAhead
	if written {
		prefault = l.PrefaultWritten
	}
	pre := startBenchPrefaulter(b, prefault, ahead)
	rec := testRecord(1, 128)
	perGroup := max(1, group/len(rec))
	flushes := make([]time.Duration, 0, b.N)
	b.SetBytes(int64(perGroup * len(rec)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var pos int64
		var err error
		for j := 0; j < perGroup; j++ {
			if pos, err = l.Append(rec, int64(i), int64(i)); err != nil {
				b.Fatal(err)
			}
		}
		t := time.Now()
		if _, err := l.Flush(); err != nil {
			b.Fatal(err)
		}
		flushes = append(flushes, time.Since(t))
		pre.poke(pos)
		trimBenchLog(b, l, fileSize)
	}
	b.StopTimer()
	pre.stop()
	slices.Sort(flushes)
	at := func(q float64) float64 { return float64(flushes[int(float64(len(flushes)-1)*q)].Microseconds()) }
	b.ReportMetric(at(0.5), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}
