// Package proc starts and stops real mqnamesrv and mqbroker processes for
// sim/: each on loopback ports it picks, a config file and store under a
// directory of its own, and a log file that the history can quote. It kills
// with SIGKILL (a crash at any moment), stops with SIGTERM (a clean
// shutdown, its exit code checked), and restarts on the same ports and
// store. Crash points (internal/crashpoint) and a jumped wall clock
// (internal/wallclock) are set through Options.Env.
//
// It only ever signals processes it started, through their os.Process (a
// pidfd on Linux), so a recycled PID is never hit. Children run in their own
// process group, so a Ctrl-C meant for the driver does not reach them, and
// die with SIGKILL when the driver's process goes away (Pdeathsig).
//
// Each Proc's log file (Dir/<program>.log) gets the child's stdout and stderr
// (zerolog JSON lines) and, between them, one JSON line per event of the
// harness: {"proc":"sim","event":"start"|"kill9"|"term"|"exit",...}.
package proc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Errors of Proc's methods.
var (
	ErrRunning     = errors.New("proc: process still running")
	ErrNotReady    = errors.New("proc: process did not become ready")
	ErrTermTimeout = errors.New("proc: process did not exit after SIGTERM; killed")
)

// Program names a binary proc can start.
type Program string

// The programs.
const (
	Namesrv Program = "mqnamesrv"
	Broker  Program = "mqbroker"
)

// ReadyTimeoutDefault bounds the wait for a start (recovery included) when
// Options.ReadyTimeout is zero. A start that takes longer is broken, not slow.
const ReadyTimeoutDefault = 60 * time.Second

// Options configures a Proc. Only Dir is required.
type Options struct {
	// Bin is the directory holding the binaries; "" means BinDir.
	Bin string
	// Dir holds the config file, the store (Dir/store) or kvConfig.json and
	// the log; created if missing. Reuse it to restart on an old store.
	Dir string
	// Props are extra properties; they win over the defaults (see
	// StartNamesrv, StartBroker). A listenPort given here is used as is,
	// otherwise proc picks free ports.
	Props map[string]string
	// Env is appended to the driver's environment, e.g.
	// crashpoint.Env(crashpoint.WriterMidGroupCommit, 3) or
	// wallclock.Env(2*time.Hour). ACTORMQ_CRASHPOINT and
	// ACTORMQ_WALLCLOCK_OFFSET are removed from the inherited environment, so
	// only Env sets them.
	Env []string
	// Namesrv is the broker's namesrvAddr ("a:p;b:q"), passed as -n.
	Namesrv string
	// ReadyTimeout bounds each start; zero means ReadyTimeoutDefault.
	ReadyTimeout time.Duration
}

// Exit says how a run ended.
type Exit struct {
	Code   int            // exit status, -1 when a signal ended the process
	Signal syscall.Signal // the signal that ended it, 0 when it exited
}

// Killed reports whether the process died of SIGKILL: a Kill9, or a crash
// point firing.
func (e Exit) Killed() bool { return e.Signal == syscall.SIGKILL }

func (e Exit) String() string {
	if e.Signal != 0 {
		return "signal " + e.Signal.String()
	}
	return "exit status " + strconv.Itoa(e.Code)
}

// Proc is one NameServer or broker: its ports, config and store stay across
// restarts. Its methods are safe from any goroutine.
type Proc struct {
	program  Program
	opts     Options
	port     int
	confPath string
	logPath  string

	mu   sync.Mutex // guards env, run and runs
	env  []string
	run  *run // the latest run; nil before the first start
	runs int
}

// run is one started process.
type run struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited and exit is set
	exit Exit
}

// Addr is the "127.0.0.1:port" the process serves on (listenPort).
func (p *Proc) Addr() string { return "127.0.0.1:" + strconv.Itoa(p.port) }

// Port is listenPort. A broker also listens on Port-2 (fast channel) and
// keeps Port+1 free for haListenPort.
func (p *Proc) Port() int { return p.port }

// Program is the binary this Proc runs.
func (p *Proc) Program() Program { return p.program }

// Dir is the Proc's directory (Options.Dir).
func (p *Proc) Dir() string { return p.opts.Dir }

