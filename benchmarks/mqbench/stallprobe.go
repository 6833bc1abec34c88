package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

// The stall probe measures how long the machine itself stopped during a
// run. On this VM freezes of 12–37 ms (no guest CPU runs, not even its
// timer tick; sometimes one vCPU alone) that /proc/stat's steal does not
// count make most of the e2e latency tails, so a run's tails can only be
// judged beside them.
//
// It is a separate process (mqbench stallprobe), not a goroutine of the
// run: a goroutine's wake-up waits for the Go scheduler of a process busy
// sending and receiving, so it would time mqbench, not the machine. It
// runs one thread per CPU, pinned there and raised to SCHED_FIFO when
// permitted (so no task of the guest delays it, only the machine), that
// sleeps probePeriod at a time with clock_nanosleep; how late each wake
// comes is what the hypervisor (or the kernel with preemption off) took
// from that CPU. One thread alone would miss the stalls of the other vCPUs (seen:
// 9 of 13 stalls over 5 ms on one vCPU only). A twin thread at normal
// priority sleeps likewise: its lateness adds the guest's own CPU
// contention, so the pair tells a frozen machine from a busy one.

// probePeriod is the probe's sleep. A freeze of F ms shows as a wake F−5
// to F ms late, so the stalls over 5 ms miss some freezes of 5–10 ms and
// their ms are short by up to 5 each; the 12–37 ms freezes that make the
// tails still show. It was 1 ms: each wake costs ~41 CPU-µs on this VM
// (a timer exit and two context switches), so three sleepers at 1 kHz
// took ~12% of one CPU and preempted the run's own threads (the broker's
// involuntary context switches in e2e: ~2,200–2,400/s without the probe,
// 2,800–3,600 with it at 1 ms, 2,650–3,000 at 5 ms). Figures before the
// change are not comparable.
const probePeriod = 5 * time.Millisecond

// probeFIFOPriority: above every normal task, below the kernel's own
// real-time threads (migration, watchdog at 99).
const probeFIFOPriority = 50

// stallProbe is the probe's part of a run's JSON (result.StallProbe).
// Lateness is wake time − (previous wake + probePeriod); a stall is a wake later
// than 5 (10) ms, and its ms are that lateness. The real-time figures are
// those of all CPUs' threads together: a freeze of the whole machine
// counts once per CPU.
type stallProbe struct {
	RealTime     bool    `json:"probe_realtime"` // every CPU's probe thread ran at SCHED_FIFO, pinned
	CPUs         int     `json:"probe_cpus"`
	Note         string  `json:"probe_note,omitempty"` // why not real-time, or why no figures
	Wakes        int64   `json:"probe_wakes"`
	LateP99Us    int64   `json:"probe_late_p99_us"`
	LateP999Us   int64   `json:"probe_late_p999_us"`
	LateMaxUs    int64   `json:"probe_late_max_us"`
	StallsOver5  int64   `json:"stalls_over_5ms"`
	StallMsOver5 float64 `json:"stall_ms_over_5ms"`
	StallsOver10 int64   `json:"stalls_over_10ms"`
	// StallMsOver10 is part of StallMsOver5.
	StallMsOver10 float64 `json:"stall_ms_over_10ms"`
	// The same sleeper at normal priority (SCHED_OTHER): late when the
	// machine stalls and also when the guest's CPUs are busy (the run's
	// own processes and anything else), which the real-time one is not.
	NormalLateP99Us  int64 `json:"probe_normal_late_p99_us"`
	NormalLateP999Us int64 `json:"probe_normal_late_p999_us"`
	NormalLateMaxUs  int64 `json:"probe_normal_late_max_us"`
}

// stallStats is the probe's bookkeeping of its wake times.
type stallStats struct {
	prev          time.Duration // the previous wake; valid when woke
	woke          bool
	late          histogram // µs
	over5, over10 int64
	late5, late10 time.Duration // summed lateness of the stalls over 5 and 10 ms
}

// wake records a wake at time at (since any fixed origin, increasing).
// The first wake only sets the origin of the next sleep.
func (s *stallStats) wake(at time.Duration) {
	prev, woke := s.prev, s.woke
	s.prev, s.woke = at, true
	if !woke {
		return
	}
	// An early wake (a signal) is on time, not negative lateness.
	late := max(at-prev-probePeriod, 0)
	s.late.record(late.Microseconds())
	if late > 5*time.Millisecond {
		s.over5++
		s.late5 += late
	}
	if late > 10*time.Millisecond {
		s.over10++
		s.late10 += late
	}
}

// add adds o's stalls and lateness to s.
func (s *stallStats) add(o *stallStats) {
	s.late.merge(&o.late)
	s.over5, s.over10 = s.over5+o.over5, s.over10+o.over10
	s.late5, s.late10 = s.late5+o.late5, s.late10+o.late10
}

// result is the figures so far.
func (s *stallStats) result() stallProbe {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return stallProbe{
		Wakes: int64(s.late.total), LateP99Us: s.late.quantile(0.99), LateP999Us: s.late.quantile(0.999), LateMaxUs: s.late.max,
		StallsOver5: s.over5, StallMsOver5: ms(s.late5), StallsOver10: s.over10, StallMsOver10: ms(s.late10),
	}
}

