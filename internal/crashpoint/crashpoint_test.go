package crashpoint

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// buildCrashee builds testdata/crashee into a temp dir.
func buildCrashee(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "crashee")
	out, err := exec.Command("go", "build", "-o", bin, "./testdata/crashee").CombinedOutput()
	if err != nil {
		t.Fatalf("go build crashee: %v\n%s", err, out)
	}
	return bin
}

func TestEnvKillsTheProcessAtTheNthHit(t *testing.T) {
	bin := buildCrashee(t)
	for _, tc := range []struct {
		name   string
		env    string // "" = unset
		args   []string
		signal bool   // SIGKILL expected (else exit status code)
		code   int    // exit status when !signal
		last   string // last stdout line
		stderr string // contained in stderr
	}{
		{name: "third hit", env: Env(WriterMidGroupCommit, 3), args: []string{WriterMidGroupCommit},
			signal: true, last: "before writer.mid-group-commit 3", stderr: "crashpoint: writer.mid-group-commit hit 3: SIGKILL"},
		{name: "default first hit", env: EnvVar + "=" + QueueMidDispatch, args: []string{QueueMidDispatch},
			signal: true, last: "before queue.mid-dispatch 1", stderr: "crashpoint: queue.mid-dispatch hit 1: SIGKILL"},
		{name: "the first of two armed points to reach its count", env: EnvVar + "=commitlog.mid-roll:4, metadata.mid-write:2",
			args: []string{CommitLogMidRoll, MetadataMidWrite}, signal: true, last: "before metadata.mid-write 2",
			stderr: "crashpoint: metadata.mid-write hit 2: SIGKILL"},
		{name: "a point hit fewer times than armed", env: Env(WriterMidGroupCommit, 6), args: []string{WriterMidGroupCommit},
			code: 0, last: "after writer.mid-group-commit 5"},
		{name: "another point than the armed one", env: Env(WriterMidGroupCommit, 1), args: []string{CommitLogMidRoll},
			code: 0, last: "after commitlog.mid-roll 5"},
		{name: "unset", args: []string{WriterMidGroupCommit}, code: 0, last: "after writer.mid-group-commit 5"},
		{name: "unknown name", env: EnvVar + "=writer.mid-groupcommit", args: []string{WriterMidGroupCommit},
			code: 2, stderr: `unknown crash point "writer.mid-groupcommit"`},
		{name: "bad count", env: EnvVar + "=writer.mid-group-commit:0", args: []string{WriterMidGroupCommit},
			code: 2, stderr: "hit count must be a positive integer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(bin, tc.args...)
			cmd.Env = []string{}
			if tc.env != "" {
				cmd.Env = []string{tc.env}
			}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var exitErr *exec.ExitError
			if err != nil && !errors.As(err, &exitErr) {
				t.Fatal(err)
			}
			ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
			switch {
			case tc.signal && (!ws.Signaled() || ws.Signal() != syscall.SIGKILL):
				t.Errorf("ended with %v, want SIGKILL", cmd.ProcessState)
			case !tc.signal && (ws.Signaled() || ws.ExitStatus() != tc.code):
				t.Errorf("ended with %v, want exit status %d", cmd.ProcessState, tc.code)
			}
			lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
			if last := lines[len(lines)-1]; last != tc.last {
				t.Errorf("last stdout line %q, want %q", last, tc.last)
			}
			if !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tc.stderr)
			}
		})
	}
}

func TestArmFiresOnceAtTheNthHit(t *testing.T) {
	var fired []int
	hits := 0
	Arm(CommitLogMidRoll, 3, func() { fired = append(fired, hits) })
	for hits = 1; hits <= 6; hits++ {
		Hit(CommitLogMidRoll)
		Hit(WriterMidGroupCommit) // not armed: no effect on the count
	}
	if len(fired) != 1 || fired[0] != 3 {
		t.Fatalf("fired at hits %v, want [3]", fired)
	}
	if armed.Load() {
		t.Fatal("still armed after the only point fired")
	}
}

func TestDisarm(t *testing.T) {
	Arm(MetadataMidWrite, 1, func() { t.Error("a disarmed point fired") })
	if !Disarm(MetadataMidWrite) {
		t.Fatal("Disarm of an armed point reported false")
	}
	Hit(MetadataMidWrite)
	if Disarm(MetadataMidWrite) {
		t.Fatal("Disarm of a disarmed point reported true")
	}
}

func TestConcurrentHitsFireOnce(t *testing.T) {
	var fired atomic.Int32
	Arm(QueueMidDispatch, 50, func() { fired.Add(1) })
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				Hit(QueueMidDispatch)
			}
		})
	}
	wg.Wait()
	if n := fired.Load(); n != 1 {
		t.Fatalf("fired %d times, want 1", n)
	}
}

// BenchmarkHitDisarmed is the cost product code pays for a point outside sim.
func BenchmarkHitDisarmed(b *testing.B) {
	for b.Loop() {
		Hit(WriterMidGroupCommit)
	}
}
