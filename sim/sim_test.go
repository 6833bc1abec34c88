package main

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/actormq/actormq/sim/run"
)

// TestFixedSeeds runs two fixed seeds in process with every fault class
// (restarts, a damaged record and a full disk; no power cut: make sim runs
// those): the quick version of make sim. A violation fails the test with
// the seed's report (the replay command and the minimal history).
func TestFixedSeeds(t *testing.T) {
	if testing.Short() {
		t.Skip("sim runs take seconds")
	}
	for _, seed := range []uint64{24, 60} {
		t.Run("seed-"+strconv.FormatUint(seed, 10), func(t *testing.T) {
			var out bytes.Buffer
			res, err := run.Run(context.Background(), run.Options{
				Seed: seed, Mode: run.ModeInProc, Classes: run.Classes, Duration: 8 * time.Second,
				Dir: t.TempDir(), Out: &out,
			})
			if err != nil {
				t.Fatalf("seed %d: %v\n%s", seed, err, out.String())
			}
			if !res.OK() {
				t.Fatalf("seed %d broke invariants:\n%s", seed, out.String())
			}
			if res.Stats.Acked == 0 || res.Stats.Delivered == 0 || res.Stats.FaultWindows == 0 {
				t.Fatalf("seed %d did nothing worth checking:\n%s", seed, out.String())
			}
			t.Log(out.String())
		})
	}
}

// TestFlags: bad flags are refused before anything runs.
func TestFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{name: "unknown class", args: []string{"-faults", "disk,cosmic-rays"}, want: 2},
		{name: "unknown flag", args: []string{"-nope"}, want: 2},
		{name: "bad seed list", args: []string{"-seed", "1,x"}, want: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mainWithArgs(tt.args); got != tt.want {
				t.Fatalf("exit %d, want %d", got, tt.want)
			}
		})
	}
}
