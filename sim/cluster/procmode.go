package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/actormq/actormq/internal/crashpoint"
	"github.com/actormq/actormq/internal/wallclock"
	"github.com/actormq/actormq/sim/check"
	"github.com/actormq/actormq/sim/history"
	"github.com/actormq/actormq/sim/proc"
	"github.com/actormq/actormq/storage/vfs"
)

// termTimeout bounds a clean stop of a broker process.
const termTimeout = 30 * time.Second

// Proc is a NameServer and a broker as real processes under dir.
type Proc struct {
	ns, br *proc.Proc
	// The environment of the broker's next starts: a crash point to arm,
	// the wall clock's offset.
	crashEnv, clockEnv string
}

// StartProc starts mqnamesrv and mqbroker (binaries from bin, or built
// once when bin is empty) under dir. The broker registers with via(the
// NameServer's address).
func StartProc(ctx context.Context, bin, dir string, via func(string) (string, error)) (*Proc, error) {
	ns, err := proc.StartNamesrv(ctx, proc.Options{Bin: bin, Dir: filepath.Join(dir, "namesrv")})
	if err != nil {
		return nil, err
	}
	nsAddr, err := via(ns.Addr())
	if err != nil {
		_, _ = ns.Kill9()
		return nil, err
	}
	br, err := proc.StartBroker(ctx, proc.Options{Bin: bin, Dir: filepath.Join(dir, "broker"), Props: Props(), Namesrv: nsAddr})
	if err != nil {
		_, _ = ns.Kill9()
		return nil, err
	}
	return &Proc{ns: ns, br: br}, nil
}

func (c *Proc) BrokerAddr() string  { return c.br.Addr() }
func (c *Proc) NamesrvAddr() string { return c.ns.Addr() }

// BrokerLog is the broker's log file (every run's output).
func (c *Proc) BrokerLog() string { return c.br.LogPath() }

func (c *Proc) Layout() check.Layout {
	root := filepath.Join(c.br.Dir(), "store")
	return check.Layout{FS: vfs.Default, RootDir: root, CommitLogBytes: CommitLogBytes}
}

// Stop: clean is SIGTERM (exit status 0 required), kill is SIGKILL.
func (c *Proc) Stop(ctx context.Context, way Way, down func()) error {
	switch way {
	case history.StopClean:
		down()
		exit, err := c.br.Term(termTimeout)
		if err == nil && exit.Code != 0 {
			err = fmt.Errorf("cluster: broker exited with %s after SIGTERM", exit)
		}
		return err
	case history.StopKill:
		_, err := c.br.Kill9()
		down()
		return err
	}
	return fmt.Errorf("%w: stop %q", ErrUnsupported, way)
}

// FlipBit flips a bit of a stopped broker's store file.
func (c *Proc) FlipBit(name string, off int64, bit uint) error {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		return err
	}
	b[0] ^= 1 << bit
	if _, err := f.WriteAt(b, off); err != nil {
		return err
	}
	return f.Sync()
}

// ArmCrashPoint makes the broker's next starts SIGKILL themselves at the
// n-th hit of the named point (internal/crashpoint); "" disarms.
func (c *Proc) ArmCrashPoint(name string, n int) {
	c.crashEnv = ""
	if name != "" {
		c.crashEnv = crashpoint.Env(name, n)
	}
	c.setEnv()
}

// SetClockOffset makes the broker's next starts run with the wall clock
// shifted by d (internal/wallclock); a running broker keeps its clock.
func (c *Proc) SetClockOffset(d time.Duration) {
	c.clockEnv = ""
	if d != 0 {
		c.clockEnv = wallclock.Env(d)
	}
	c.setEnv()
}

func (c *Proc) setEnv() {
	var env []string
	for _, kv := range []string{c.crashEnv, c.clockEnv} {
		if kv != "" {
			env = append(env, kv)
		}
	}
	c.br.SetEnv(env)
}

// WaitExit waits up to d for the broker's current run to exit (a crash
// point fired) and reports whether it did.
func (c *Proc) WaitExit(d time.Duration) bool {
	select {
	case <-c.br.Done():
		return true
	case <-time.After(d):
		return false
	}
}

// Start restarts the broker on its store.
func (c *Proc) Start(ctx context.Context) error { return c.br.Restart(ctx) }

// Close kills both processes (the store is not needed after the check).
func (c *Proc) Close() {
	_, _ = c.br.Kill9()
	_, _ = c.ns.Kill9()
}
