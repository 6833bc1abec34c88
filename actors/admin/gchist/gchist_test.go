package gchist

import (
	"math"
	"runtime/metrics"
	"slices"
	"testing"
)

func TestFromMetricsQuantile(t *testing.T) {
	h := FromMetrics(&metrics.Float64Histogram{Counts: []uint64{90, 0, 9, 1}, Buckets: []float64{0, 1e-6, 2e-6, 1e-3, math.Inf(1)}})
	// The open last bucket is named by its lower bound, 1 ms, and joins
	// the (2 µs, 1 ms] bucket.
	if want := (Histogram{{1000, 90}, {1000000, 10}}); !slices.Equal(h, want) {
		t.Fatalf("FromMetrics = %v, want %v", h, want)
	}
	for q, want := range map[float64]int64{0.5: 1000, 0.9: 1000, 0.95: 1000000, 0.99: 1000000, 1: 1000000} {
		if got := h.Quantile(q); got != want {
			t.Errorf("q%v = %d, want %d", q, got, want)
		}
	}
	if got := FromMetrics(&metrics.Float64Histogram{Counts: []uint64{0}, Buckets: []float64{0, 1}}); got != nil || got.Quantile(0.99) != 0 || got.Max() != 0 {
		t.Errorf("empty histogram: %v", got)
	}
}

func TestStringParse(t *testing.T) {
	h := Histogram{{0, 1}, {2048, 30}, {65536, 5}, {1 << 40, 2}}
	s := h.String()
	if s != "0:1,2048:30,65536:5,1099511627776:2" {
		t.Fatalf("String = %q", s)
	}
	got, err := Parse(s)
	if err != nil || !slices.Equal(got, h) {
		t.Fatalf("Parse(%q) = %v, %v", s, got, err)
	}
	if got, err := Parse(""); err != nil || got != nil {
		t.Errorf("Parse(\"\") = %v, %v", got, err)
	}
	for _, bad := range []string{"12", "a:1", "1:b", "1:-1", "5:1,5:2", "9:1,3:1", "1:1,"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

// TestSubQuantile: a run's pauses are the end reading minus the start
// reading; its p99 and max come from the difference alone.
func TestSubQuantile(t *testing.T) {
	start := Histogram{{1000, 50}, {4000, 40}, {3000000, 10}} // earlier runs: 10 pauses of 3 ms
	end := Histogram{{1000, 150}, {2000, 100}, {4000, 140}, {8000, 10}, {3000000, 10}}
	run := end.Sub(start)
	if want := (Histogram{{1000, 100}, {2000, 100}, {4000, 100}, {8000, 10}}); !slices.Equal(run, want) {
		t.Fatalf("Sub = %v, want %v", run, want)
	}
	// 310 pauses: rank 307 lies in the 8 µs bucket (301–310).
	if p99, mx, lifetime := run.Quantile(0.99), run.Max(), end.Quantile(0.99); p99 != 8000 || mx != 8000 || lifetime != 3000000 {
		t.Errorf("run p99 %d max %d, lifetime p99 %d", p99, mx, lifetime)
	}
	if got := end.Sub(end); got != nil || got.Total() != 0 {
		t.Errorf("no pauses in between: %v", got)
	}
	if got := end.Sub(nil); !slices.Equal(got, end) {
		t.Errorf("no start reading: %v", got)
	}
	// A count that went down or a bucket that vanished: another process.
	for _, other := range []Histogram{{{1000, 151}}, {{500, 1}}} {
		if got := end.Sub(other); !slices.Equal(got, end) {
			t.Errorf("Sub(%v) = %v, want the end reading", other, got)
		}
	}
}
