package run

import (
	"slices"
	"testing"
	"time"
)

// TestPlanReplays: a seed gives the same schedule every time, another seed
// another one.
func TestPlanReplays(t *testing.T) {
	a := Plan(7, ModeInProc, Classes, 20*time.Second)
	b := Plan(7, ModeInProc, Classes, 20*time.Second)
	c := Plan(8, ModeInProc, Classes, 20*time.Second)
	if !slices.Equal(a, b) {
		t.Fatalf("seed 7 planned twice differs:\n%v\n%v", a, b)
	}
	if slices.Equal(a, c) {
		t.Fatalf("seeds 7 and 8 planned the same: %v", a)
	}
}

// TestPlanCoversEveryClass: each seed's schedule has a step of every class
// the mode can run, inside the duration.
func TestPlanCoversEveryClass(t *testing.T) {
	tests := []struct {
		name    string
		mode    string
		classes []string
		want    []string
	}{
		{name: "in process", mode: ModeInProc, classes: Classes, want: append(slices.Clone(Classes), "rebalance")},
		{name: "processes", mode: ModeProc, classes: Classes, want: append(slices.Clone(Classes), "rebalance")},
		{name: "crash only", mode: ModeProc, classes: []string{ClassCrash}, want: []string{ClassCrash, "rebalance"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for seed := uint64(1); seed <= 50; seed++ {
				const duration = 8 * time.Second
				plan := Plan(seed, tt.mode, tt.classes, duration)
				got := map[string]bool{}
				for _, s := range plan {
					got[s.Class] = true
					if s.At < time.Second || s.At+s.Hold > duration-time.Second {
						t.Fatalf("seed %d: step %s outside [1s, %s-1s]", seed, s, duration)
					}
					if s.Class != "rebalance" && !slices.Contains(tt.classes, s.Class) {
						t.Fatalf("seed %d: step %s of a class not asked for", seed, s)
					}
				}
				for _, c := range tt.want {
					if !got[c] {
						t.Fatalf("seed %d: no %s step in %v", seed, c, plan)
					}
				}
			}
		})
	}
}
