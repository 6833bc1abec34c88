package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// Ports come from below the kernel's ephemeral range
// (/proc/sys/net/ipv4/ip_local_port_range), or above it when there is no
// room below, as in benchmarks/run.sh and the main module's
// internal/testkit/freeport (which this nested module cannot import: it
// does not require the main module). A port inside the range can become a
// client connection's source port while a killed broker is down; that
// connection's TIME_WAIT then blocks the restarted broker's bind, even with
// SO_REUSEADDR.
const (
	portLowest    = 10000 // below: well-known and registered ports
	portHighest   = 65000 // bounds picks above the ephemeral range
	portMinRoom   = 1000  // less would make parallel tests collide often
	portPickTries = 200
)

// handedOut keeps parallel tests of this process from getting the same
// port: each is free again between the check and the child's bind.
var handedOut struct {
	mu    sync.Mutex
	ports map[int]bool
}

// freePort returns a loopback port outside the ephemeral range, free a
// moment ago (TIME_WAIT connections included) and not handed out before. A
// broker also listens on port-2 (fast channel) and may use port+1 (HA), so
// those are checked and handed out too.
func freePort(t *testing.T) int {
	t.Helper()
	lo, hi := portRange(t)
	handedOut.mu.Lock()
	defer handedOut.mu.Unlock()
	if handedOut.ports == nil {
		handedOut.ports = map[int]bool{}
	}
next:
	for range portPickTries {
		p := lo + rand.IntN(hi-lo+1)
		group := []int{p, p - 2, p + 1}
		for _, q := range group {
			if q < lo || q > hi || handedOut.ports[q] || !portFree(q) {
				continue next
			}
		}
		for _, q := range group {
			handedOut.ports[q] = true
		}
		return p
	}
	t.Fatalf("no free port triple in %d-%d", lo, hi)
	return 0
}

// portRange is where freePort picks: below the ephemeral range, or above it.
func portRange(t *testing.T) (lo, hi int) {
	t.Helper()
	ephLow, ephHigh := 32768, 60999 // Linux's default, where the file is missing
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if _, err := fmt.Sscan(strings.TrimSpace(string(b)), &ephLow, &ephHigh); err != nil {
			t.Fatalf("ip_local_port_range %q: %v", b, err)
		}
	}
	if ephLow-1-portLowest >= portMinRoom {
		return portLowest, ephLow - 1
	}
	if portHighest-(ephHigh+1) >= portMinRoom {
		return ephHigh + 1, portHighest
	}
	t.Fatalf("no room for broker ports outside the ephemeral range %d-%d", ephLow, ephHigh)
	return 0, 0
}

// portFree reports whether nothing uses port on 127.0.0.1, TIME_WAIT
// connections included: it binds with SO_REUSEADDR off, which such a
// connection makes fail (net.Listen sets SO_REUSEADDR).
func portFree(port int) bool {
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

// TestStartOnTakenPort reproduces the window freePort leaves open: a port
// free when picked and taken before the child binds it. The NameServer's
// listen port and the broker's fast-channel port (listenPort-2) are held
// by a listener here; each process must come up on the next pick instead.
func TestStartOnTakenPort(t *testing.T) {
	hold := func(port int) {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Fatalf("hold port %d: %v", port, err)
		}
		t.Cleanup(func() { l.Close() })
	}
	// takenFirst returns taken on its first call and freePort's picks after.
	takenFirst := func(taken int, calls *int) func(*testing.T) int {
		return func(t *testing.T) int {
			*calls++
			if *calls == 1 {
				return taken
			}
			return freePort(t)
		}
	}

	nsTaken := freePort(t)
	hold(nsTaken)
	var nsCalls int
	ns := startNamesrvPicking(t, takenFirst(nsTaken, &nsCalls))
	if nsCalls != 2 || ns.addr == fmt.Sprintf("127.0.0.1:%d", nsTaken) {
		t.Fatalf("NameServer on %s after %d picks; port %d was taken", ns.addr, nsCalls, nsTaken)
	}

	brokerTaken := freePort(t)
	hold(brokerTaken - 2)
	var brokerCalls int
	o := defaultBrokerOpts()
	o.pickPort = takenFirst(brokerTaken, &brokerCalls)
	b := startBroker(t, ns, o)
	if brokerCalls != 2 || b.addr == fmt.Sprintf("127.0.0.1:%d", brokerTaken) {
		t.Fatalf("broker on %s after %d picks; port %d was taken", b.addr, brokerCalls, brokerTaken-2)
	}
}