// LogPath is the file with every run's output and the harness's events.
func (p *Proc) LogPath() string { return p.logPath }

// PID is the process id of the latest run (0 before the first start).
func (p *Proc) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.run == nil {
		return 0
	}
	return p.run.cmd.Process.Pid
}

// SetEnv replaces Options.Env for later Restarts, e.g. to disarm a crash
// point that fired or arm another.
func (p *Proc) SetEnv(env []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.env = append([]string(nil), env...)
}

// Done is closed when the latest run has exited (by a kill, a crash point,
// SIGTERM or on its own).
func (p *Proc) Done() <-chan struct{} { return p.current().done }

// Exited reports whether the latest run has exited, and how.
func (p *Proc) Exited() (Exit, bool) {
	r := p.current()
	select {
	case <-r.done:
		return r.exit, true
	default:
		return Exit{}, false
	}
}

// Wait waits until the latest run exits or ctx ends.
func (p *Proc) Wait(ctx context.Context) (Exit, error) {
	r := p.current()
	select {
	case <-r.done:
		return r.exit, nil
	case <-ctx.Done():
		return Exit{}, fmt.Errorf("proc: wait for %s (pid %d): %w", p.program, r.cmd.Process.Pid, ctx.Err())
	}
}

// Kill9 sends SIGKILL to the latest run and waits until it is gone. A run
// that has already exited is left alone; the returned Exit says how it ended.
func (p *Proc) Kill9() (Exit, error) {
	r := p.current()
	if e, ok := p.Exited(); ok {
		return e, nil
	}
	p.event("kill9", r.cmd.Process.Pid, nil)
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return Exit{}, fmt.Errorf("proc: SIGKILL %s (pid %d): %w", p.program, r.cmd.Process.Pid, err)
	}
	<-r.done // SIGKILL cannot be caught; the wait is bounded by the kernel
	return r.exit, nil
}

// Term sends SIGTERM and waits up to timeout for the process to exit; a
// clean shutdown is Exit{Code: 0}. After timeout it sends SIGKILL and
// returns ErrTermTimeout with the Exit of the killed process.
func (p *Proc) Term(timeout time.Duration) (Exit, error) {
	r := p.current()
	if e, ok := p.Exited(); ok {
		return e, nil
	}
	p.event("term", r.cmd.Process.Pid, nil)
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return Exit{}, fmt.Errorf("proc: SIGTERM %s (pid %d): %w", p.program, r.cmd.Process.Pid, err)
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-r.done:
		return r.exit, nil
	case <-timer.C:
	}
	e, err := p.Kill9()
	if err != nil {
		return e, err
	}
	return e, fmt.Errorf("%w (%s, pid %d, after %s)", ErrTermTimeout, p.program, r.cmd.Process.Pid, timeout)
}

// Restart starts the process again on the same ports, config and store with
// the current Env (SetEnv), and waits until it serves. The latest run must
// have exited (Kill9, Term, or a crash point): ErrRunning otherwise.
func (p *Proc) Restart(ctx context.Context) error {
	if _, ok := p.Exited(); !ok {
		return fmt.Errorf("%w: %s pid %d", ErrRunning, p.program, p.PID())
	}
	return p.start(ctx)
}

func (p *Proc) current() *run {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.run == nil {
		panic("proc: Proc used before its first start") // only StartX returns a Proc
	}
	return p.run
}

// writeConfig writes props as the Proc's properties file.
func writeConfig(path string, props map[string]string) error {
	var b []byte
	for _, k := range sortedKeys(props) {
		b = fmt.Appendf(b, "%s=%s\n", k, props[k])
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("proc: write config: %w", err)
	}
	return nil
}

func newProc(program Program, opts Options) (*Proc, error) {
	if opts.Dir == "" {
		return nil, errors.New("proc: Options.Dir is required")
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("proc: %w", err)
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = ReadyTimeoutDefault
	}
	return &Proc{
		program:  program,
		opts:     opts,
		confPath: filepath.Join(opts.Dir, string(program)+".properties"),
		logPath:  filepath.Join(opts.Dir, string(program)+".log"),
		env:      append([]string(nil), opts.Env...),
	}, nil
}
