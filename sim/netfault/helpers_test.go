package netfault

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/internal/testkit/netkit"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/remoting"
)

// echoCode is the request code the echo server answers.
const echoCode int32 = 1

// echoServer is a netio server that answers echoCode with the request's
// body and counts what it handled and the connections that closed.
type echoServer struct {
	addr     string
	requests atomic.Int64
	closes   atomic.Int64
}

func startEcho(t *testing.T) *echoServer {
	t.Helper()
	s := &echoServer{}
	s.addr = netkit.Serve(t, &netkit.Router{
		Handlers: map[int32]func(*netio.Conn, *remoting.Command){
			echoCode: func(c *netio.Conn, cmd *remoting.Command) {
				s.requests.Add(1)
				resp := remoting.NewResponse(cmd, remoting.RespSuccess, "")
				resp.Body = cmd.Body
				_ = c.Write(resp)
			},
		},
		Closed: func(*netio.Conn) { s.closes.Add(1) },
	})
	return s
}

func listen(t *testing.T, opts Options) *Proxy {
	t.Helper()
	p, err := Listen(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// echo invokes echoCode with body through c within timeout.
func echo(c *netio.Client, addr, body string, timeout time.Duration) (*remoting.Command, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return c.Invoke(ctx, addr, remoting.NewRequest(echoCode, nil, []byte(body)))
}

// mustEcho fails the test unless the echo of body comes back.
func mustEcho(t *testing.T, c *netio.Client, addr, body string) {
	t.Helper()
	resp, err := echo(c, addr, body, testkit.Timeout)
	if err != nil {
		t.Fatalf("echo %q: %v", body, err)
	}
	if resp.Code != remoting.RespSuccess || string(resp.Body) != body {
		t.Fatalf("echo %q: code %d body %q", body, resp.Code, resp.Body)
	}
}

// faultEvents is the proxy's fault events, times cleared (for comparisons).
func faultEvents(p *Proxy) []Event {
	var out []Event
	for _, e := range p.Events() {
		switch e.Kind {
		case KindDrop, KindReset, KindHalfOpen:
			e.At = time.Time{}
			out = append(out, e)
		}
	}
	return out
}

func countKind(events []Event, k Kind) int {
	n := 0
	for _, e := range events {
		if e.Kind == k {
			n++
		}
	}
	return n
}

func body(i int) string { return "body-" + strconv.Itoa(i) }
