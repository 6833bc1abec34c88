// Package crashpoint holds named points in the product code where sim/ can
// crash a broker at a precise moment: between two writes that recovery must
// reconcile. Product code marks a point with one line,
//
//	crashpoint.Hit(crashpoint.WriterMidGroupCommit)
//
// which costs one atomic load and a branch not taken while nothing is armed
// (always, outside sim and its tests).
//
// A point is armed in one of two ways:
//
//   - In a real process, by the environment: ACTORMQ_CRASHPOINT=name[:n]
//     (several separated by commas) arms name for its n-th hit (default 1).
//     At that hit the process writes one line to stderr
//     ("crashpoint: <name> hit <n>: SIGKILL") and sends itself SIGKILL: a
//     real kill -9, with nothing flushed, closed or deferred afterwards. An
//     unknown name makes the process exit with status 2 at start-up, so a
//     typo never passes for a run without a crash.
//   - In process (tests, sim's in-process mode), by Arm: the callback runs
//     at the n-th hit, on the goroutine that hit the point, before the code
//     after the point runs (it may block to freeze the writer there, or
//     panic).
//
// A point fires once; it is then disarmed.
package crashpoint

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// EnvVar is the environment variable that arms points in a real process.
const EnvVar = "ACTORMQ_CRASHPOINT"

// The points. Each name says where the write in progress stands.
const (
	// WriterMidGroupCommit: a group commit's records are appended to the
	// mapped CommitLog segment (not flushed), before the consume-queue
	// dispatch and before any sender is answered.
	WriterMidGroupCommit = "writer.mid-group-commit"
	// CommitLogMidRoll: a new CommitLog segment file is created, before the
	// first record is written into it.
	CommitLogMidRoll = "commitlog.mid-roll"
	// MetadataMidWrite: a config file's new version is written and synced
	// to <path>.tmp and the current <path> renamed to <path>.bak, before
	// <path>.tmp is renamed to <path>: the one moment no <path> exists, so
	// loading must fall back to the .bak.
	MetadataMidWrite = "metadata.mid-write"
	// QueueMidDispatch: some units of a dispatched batch are appended to a
	// ConsumeQueue, not all.
	QueueMidDispatch = "queue.mid-dispatch"
)

// Names lists every point, for sim's random choice and Env's check.
var Names = []string{WriterMidGroupCommit, CommitLogMidRoll, MetadataMidWrite, QueueMidDispatch}

// armed is true while any point is armed; it is the whole cost of Hit
// otherwise.
var armed atomic.Bool

var points struct {
	mu    sync.Mutex
	armed map[string]*point
}

type point struct {
	n    int    // the hit that fires
	hits int    // hits since armed
	fire func() // nil: SIGKILL this process
}

func init() {
	spec := os.Getenv(EnvVar)
	if spec == "" {
		return
	}
	if err := armFromEnv(spec); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", EnvVar, err)
		os.Exit(2)
	}
}

// armFromEnv arms each name[:n] of spec to SIGKILL this process.
func armFromEnv(spec string) error {
	for item := range strings.SplitSeq(spec, ",") {
		name, count, hasCount := strings.Cut(strings.TrimSpace(item), ":")
		n := 1
		if hasCount {
			var err error
			if n, err = strconv.Atoi(count); err != nil || n < 1 {
				return fmt.Errorf("%q: the hit count must be a positive integer", item)
			}
		}
		if !slices.Contains(Names, name) {
			return fmt.Errorf("unknown crash point %q (known: %s)", name, strings.Join(Names, ", "))
		}
		arm(name, n, nil)
	}
	return nil
}

// Env returns the environment entry that arms name for its n-th hit in a
// child process, for proc.Options.Env.
func Env(name string, n int) string { return EnvVar + "=" + name + ":" + strconv.Itoa(n) }

// Hit marks the point name. It may be called from any goroutine. When name
// is armed and this is its n-th hit, it fires (see the package comment).
func Hit(name string) {
	if armed.Load() {
		hit(name)
	}
}

func hit(name string) {
	points.mu.Lock()
	p := points.armed[name]
	if p == nil {
		points.mu.Unlock()
		return
	}
	p.hits++
	if p.hits < p.n {
		points.mu.Unlock()
		return
	}
	delete(points.armed, name)
	armed.Store(len(points.armed) > 0)
	points.mu.Unlock()
	if p.fire != nil {
		p.fire()
		return
	}
	// One write(2) straight to fd 2, then the kill: nothing buffered is
	// flushed and no deferred function runs.
	_, _ = os.Stderr.WriteString("crashpoint: " + name + " hit " + strconv.Itoa(p.n) + ": SIGKILL\n")
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // the signal is on its way; never run the code after the point
}

// Arm arms name in this process: fire runs at its n-th hit (n ≥ 1) from
// now, on the hitting goroutine. Arming an armed point starts it over.
func Arm(name string, n int, fire func()) {
	if n < 1 || fire == nil {
		panic("crashpoint: Arm needs n ≥ 1 and a callback")
	}
	arm(name, n, fire)
}

func arm(name string, n int, fire func()) {
	points.mu.Lock()
	defer points.mu.Unlock()
	if points.armed == nil {
		points.armed = map[string]*point{}
	}
	points.armed[name] = &point{n: n, fire: fire}
	armed.Store(true)
}

// Disarm disarms name; it reports whether name was armed (had not fired).
func Disarm(name string) bool {
	points.mu.Lock()
	defer points.mu.Unlock()
	_, ok := points.armed[name]
	delete(points.armed, name)
	armed.Store(len(points.armed) > 0)
	return ok
}