func stallProbeCmd() *cobra.Command {
	var duration time.Duration
	cmd := &cobra.Command{
		Use:   "stallprobe",
		Short: "measure how long the machine stalls: a SCHED_FIFO thread per CPU sleeps 5 ms and records how late it wakes; prints JSON",
		Long: "A thread per CPU, pinned there at SCHED_FIFO priority 50 (when permitted, else at normal priority: probe_realtime false), sleeps 5 ms\n" +
			"with clock_nanosleep until --duration passes (0: until stdin closes) and prints its wake lateness and the stalls\n" +
			"over 5 and 10 ms as JSON on stdout, with the lateness of a twin thread at normal priority. e2e and mixed run it beside themselves with --stall-probe.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var stop atomic.Bool
			if duration > 0 {
				time.AfterFunc(duration, func() { stop.Store(true) })
			} else {
				go func() {
					_, _ = io.Copy(io.Discard, os.Stdin)
					stop.Store(true)
				}()
			}
			// Idle Ps beyond one per probe thread, so that a wake finds
			// its P still its own (sleep).
			cpus := runtime.NumCPU()
			runtime.GOMAXPROCS(cpus + 3)
			threads := make(chan probeThread)
			for cpu := -1; cpu < cpus; cpu++ {
				go func() { threads <- runProbeThread(&stop, cpu) }()
			}
			var fifo []probeThread
			var normal probeThread
			for range cpus + 1 {
				if t := <-threads; t.cpu < 0 {
					normal = t
				} else {
					fifo = append(fifo, t)
				}
			}
			p := combineProbes(fifo, normal)
			b, err := json.Marshal(p)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", b)
			return err
		},
	}
	cmd.Flags().DurationVar(&duration, "duration", 0, "how long to probe (0: until stdin closes)")
	return cmd
}

// probeThread is what one probe thread saw: the one pinned to CPU cpu at
// SCHED_FIFO, or the normal-priority one (cpu −1); err is why it could
// not be pinned or raised.
type probeThread struct {
	cpu   int
	stats stallStats
	err   error
}

// runProbeThread sleeps and records on a thread of its own until stop is
// set: pinned to cpu at SCHED_FIFO, or unpinned at normal priority when
// cpu is −1. The thread stays locked when it returns, so the Go runtime
// ends it rather than reuse a SCHED_FIFO thread.
func runProbeThread(stop *atomic.Bool, cpu int) probeThread {
	runtime.LockOSThread()
	t := probeThread{cpu: cpu}
	if cpu >= 0 {
		var set unix.CPUSet
		set.Set(cpu)
		attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: probeFIFOPriority}
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			t.err = fmt.Errorf("sched_setaffinity CPU %d: %w", cpu, err)
		} else if err := unix.SchedSetAttr(0, &attr, 0); err != nil {
			t.err = fmt.Errorf("sched_setattr SCHED_FIFO: %w", err)
		}
	}
	nap := unix.NsecToTimespec(probePeriod.Nanoseconds())
	start := time.Now()
	for !stop.Load() {
		sleep(&nap)
		t.stats.wake(time.Since(start))
	}
	return t
}

// sleep sleeps with clock_nanosleep. The system call keeps the thread's
// P in syscall state and, while some P is idle (stallprobe starts spare
// ones), the Go runtime neither takes it away nor needs another thread
// to hand it back: the wake reacquires it at once, so the clock is read
// the moment the kernel runs the thread again. A raw system call (the P
// held as running) was the rejected alternative: the runtime preempts a
// goroutine that runs 10 ms, and the preempted locked thread then waits
// for another thread to hand it a P. EINTR only ends a sleep early, which
// wake counts as on time.
func sleep(nap *unix.Timespec) {
	_ = unix.ClockNanosleep(unix.CLOCK_MONOTONIC, 0, nap, nil)
}

// combineProbes is the real-time threads' figures together, with the
// normal thread's lateness beside them.
func combineProbes(fifo []probeThread, normal probeThread) stallProbe {
	var all stallStats
	var notes []string
	for i := range fifo {
		all.add(&fifo[i].stats)
		if err := fifo[i].err; err != nil {
			notes = append(notes, err.Error())
		}
	}
	p := all.result()
	p.CPUs, p.RealTime = len(fifo), len(notes) == 0
	if len(notes) > 0 {
		p.Note = fmt.Sprintf("not every probe thread pinned at real-time priority (%s): lateness includes the guest's own scheduling", strings.Join(notes, "; "))
	}
	n := normal.stats.result()
	p.NormalLateP99Us, p.NormalLateP999Us, p.NormalLateMaxUs = n.LateP99Us, n.LateP999Us, n.LateMaxUs
	return p
}

// probeProcess is a running mqbench stallprobe child.
type probeProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   bytes.Buffer
}

// startStallProbe starts mqbench stallprobe (this executable) as a child
// that probes until stop; an error says why it could not start.
func startStallProbe(log io.Writer) (*probeProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	p := &probeProcess{cmd: exec.Command(exe, "stallprobe")}
	p.cmd.Stdout, p.cmd.Stderr = &p.out, log
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	return p, nil
}

// stop ends the probe (its stdin closes) and returns its figures; a probe
// that failed gives only a note saying so.
func (p *probeProcess) stop() *stallProbe {
	_ = p.stdin.Close()
	kill := time.AfterFunc(10*time.Second, func() { _ = p.cmd.Process.Kill() })
	err := p.cmd.Wait()
	kill.Stop()
	var res stallProbe
	if err == nil {
		err = json.Unmarshal(p.out.Bytes(), &res)
	}
	if err != nil {
		return &stallProbe{Note: fmt.Sprintf("stall probe failed: %v", err)}
	}
	return &res
}
