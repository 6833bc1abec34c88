package main

import (
	"testing"
	"time"
)

// TestStallStats feeds the probe's bookkeeping synthetic wake times: the
// first wake only starts the clock, lateness is the gap beyond 1 ms, an
// early wake counts as on time, and stalls over 5 and 10 ms are counted
// with their lateness; add sums the threads of several CPUs.
func TestStallStats(t *testing.T) {
	var s stallStats
	for _, atUs := range []time.Duration{
		100_000, // origin
		101_000, // on time
		102_200, // 200 µs late
		109_200, // 6 ms late: a stall over 5 ms
		121_200, // 11 ms late: over 5 and over 10 ms
		121_700, // 0.5 ms after the last: early, on time
	} {
		s.wake(atUs * time.Microsecond)
	}
	got := s.result()
	want := stallProbe{Wakes: 5, LateP99Us: 11000, LateP999Us: 11000, LateMaxUs: 11000,
		StallsOver5: 2, StallMsOver5: 17, StallsOver10: 1, StallMsOver10: 11}
	if got != want {
		t.Fatalf("result = %+v\nwant     %+v", got, want)
	}
	if p50 := s.late.quantile(0.5); p50 != 200 {
		t.Errorf("median lateness %d µs, want 200", p50)
	}
	// Two CPUs' threads together: their stalls add up.
	var both stallStats
	both.add(&s)
	both.add(&s)
	want.Wakes, want.StallsOver5, want.StallMsOver5, want.StallsOver10, want.StallMsOver10 = 10, 4, 34, 2, 22
	if got := both.result(); got != want {
		t.Errorf("two threads = %+v\nwant          %+v", got, want)
	}
	if empty := (&stallStats{}).result(); empty != (stallProbe{}) {
		t.Errorf("no wakes: %+v, want zeros", empty)
	}
}
