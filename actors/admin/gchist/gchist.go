// Package gchist carries the broker's Go GC pause histogram from
// GET_BROKER_RUNTIME_INFO (key goGCPauses) to bin/mqbench. The runtime's
// histogram covers the whole process life, so a load generator that
// wants the pauses of its own run reads it before and after and takes
// the difference (Sub). Rejected: a p99 computed by the broker, which
// cannot be subtracted, so every run of a suite reported the pauses of
// all earlier runs too.
package gchist

import (
	"fmt"
	"math"
	"runtime/metrics"
	"strconv"
	"strings"
)

// Bucket is one non-empty bucket: its upper bound in ns (the lower bound
// for the runtime's open last bucket, which then joins the bucket below)
// and the pauses it holds.
type Bucket struct {
	UpperNs int64
	Count   uint64
}

// Histogram holds the non-empty buckets in ascending UpperNs.
type Histogram []Bucket

// FromMetrics keeps the non-empty buckets of a runtime/metrics histogram.
func FromMetrics(h *metrics.Float64Histogram) Histogram {
	var out Histogram
	for i, c := range h.Counts {
		if c == 0 {
			continue
		}
		bound := h.Buckets[i+1]
		if math.IsInf(bound, 1) {
			bound = h.Buckets[i]
		}
		if math.IsInf(bound, 0) { // a single (-Inf, +Inf) bucket says nothing
			bound = 0
		}
		// The runtime's bounds are whole ns divided by 1e9: rounding
		// gives them back exactly, where Ceil could add 1 ns.
		ub := int64(math.Round(bound * 1e9))
		if n := len(out); n > 0 && out[n-1].UpperNs == ub { // the open bucket, named like the one below
			out[n-1].Count += c
			continue
		}
		out = append(out, Bucket{UpperNs: ub, Count: c})
	}
	return out
}

// String is the wire form "ub:count,ub:count" (ns, pauses in that
// bucket since the process started); "" when empty.
func (h Histogram) String() string {
	var b []byte
	for i, k := range h {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, k.UpperNs, 10)
		b = append(b, ':')
		b = strconv.AppendUint(b, k.Count, 10)
	}
	return string(b)
}

// Parse reads String's form; bounds must ascend.
func Parse(s string) (Histogram, error) {
	if s == "" {
		return nil, nil
	}
	var h Histogram
	for part := range strings.SplitSeq(s, ",") {
		ub, count, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("gc pause bucket %q: want ub:count", part)
		}
		var k Bucket
		var err error
		if k.UpperNs, err = strconv.ParseInt(ub, 10, 64); err != nil {
			return nil, fmt.Errorf("gc pause bucket %q: %w", part, err)
		}
		if k.Count, err = strconv.ParseUint(count, 10, 64); err != nil {
			return nil, fmt.Errorf("gc pause bucket %q: %w", part, err)
		}
		if len(h) > 0 && k.UpperNs <= h[len(h)-1].UpperNs {
			return nil, fmt.Errorf("gc pause bucket %q: bounds do not ascend", part)
		}
		h = append(h, k)
	}
	return h, nil
}

// Sub is the pauses of h not in earlier, an older reading of the same
// process: per bucket h's count minus earlier's. A count that went down
// means the readings are of different processes; Sub then returns h.
func (h Histogram) Sub(earlier Histogram) Histogram {
	before := make(map[int64]uint64, len(earlier))
	for _, k := range earlier {
		before[k.UpperNs] = k.Count
	}
	var out Histogram
	for _, k := range h {
		b := before[k.UpperNs]
		if b > k.Count {
			return h
		}
		delete(before, k.UpperNs)
		if k.Count > b {
			out = append(out, Bucket{UpperNs: k.UpperNs, Count: k.Count - b})
		}
	}
	if len(before) > 0 { // earlier has buckets h lacks
		return h
	}
	return out
}

// Total is the number of pauses.
func (h Histogram) Total() uint64 {
	var n uint64
	for _, k := range h {
		n += k.Count
	}
	return n
}

// Quantile is the upper bound (ns) of the bucket holding quantile q, 0
// when empty.
func (h Histogram) Quantile(q float64) int64 {
	rank := uint64(math.Ceil(q * float64(h.Total())))
	var seen uint64
	for _, k := range h {
		seen += k.Count
		if seen >= max(rank, 1) {
			return k.UpperNs
		}
	}
	return 0
}

// Max is the upper bound (ns) of the highest non-empty bucket, 0 when
// empty.
func (h Histogram) Max() int64 {
	if len(h) == 0 {
		return 0
	}
	return h[len(h)-1].UpperNs
}

// Micros is ns in µs, rounded up: a bound of 1,500 ns reports as 2 µs.
func Micros(ns int64) int64 { return (ns + 999) / 1000 }
