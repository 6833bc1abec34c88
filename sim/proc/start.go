package proc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/actormq/actormq/internal/crashpoint"
	"github.com/actormq/actormq/internal/testkit/freeport"
	"github.com/actormq/actormq/internal/wallclock"
)

// bootLine is what both programs print once Start has returned (listeners
// up, store recovered); proc waits for it and for a dial to succeed.
var bootLine = []byte("boot success")

// startTries bounds the starts with freshly picked ports when a port proc
// picked was taken between the check and the child's bind.
const startTries = 3

// readyPoll is how often a start checks the log and the port.
const readyPoll = 10 * time.Millisecond

// StartNamesrv starts a NameServer and waits until it serves (see started
// for what an error returns). Default
// properties (Options.Props win): listenPort (a free port), bindAddress
// 127.0.0.1, kvConfigPath Dir/kvConfig.json.
func StartNamesrv(ctx context.Context, opts Options) (*Proc, error) {
	p, err := newProc(Namesrv, opts)
	if err != nil {
		return nil, err
	}
	defaults := map[string]string{
		"bindAddress":  "127.0.0.1",
		"kvConfigPath": filepath.Join(opts.Dir, "kvConfig.json"),
	}
	return p.started(p.firstStart(ctx, defaults, []int{0}))
}

// StartBroker starts a broker and waits until it serves (see started for
// what an error returns); it registers with the NameServer right after,
// which WaitRegistered waits for. Default
// properties (Options.Props win): brokerClusterName SimCluster, brokerName
// broker-sim, ASYNC_MASTER, ASYNC_FLUSH, bindAddress and brokerIP1
// 127.0.0.1, storePathRootDir Dir/store, 8 MiB CommitLog segments,
// autoCreateTopicEnable true, listenPort a free port p with p-2 (fast
// channel) and p+1 (haListenPort) free too.
func StartBroker(ctx context.Context, opts Options) (*Proc, error) {
	p, err := newProc(Broker, opts)
	if err != nil {
		return nil, err
	}
	defaults := map[string]string{
		"brokerClusterName":      "SimCluster",
		"brokerName":             "broker-sim",
		"brokerId":               "0",
		"brokerRole":             "ASYNC_MASTER",
		"flushDiskType":          "ASYNC_FLUSH",
		"bindAddress":            "127.0.0.1",
		"brokerIP1":              "127.0.0.1",
		"storePathRootDir":       filepath.Join(opts.Dir, "store"),
		"autoCreateTopicEnable":  "true",
		"mapedFileSizeCommitLog": strconv.Itoa(8 << 20),
	}
	return p.started(p.firstStart(ctx, defaults, []int{0, -2, 1}))
}

// started is what StartNamesrv and StartBroker return: on an error, the
// Proc too when a process was started (it died or hung during start, e.g.
// at a crash point), so that the caller can read its log, Wait or Restart.
func (p *Proc) started(err error) (*Proc, error) {
	if err != nil && p.PID() == 0 {
		return nil, err
	}
	return p, err
}

// firstStart writes the config (picking ports unless Props set listenPort)
// and starts; a child that lost a picked port to someone else is started
// again on new ports.
func (p *Proc) firstStart(ctx context.Context, defaults map[string]string, portOffsets []int) error {
	props := defaults
	for k, v := range p.opts.Props {
		props[k] = v
	}
	_, fixed := p.opts.Props["listenPort"]
	for try := 1; ; try++ {
		if fixed {
			port, err := strconv.Atoi(props["listenPort"])
			if err != nil {
				return fmt.Errorf("proc: listenPort %q: %w", props["listenPort"], err)
			}
			p.port = port
		} else {
			// Outside the ephemeral range: Restart binds these ports
			// again, which a client's TIME_WAIT on one would block.
			port, err := freeport.Pick(portOffsets...)
			if err != nil {
				return err
			}
			p.port = port
			props["listenPort"] = strconv.Itoa(port)
			if p.program == Broker && p.opts.Props["haListenPort"] == "" {
				props["haListenPort"] = strconv.Itoa(port + 1)
			}
		}
		if err := writeConfig(p.confPath, props); err != nil {
			return err
		}
		err := p.start(ctx)
		if err == nil || fixed || try == startTries || !errors.Is(err, errAddrInUse) {
			return err
		}
	}
}

var errAddrInUse = errors.New("address already in use")

