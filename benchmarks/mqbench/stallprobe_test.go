package main

import (
	"testing"
	"time"
)

// TestStallStats feeds the probe's bookkeeping synthetic wake times: the
// first wake only starts the clock, lateness is the gap beyond probePeriod, an
// early wake counts as on time, and stalls over 5 and 10 ms are counted
// with their lateness; add sums the threads of several CPUs.
func TestStallStats(t *testing.T) {
	var s stallStats
	at := 100 * time.Millisecond
	s.wake(at) // origin
	for _, late := range []time.Duration{
		0,                                   // on time
		200 * time.Microsecond,              // 200 µs late
		6 * time.Millisecond,                // a stall over 5 ms
		11 * time.Millisecond,               // over 5 and over 10 ms
		-probePeriod + 500*time.Microsecond, // 0.5 ms after the last: early, on time
	} {
		at += probePeriod + late
		s.wake(at)
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
