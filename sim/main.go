// Command sim is actormq's fault-injection harness: it drives the real
// NameServer and broker (in this process on an in-memory faulty disk, or as
// real processes) with producers and consumers, injects the faults a seed
// schedules (disk errors and full disks, torn syncs and power cuts, kill -9
// and named crash points, network delays, drops, resets, half-open links
// and partitions, wall-clock jumps), and checks after each run that no
// acknowledged message was lost, duplicated, reordered or corrupted
// (sim/check lists the invariants).
//
//	go run ./sim -seeds 20 -faults disk,net,crash,clock        # 20 random seeds in process
//	go run ./sim -seed 42 -mode proc -faults crash,net,disk    # replay seed 42 with real processes
//	go run ./sim -seed 202,203,207                            # these seeds
//
// Every run prints its seed; a failed invariant prints the seed, the
// replay command and the events around the offending ids, and the command
// exits with status 1. The same seed replays the same fault schedule.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/actormq/actormq/sim/run"
)

func main() {
	os.Exit(mainWithArgs(os.Args[1:]))
}

func mainWithArgs(args []string) int {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	seeds := fs.Int("seeds", 1, "number of seeds to run, from -seed up")
	seed := fs.String("seed", "", "first seed, or a comma-separated list of seeds to run (default: drawn from the clock)")
	faults := fs.String("faults", strings.Join(run.Classes, ","), "fault classes: disk, net, crash, clock")
	mode := fs.String("mode", run.ModeInProc, "inproc (broker in this process on a faulty in-memory disk) or proc (real binaries)")
	duration := fs.Duration("duration", 8*time.Second, "length of each run's fault phase")
	dir := fs.String("dir", "", "work directory for logs and stores (default: a new temp dir)")
	bin := fs.String("bin", os.Getenv("ACTORMQ_BIN"), "proc mode: directory with mqnamesrv and mqbroker (default: built once)")
	verbose := fs.Bool("v", false, "print each run's schedule and steps")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	classes, err := parseClasses(*faults)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sim:", err)
		return 2
	}
	ownDir := *dir == "" // a temp dir of ours is removed again when every seed passed
	if ownDir {
		if *dir, err = os.MkdirTemp("", "actormq-sim-"); err != nil {
			fmt.Fprintln(os.Stderr, "sim:", err)
			return 1
		}
	}
	list, err := seedList(*seed, *seeds)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sim:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	failed := 0
	for _, s := range list {
		res, err := run.Run(ctx, run.Options{
			Seed: s, Mode: *mode, Classes: classes, Duration: *duration, Dir: *dir, Bin: *bin,
			Out: os.Stdout, Verbose: *verbose,
		})
		switch {
		case err != nil:
			fmt.Fprintf(os.Stdout, "seed %d: SETUP FAILED: %v\n", s, err)
			failed++
		case !res.OK():
			failed++
		}
		if ctx.Err() != nil {
			break
		}
	}
	fmt.Printf("sim: %d of %d seeds failed (mode %s, faults %s, seeds %v)\n",
		failed, len(list), *mode, strings.Join(classes, ","), list)
	if failed > 0 || !ownDir {
		fmt.Printf("sim: logs and stores in %s\n", *dir)
	}
	if failed > 0 {
		return 1
	}
	if ownDir {
		if err := os.RemoveAll(*dir); err != nil {
			fmt.Fprintln(os.Stderr, "sim: remove work dir:", err)
		}
	}
	return 0
}

// seedList is the seeds to run: the list in spec, or n seeds from the one
// in spec (from a clock-drawn one when spec is empty).
func seedList(spec string, n int) ([]uint64, error) {
	if strings.Contains(spec, ",") {
		var out []uint64
		for f := range strings.SplitSeq(spec, ",") {
			s, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("-seed %q: %w", spec, err)
			}
			out = append(out, s)
		}
		return out, nil
	}
	first := uint64(time.Now().UnixNano()) & (1<<48 - 1)
	if spec != "" {
		var err error
		if first, err = strconv.ParseUint(spec, 10, 64); err != nil {
			return nil, fmt.Errorf("-seed %q: %w", spec, err)
		}
	}
	out := make([]uint64, max(n, 1))
	for i := range out {
		out[i] = first + uint64(i)
	}
	return out, nil
}

func parseClasses(s string) ([]string, error) {
	var out []string
	for c := range strings.SplitSeq(s, ",") {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		ok := false
		for _, k := range run.Classes {
			ok = ok || c == k
		}
		if !ok {
			return nil, fmt.Errorf("-faults: unknown class %q (want %s)", c, strings.Join(run.Classes, ", "))
		}
		out = append(out, c)
	}
	return out, nil
}
