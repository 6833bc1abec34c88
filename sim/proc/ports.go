package proc

import (
	"errors"
	"fmt"
	"net"
	"sync"
)

// ErrNoPorts is returned when no free loopback port (group) was found.
var ErrNoPorts = errors.New("proc: no free loopback ports")

// portPickTries bounds the search for a free port group.
const portPickTries = 100

// handedOut remembers every port this process gave to a Proc, so that two
// Procs started at the same time never get the same port even though each
// port is released between the check and the child's bind. A kernel-assigned
// port can still be taken by someone else in that window; start retries
// with fresh ports when the child reports "address already in use".
var handedOut struct {
	mu    sync.Mutex
	ports map[int]bool
}

// pickPorts returns a port p such that p+d is free on 127.0.0.1 for every d
// in offsets (offsets contains 0), and marks them handed out. The broker
// needs {0, -2, +1}: listenPort, its fast channel and haListenPort.
func pickPorts(offsets ...int) (int, error) {
	handedOut.mu.Lock()
	defer handedOut.mu.Unlock()
	if handedOut.ports == nil {
		handedOut.ports = map[int]bool{}
	}
next:
	for range portPickTries {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("proc: listen on loopback: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		for _, d := range offsets {
			q := port + d
			if q < 1 || q > 65535 || handedOut.ports[q] || !portFree(q) {
				continue next
			}
		}
		for _, d := range offsets {
			handedOut.ports[port+d] = true
		}
		return port, nil
	}
	return 0, ErrNoPorts
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}
