package run

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/actormq/actormq/internal/crashpoint"
)

// Fault classes (-faults).
const (
	ClassDisk  = "disk"
	ClassNet   = "net"
	ClassCrash = "crash"
	ClassClock = "clock"
)

// Classes lists every fault class.
var Classes = []string{ClassDisk, ClassNet, ClassCrash, ClassClock}

// Modes.
const (
	ModeInProc = "inproc"
	ModeProc   = "proc"
)

// Step kinds. Each class has several; which ones a mode can run is in
// kindsOf.
const (
	StepRebalance  = "rebalance"  // a consumer group hands every queue to the next consumer
	StepRestart    = "restart"    // clean stop, start
	StepPowerCut   = "powercut"   // in process: only synced data survives, restart
	StepKill       = "kill"       // process: SIGKILL, restart
	StepCrashPoint = "crashpoint" // crash at the N-th hit of point Arg, restart
	StepDiskEIO    = "disk-eio"   // the next change to Arg's files fails (EIO, or a short write); restart later
	StepDiskTorn   = "disk-torn"  // the next CommitLog msync is torn, then a power cut
	StepDiskSlow   = "disk-slow"  // syncs take Delay for Hold
	StepDiskFull   = "disk-full"  // no space for Hold
	StepBitFlip    = "bitflip"    // flip a stored bit (body, or size/magic) of a recent record while stopped
	StepReadFlip   = "read-flip"  // a restart reads a config file with a bit flipped
	StepClockJump  = "clock-jump" // the wall clock jumps by Delay (may be negative); a process restarts with it
	StepNetFaults  = "net-faults" // delay, drops, resets and half-open links for Hold
	StepPartition  = "partition"  // the link Arg is cut for Hold
)

// Step is one scheduled fault (or hand-over).
type Step struct {
	At    time.Duration // since the workload started
	Kind  string
	Class string
	Arg   string
	N     int
	Delay time.Duration
	Hold  time.Duration
	Prob  float64
}

func (s Step) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "+%.1fs %s", s.At.Seconds(), s.Kind)
	if s.Arg != "" {
		b.WriteString(" " + s.Arg)
	}
	if s.N != 0 {
		fmt.Fprintf(&b, " n=%d", s.N)
	}
	if s.Delay != 0 {
		fmt.Fprintf(&b, " delay=%s", s.Delay)
	}
	if s.Hold != 0 {
		fmt.Fprintf(&b, " hold=%s", s.Hold)
	}
	if s.Prob != 0 {
		fmt.Fprintf(&b, " p=%.2f", s.Prob)
	}
	return b.String()
}

// kindsOf are the step kinds of a class a mode can run.
func kindsOf(class, mode string) []string {
	switch class {
	case ClassCrash:
		if mode == ModeProc {
			return []string{StepKill, StepKill, StepCrashPoint, StepRestart}
		}
		return []string{StepPowerCut, StepPowerCut, StepCrashPoint, StepRestart}
	case ClassDisk:
		if mode == ModeProc {
			return []string{StepBitFlip}
		}
		return []string{StepDiskEIO, StepDiskTorn, StepDiskSlow, StepDiskFull, StepBitFlip, StepReadFlip}
	case ClassNet:
		return []string{StepNetFaults, StepNetFaults, StepPartition}
	case ClassClock:
		return []string{StepClockJump} // a process restarts with its new clock
	}
	return nil
}

// Links a partition can cut (the proxies the driver puts in between).
var partitionLinks = []string{LinkProducers, LinkConsumers, LinkNamesrv}

// Plan derives the schedule of a run from its seed: the same seed, mode,
// classes and duration give the same steps. Steps start after a second of
// quiet traffic and end a second before duration; the first steps go
// through every class once and hand each consumer group's queues over
// once (in a seed-chosen order), so each seed covers each class it is
// given; more faults and hand-overs follow while time is left.
func Plan(seed uint64, mode string, classes []string, duration time.Duration) []Step {
	rng := rand.New(rand.NewPCG(seed, 0x51d0_5eed))
	var usable []string
	for _, c := range classes {
		if len(kindsOf(c, mode)) > 0 {
			usable = append(usable, c)
		}
	}
	// Each group hands its queues over at least once: offsets are read
	// back and orderly locks change hands.
	order := append(slices.Clone(usable), "rebalance", "rebalance")
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	handOvers := 0
	var steps []Step
	at := time.Second
	// The covering steps share the duration: a hand-over takes half a
	// second, each fault class a slot of the rest, its hold cut to leave a
	// second of quiet in the slot.
	const handOverSlot = 500 * time.Millisecond
	var slot time.Duration
	if len(usable) > 0 {
		slot = (duration - 2*time.Second - 2*handOverSlot) / time.Duration(len(usable))
	}
	for i := 0; ; i++ {
		class := "rebalance"
		switch {
		case i < len(order):
			class = order[i]
		case len(usable) > 0 && rng.IntN(4) != 0:
			class = usable[rng.IntN(len(usable))]
		}
		s := step(rng, class, mode)
		if class == "rebalance" && i < len(order) {
			s.N = handOvers // group 0, then group 1
			handOvers++
		}
		s.At = at
		gap := time.Duration(1000+rng.IntN(1500)) * time.Millisecond
		switch {
		case i < len(order) && class == "rebalance":
			gap = handOverSlot
		case i < len(order):
			s.Hold = min(s.Hold, max(slot-time.Second, 0))
			gap = max(slot-s.Hold, 0)
		}
		if at+s.Hold+time.Second > duration {
			break
		}
		steps = append(steps, s)
		at += s.Hold + gap
	}
	return steps
}

// step draws one step of class.
func step(rng *rand.Rand, class, mode string) Step {
	if class == "rebalance" {
		return Step{Kind: StepRebalance, Class: class, N: rng.IntN(2)}
	}
	kinds := kindsOf(class, mode)
	s := Step{Kind: kinds[rng.IntN(len(kinds))], Class: class}
	ms := func(lo, hi int) time.Duration { return time.Duration(lo+rng.IntN(hi-lo+1)) * time.Millisecond }
	switch s.Kind {
	case StepCrashPoint:
		s.Arg = crashpoint.Names[rng.IntN(len(crashpoint.Names))]
		s.N = 1 + rng.IntN(20)
	case StepDiskEIO:
		s.Arg = []string{"commitlog", "consumequeue", "config", "config-short"}[rng.IntN(4)]
	case StepDiskSlow:
		s.Delay, s.Hold = ms(20, 300), ms(1000, 3000)
	case StepDiskFull:
		s.Hold = ms(2500, 4000)
	case StepBitFlip:
		s.N = 1 + rng.IntN(8) // which of the newest records
		s.Arg = []string{"body", "header"}[rng.IntN(2)]
	case StepClockJump:
		s.Delay = ms(1000, 2*3600*1000)
		if rng.IntN(2) == 0 {
			s.Delay = -s.Delay
		}
	case StepNetFaults:
		s.Hold = ms(1000, 3000)
		s.Delay = ms(0, 30)
		s.Prob = 0.002 + rng.Float64()*0.02
	case StepPartition:
		s.Arg = partitionLinks[rng.IntN(len(partitionLinks))]
		s.Hold = ms(500, 4000)
	}
	return s
}
