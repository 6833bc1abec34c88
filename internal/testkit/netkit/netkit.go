// Package netkit holds the netio fixtures that the tests of the packages
// above netio share: a server on 127.0.0.1:0, a client, a bounded invoke and
// a request router. It is a subpackage of testkit rather than part of it
// because netio's own tests use testkit, and a testkit that imported netio
// would be an import cycle for them.
//
// Like testkit, it is for _test.go files only: product code must not import
// it.
package netkit

import (
	"context"
	"testing"

	"github.com/rs/zerolog"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/internal/testkit/freeport"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/remoting"
)

// Serve starts a netio server for h on 127.0.0.1:0 with one event loop and no
// logs, shuts it down at the test's cleanup (bounded by testkit.Timeout) and
// returns its address. A Shutdown error is not reported: the tests using Serve
// test what sits behind the server, netio's own tests test Shutdown.
func Serve(t testing.TB, h netio.Handler) (addr string) {
	t.Helper()
	srv := netio.NewServer(netio.ServerConfig{Addr: "127.0.0.1:0", EventLoops: 1, Logger: zerolog.Nop()}, h)
	if err := srv.Start(); err != nil {
		t.Fatalf("server start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return srv.Addr()
}

// Client returns a netio client built from cfg and closed at the test's
// cleanup. A zero cfg.Logger logs nothing.
func Client(t testing.TB, cfg netio.ClientConfig) *netio.Client {
	t.Helper()
	c := netio.NewClient(cfg)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Invoke sends cmd to addr through c and returns the response, failing the
// test when no response comes within testkit.Timeout or the transport fails.
// It must run on the test's goroutine.
func Invoke(t testing.TB, c *netio.Client, addr string, cmd *remoting.Command) *remoting.Command {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
	defer cancel()
	resp, err := c.Invoke(ctx, addr, cmd)
	if err != nil {
		t.Fatalf("invoke code %d: %v", cmd.Code, err)
	}
	return resp
}

// Invoker serves h (Serve), opens a client (Client) and returns a function
// that invokes a command on that server (Invoke). At cleanup the client
// closes first, then the server.
func Invoker(t testing.TB, h netio.Handler) func(cmd *remoting.Command) *remoting.Command {
	t.Helper()
	addr := Serve(t, h)
	c := Client(t, netio.ClientConfig{})
	return func(cmd *remoting.Command) *remoting.Command {
		t.Helper()
		return Invoke(t, c, addr, cmd)
	}
}

// Router is a netio.Handler that dispatches each request to the handler of
// its code and answers REQUEST_CODE_NOT_SUPPORTED for a code without one, as
// the broker's router does; it stands in for that router in the tests of the
// actors that provide the handlers. Handlers must not change while it serves.
type Router struct {
	Handlers map[int32]func(*netio.Conn, *remoting.Command)
	// Closed, when set, is told of every closed connection.
	Closed func(*netio.Conn)
}

// OnRequest implements netio.Handler; it runs on a gnet loop.
func (r *Router) OnRequest(c *netio.Conn, cmd *remoting.Command) {
	if h := r.Handlers[cmd.Code]; h != nil {
		h(c, cmd)
		return
	}
	_ = c.Write(remoting.NewResponse(cmd, remoting.RespRequestCodeNotSupported, "not supported"))
}

// OnClose implements netio.Handler; it runs on a gnet loop.
func (r *Router) OnClose(c *netio.Conn) {
	if r.Closed != nil {
		r.Closed(c)
	}
}

// BrokerPort picks a loopback port for an in-process broker that a test may
// restart on it (freeport.Pick: outside the ephemeral range, free a moment
// ago, never handed out twice), with its fast-channel neighbour (port−2)
// and haListenPort (port+1) free as well.
func BrokerPort(t testing.TB) int {
	t.Helper()
	port, err := freeport.Pick(0, -2, 1)
	if err != nil {
		t.Fatal(err)
	}
	return port
}
