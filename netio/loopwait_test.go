package netio

import (
	"runtime"
	"strings"
	"testing"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/wire/remoting"
)

// TestIdlePollersWaitInTheNetpoller: an event loop with nothing to do waits
// parked in Go's netpoller ("IO wait"), not blocked in epoll_wait
// ("syscall"), where it kept its P and Go's sysmon took that P away from
// it about a thousand times a second under load (third_party/gnet, the
// patched default epoll poller). Fails with upstream gnet's poller.
func TestIdlePollersWaitInTheNetpoller(t *testing.T) {
	h := newTestHandler()
	s := startServer(t, ServerConfig{EventLoops: 2}, h)
	cl := newTestClient(t, ClientConfig{})
	req := remoting.NewRequest(remoting.ReqSendMessage, map[string]string{"topic": "T"}, []byte("x"))
	if _, err := cl.Invoke(testkit.Context(t), s.Addr(), req); err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	// The two loops and the listener's own poller.
	testkit.Eventually(t, "every idle poller parked in the netpoller", func() bool {
		states := pollerStates()
		for _, state := range states {
			if state != "IO wait" {
				return false
			}
		}
		return len(states) == 3
	})
}

// pollerStates returns the scheduler state of each goroutine running a
// gnet poller's Polling, as the goroutine dump shows it ("IO wait", "syscall").
func pollerStates() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var states []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if !strings.Contains(g, "netpoll.(*Poller).Polling") {
			continue
		}
		head, _, _ := strings.Cut(g, "\n")
		if i, j := strings.IndexByte(head, '['), strings.IndexByte(head, ']'); i >= 0 && j > i {
			state, _, _ := strings.Cut(head[i+1:j], ",") // "IO wait, 2 minutes"
			states = append(states, state)
		}
	}
	return states
}
