package main

import (
	"math/bits"
	"sync"
)

// histogram counts latencies (µs) in log-linear buckets, as HdrHistogram
// does with two significant digits: values below 256 are exact, above
// that each power of two is split into 128 buckets (error under 0.8%).
// Values beyond histMaxUs (19 hours) count in the last bucket.
type histogram struct {
	counts [histBuckets]uint64
	total  uint64
	max    int64
}

const (
	histSubBits = 7
	histMaxUs   = int64(1)<<36 - 1
	// Bucket index of histMaxUs plus one: shift 28, mantissa 255.
	histBuckets = (36-histSubBits)<<histSubBits + 1<<histSubBits
)

func histIndex(v int64) int {
	if v < 0 {
		v = 0
	}
	v = min(v, histMaxUs)
	if v < 1<<(histSubBits+1) {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - (histSubBits + 1)
	return shift<<histSubBits + int(v>>shift)
}

// histUpper is the highest value that lands in bucket i.
func histUpper(i int) int64 {
	if i < 1<<(histSubBits+1) {
		return int64(i)
	}
	shift := i>>histSubBits - 1
	mantissa := int64(i&(1<<histSubBits-1) + 1<<histSubBits)
	return (mantissa+1)<<shift - 1
}

func (h *histogram) record(us int64) {
	h.counts[histIndex(us)]++
	h.total++
	h.max = max(h.max, us)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.max = max(h.max, o.max)
}

func (h *histogram) reset() { *h = histogram{} }

// quantile is the bucket upper bound at quantile q (0..1), capped at the
// largest value seen; 0 when empty.
func (h *histogram) quantile(q float64) int64 {
	if h.total == 0 {
		return 0
	}
	rank := uint64(q*float64(h.total) + 0.5)
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(histUpper(i), h.max)
		}
	}
	return h.max
}

// recorder is one goroutine's (or connection's) histogram, drained by the
// progress reporter every second.
type recorder struct {
	mu sync.Mutex
	h  histogram
}

func (r *recorder) record(us int64) {
	r.mu.Lock()
	r.h.record(us)
	r.mu.Unlock()
}

// drainInto adds r's counts to dst and clears r.
func (r *recorder) drainInto(dst *histogram) {
	r.mu.Lock()
	dst.merge(&r.h)
	r.h.reset()
	r.mu.Unlock()
}
