package cluster

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/actormq/actormq/actors/broker"
	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/namesrv"
	"github.com/actormq/actormq/internal/crashpoint"
	"github.com/actormq/actormq/internal/testkit/freeport"
	"github.com/actormq/actormq/sim/check"
	"github.com/actormq/actormq/sim/faultfs"
	"github.com/actormq/actormq/sim/history"
)

// storeRoot is the broker's storePathRootDir on the faultfs.
const storeRoot = "/store"

// InProc is a NameServer and a broker in this process; the broker keeps its
// store and config files on a faultfs.FS.
type InProc struct {
	log zerolog.Logger
	ns  *namesrv.Server
	cfg config.Broker
	fs  *faultfs.FS // the broker's current disk; replaced by a power cut
	br  *broker.Broker

	mu      sync.Mutex  // guards cutDisk: a crash point fires on a broker goroutine
	cutDisk *faultfs.FS // the image of a power cut a crash point made, for the next Stop
}

// StartInProc starts a NameServer (kvConfig.json under dir, on the OS file
// system) and a broker on a fresh faultfs seeded with seed. The broker
// registers with via(the NameServer's address) (a fault proxy, or the
// address itself). Logs go to log.
func StartInProc(seed uint64, dir string, log zerolog.Logger, via func(string) (string, error)) (*InProc, error) {
	nsCfg, _, err := config.LoadNamesrv("", map[string]string{
		"listenPort": "0", "bindAddress": "127.0.0.1", "kvConfigPath": filepath.Join(dir, "kvConfig.json"),
	})
	if err != nil {
		return nil, err
	}
	c := &InProc{log: log, fs: faultfs.New(seed), ns: namesrv.New(nsCfg, log)}
	if err := c.ns.Start(); err != nil {
		return nil, fmt.Errorf("cluster: namesrv: %w", err)
	}
	// Outside the ephemeral range: Start after Stop binds it again, which
	// a client's TIME_WAIT on it would block.
	port, err := freeport.Pick(0, -2, 1) // listenPort, fast channel, haListenPort
	if err != nil {
		c.Close()
		return nil, err
	}
	props := Props()
	props["listenPort"] = strconv.Itoa(port)
	props["storePathRootDir"] = storeRoot
	if props["namesrvAddr"], err = via(c.ns.Addr()); err != nil {
		c.Close()
		return nil, err
	}
	if c.cfg, _, err = config.LoadBroker("", props); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.Start(context.Background()); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// FS is the broker's current disk (the driver injects faults into it).
func (c *InProc) FS() *faultfs.FS { return c.fs }

func (c *InProc) BrokerAddr() string  { return "127.0.0.1:" + strconv.Itoa(c.cfg.ListenPort) }
func (c *InProc) NamesrvAddr() string { return c.ns.Addr() }

func (c *InProc) Layout() check.Layout {
	return check.Layout{FS: c.fs, RootDir: storeRoot, CommitLogDir: c.cfg.StorePathCommitLog, CommitLogBytes: CommitLogBytes}
}

// Start starts a broker on the current disk.
func (c *InProc) Start(ctx context.Context) error {
	if c.br != nil {
		return fmt.Errorf("cluster: broker already running")
	}
	br := broker.New(c.cfg, c.log, broker.WithFS(c.fs))
	if err := br.Start(); err != nil {
		return err
	}
	c.br = br
	return nil
}

// Stop stops the broker: clean is Shutdown; powercut crashes the disk
// first (only synced data survives; a crash point may have done so
// already), then shuts the broker down (it fails on every file operation
// from then on) and keeps the crash image for the next Start. kill has no
// in-process equivalent.
func (c *InProc) Stop(ctx context.Context, way Way, down func()) error {
	if c.br == nil {
		return fmt.Errorf("cluster: broker not running")
	}
	br := c.br
	c.br = nil
	switch way {
	case history.StopClean:
		down()
		return br.Shutdown(ctx)
	case history.StopPowerCut:
		c.mu.Lock()
		image := c.cutDisk
		c.cutDisk = nil
		c.mu.Unlock()
		if image == nil {
			image = c.fs.Crash()
			down()
		}
		c.fs = image
		_ = br.Shutdown(ctx) // fails on the crashed disk: expected
		return nil
	}
	c.br = br
	return fmt.Errorf("%w: stop %q", ErrUnsupported, way)
}

// ArmCrash arms crash point name for its n-th hit and waits up to wait for
// it to fire: there, on the goroutine that hit the point, it calls cut,
// the disk loses power (as Stop with powercut) and it calls down. The
// broker keeps running on the dead disk until the driver calls
// Stop(powercut). It reports whether the point fired (if not, it is
// disarmed).
func (c *InProc) ArmCrash(name string, n int, wait time.Duration, cut, down func()) bool {
	fired := make(chan struct{})
	fs := c.fs
	crashpoint.Arm(name, n, func() {
		cut()
		image := fs.Crash()
		c.mu.Lock()
		c.cutDisk = image
		c.mu.Unlock()
		down()
		close(fired)
	})
	select {
	case <-fired:
		return true
	case <-time.After(wait):
	}
	if crashpoint.Disarm(name) {
		return false
	}
	<-fired // it fired between the timeout and the disarm
	return true
}

// FlipBit flips a stored bit of the stopped broker's disk.
func (c *InProc) FlipBit(name string, off int64, bit uint) error { return c.fs.FlipBit(name, off, bit) }

// closeTimeout bounds Close's shutdowns.
const closeTimeout = 30 * time.Second

// Close stops the broker (cleanly) and the NameServer.
func (c *InProc) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	if c.br != nil {
		_ = c.br.Shutdown(ctx)
		c.br = nil
	}
	if c.ns != nil {
		_ = c.ns.Shutdown(ctx)
	}
}