// start runs the binary once and waits until it serves.
func (p *Proc) start(ctx context.Context) error {
	bin := p.opts.Bin
	if bin == "" {
		var err error
		if bin, err = BinDir(ctx); err != nil {
			return err
		}
	}
	args := []string{"-c", p.confPath}
	if p.program == Broker && p.opts.Namesrv != "" {
		args = append(args, "-n", p.opts.Namesrv)
	}
	logFile, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("proc: log file: %w", err)
	}
	defer logFile.Close() // the child has its own copy of the descriptor
	logStart, err := logFile.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("proc: log file: %w", err)
	}

	p.mu.Lock()
	env := p.env
	p.runs++
	runNo := p.runs
	p.mu.Unlock()

	// exec.Command, not CommandContext: ctx bounds the start, not the
	// process's life.
	cmd := exec.Command(filepath.Join(bin, string(p.program)), args...)
	cmd.Dir = p.opts.Dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(inheritedEnv(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("proc: start %s: %w", p.program, err)
	}
	r := &run{cmd: cmd, done: make(chan struct{})}
	p.mu.Lock()
	p.run = r
	p.mu.Unlock()
	p.event("start", cmd.Process.Pid, map[string]any{"run": runNo, "addr": p.Addr(), "env": env})
	go p.reap(r)
	return p.waitReady(ctx, r, logStart)
}

// reap waits for the run's exit and records it.
func (p *Proc) reap(r *run) {
	err := r.cmd.Wait()
	fields := map[string]any{}
	r.exit = Exit{Code: -1}
	switch ps := r.cmd.ProcessState; {
	case ps == nil: // Wait failed before the process was reaped
		fields["error"] = err.Error()
	case ps.Sys().(syscall.WaitStatus).Signaled():
		r.exit.Signal = ps.Sys().(syscall.WaitStatus).Signal()
	default:
		r.exit.Code = ps.ExitCode()
	}
	fields["exit"] = r.exit.String()
	p.event("exit", r.cmd.Process.Pid, fields)
	close(r.done)
}

// waitReady polls until the run printed the boot line and accepts a
// connection, it exits, ctx ends or ReadyTimeout passes.
func (p *Proc) waitReady(ctx context.Context, r *run, logStart int64) error {
	ctx, cancel := context.WithTimeout(ctx, p.opts.ReadyTimeout)
	defer cancel()
	tick := time.NewTicker(readyPoll)
	defer tick.Stop()
	for {
		out := p.logSince(logStart)
		select {
		case <-r.done:
			err := fmt.Errorf("%w: %s exited during start (%s): %s", ErrNotReady, p.program, r.exit, tail(out))
			if bytes.Contains(out, []byte(errAddrInUse.Error())) {
				err = fmt.Errorf("%w: %w", err, errAddrInUse)
			}
			return err
		default:
		}
		if bytes.Contains(out, bootLine) {
			if c, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
				_ = c.Close()
				return nil
			}
		}
		select {
		case <-ctx.Done():
			_, _ = p.Kill9()
			return fmt.Errorf("%w: %s (pid %d) within %s: %w: %s",
				ErrNotReady, p.program, r.cmd.Process.Pid, p.opts.ReadyTimeout, ctx.Err(), tail(p.logSince(logStart)))
		case <-tick.C:
		}
	}
}

func (p *Proc) logSince(off int64) []byte {
	f, err := os.Open(p.logPath)
	if err != nil {
		return nil
	}
	defer f.Close()
	b, _ := io.ReadAll(io.NewSectionReader(f, off, 1<<40))
	return b
}

// tail is the end of a start's output, for errors.
func tail(out []byte) string {
	const tailBytes = 2000
	if len(out) > tailBytes {
		out = out[len(out)-tailBytes:]
	}
	return strings.TrimSpace(string(out))
}

// event appends one harness event line to the log. O_APPEND writes of one
// short line are not interleaved with the child's lines.
func (p *Proc) event(name string, pid int, fields map[string]any) {
	line := map[string]any{"proc": "sim", "event": name, "program": p.program, "pid": pid,
		"time": time.Now().Format(time.RFC3339Nano)}
	for k, v := range fields {
		line[k] = v
	}
	b, err := json.Marshal(line)
	if err != nil {
		return
	}
	f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	_, _ = f.Write(append(b, '\n'))
	_ = f.Close()
}

// inheritedEnv is the driver's environment without a crash point or a
// clock offset: only Options.Env sets those.
func inheritedEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, crashpoint.EnvVar+"=") || strings.HasPrefix(kv, wallclock.EnvVar+"=")
	})
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
