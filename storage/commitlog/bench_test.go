package commitlog

import (
	"testing"
	"time"
)

// BenchmarkAppend measures the writer's cost per record (copy into the
// mapping, patch, publish) with 128-byte bodies; segment creation is
// amortized in, segment deletion is not.
func BenchmarkAppend(b *testing.B) {
	const fileSize = 64 << 20
	l, err := Open(Config{Dir: b.TempDir(), FileSize: fileSize})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Recover(false, 0); err != nil {
		b.Fatal(err)
	}
	rec := testRecord(1, 128)
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := l.Append(rec, int64(i), int64(i)); err != nil {
			b.Fatal(err)
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
