// Package freeport picks loopback ports for servers that tests and the sim
// harness stop and start again on the same port (brokers, NameServers).
//
// A port the kernel hands out for port 0 lies in its ephemeral range
// (/proc/sys/net/ipv4/ip_local_port_range). While a server on such a port is
// down, a client's connect() may get the same port as its source port; once
// that connection closes, its TIME_WAIT blocks the restarted server's bind
// for a minute, and SO_REUSEADDR does not help against a client socket that
// did not set it. Picks therefore come from below the ephemeral range (above
// it when there is no room below), as benchmarks/run.sh does, and operators
// do with their fixed ports.
//
// Unlike testkit it does not import testing, so the non-test code of sim/
// may use it; product code must not.
package freeport

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
)

// ErrNoPorts is returned when no free port group was found.
var ErrNoPorts = errors.New("freeport: no free loopback ports outside the ephemeral range")

const (
	// lowest is the least port picked: below are well-known and registered
	// ports that other software on the machine may use.
	lowest = 10000
	// highest bounds picks above the ephemeral range.
	highest = 65000
	// minRoom is the least range worth picking from; smaller ones would
	// make parallel tests collide often.
	minRoom = 1000
	// pickTries bounds the random search.
	pickTries = 200
)

// handedOut remembers every port this process handed out, so that two
// tests running in parallel never get the same port although each is
// free again between the check and the server's bind. Other processes
// (packages tested in parallel) pick at random from thousands of ports and
// see a port as taken once its server binds.
var handedOut struct {
	mu    sync.Mutex
	ports map[int]bool
}

// Pick returns a port p outside the ephemeral range such that p+d is free
// on 127.0.0.1 for every d in offsets, including of TIME_WAIT connections,
// and not handed out before by this process; it marks them handed out.
// Pick() alone picks one port; a broker needs Pick(0, -2, 1): listenPort,
// its fast channel and haListenPort.
func Pick(offsets ...int) (int, error) {
	if len(offsets) == 0 {
		offsets = []int{0}
	}
	lo, hi, err := Range()
	if err != nil {
		return 0, err
	}
	handedOut.mu.Lock()
	defer handedOut.mu.Unlock()
	if handedOut.ports == nil {
		handedOut.ports = map[int]bool{}
	}
next:
	for range pickTries {
		p := lo + rand.IntN(hi-lo+1)
		for _, d := range offsets {
			if q := p + d; q < lo || q > hi || handedOut.ports[q] || !Free(q) {
				continue next
			}
		}
		for _, d := range offsets {
			handedOut.ports[p+d] = true
		}
		return p, nil
	}
	return 0, ErrNoPorts
}

// Range is the span Pick picks from: below the kernel's ephemeral range,
// or above it when there is too little room below.
func Range() (lo, hi int, err error) {
	ephLow, ephHigh := 32768, 60999 // Linux's default, where the file is missing
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if _, err := fmt.Sscan(strings.TrimSpace(string(b)), &ephLow, &ephHigh); err != nil {
			return 0, 0, fmt.Errorf("freeport: ip_local_port_range %q: %w", b, err)
		}
	}
	if ephLow-1-lowest >= minRoom {
		return lowest, ephLow - 1, nil
	}
	if highest-(ephHigh+1) >= minRoom {
		return ephHigh + 1, highest, nil
	}
	return 0, 0, fmt.Errorf("%w: ephemeral range %d-%d", ErrNoPorts, ephLow, ephHigh)
}

// Free reports whether nothing uses port on 127.0.0.1, TIME_WAIT
// connections included: it binds with SO_REUSEADDR off, which such a
// connection makes fail. (Go's net.Listen sets SO_REUSEADDR and would bind
// beside a TIME_WAIT connection that had set it too.)
func Free(port int) bool {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 0)
		}); err != nil {
			return err
		}
		return serr
	}}
	l, err := lc.Listen(context.Background(), "tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}
