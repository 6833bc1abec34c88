package netio

import (
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/wire/remoting"
)

// testHandler answers per its mode and records what it saw.
type testHandler struct {
	// respond builds the answer; nil means echo. Returning nil drops the request.
	respond func(c *Conn, req *remoting.Command) *remoting.Command

	requests atomic.Int64
	closes   atomic.Int64
	mu       sync.Mutex
	conns    map[uint64]*Conn // every connection that sent a request
	closed   map[uint64]int   // OnClose calls per connection
}

func newTestHandler() *testHandler {
	return &testHandler{conns: make(map[uint64]*Conn), closed: make(map[uint64]int)}
}

// echo answers with the request's code, body and extFields plus the server
// connection id.
func echo(c *Conn, req *remoting.Command) *remoting.Command {
	resp := remoting.NewResponse(req, remoting.RespSuccess, "")
	req.EachExt(resp.SetExt)
	resp.SetExt("connID", strconv.FormatUint(c.ID(), 10))
	resp.SetExt("reqCode", strconv.Itoa(int(req.Code)))
	resp.Body = req.Body
	return resp
}

func (h *testHandler) OnRequest(c *Conn, cmd *remoting.Command) {
	h.requests.Add(1)
	h.mu.Lock()
	h.conns[c.ID()] = c
	h.mu.Unlock()
	respond := h.respond
	if respond == nil {
		respond = echo
	}
	if resp := respond(c, cmd); resp != nil {
		_ = c.Write(resp)
	}
}

func (h *testHandler) OnClose(c *Conn) {
	h.closes.Add(1)
	h.mu.Lock()
	h.closed[c.ID()]++
	h.mu.Unlock()
}

func (h *testHandler) connCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

func (h *testHandler) anyConn() *Conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.conns {
		return c
	}
	return nil
}

// startServer starts a server on 127.0.0.1:0 and shuts it down at cleanup.
func startServer(t testing.TB, cfg ServerConfig, h Handler) *Server {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.EventLoops == 0 {
		cfg.EventLoops = 2
	}
	return testkit.Start(t, NewServer(cfg, h))
}

// newTestClient builds a client closed at cleanup.
func newTestClient(t testing.TB, cfg ClientConfig) *Client {
	t.Helper()
	c := NewClient(cfg)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// dialRaw opens a plain TCP connection to s, closed at cleanup.
func dialRaw(t testing.TB, addr string) net.Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, testkit.Timeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	return nc
}

// readFrame reads one frame from nc, bounded by testkit.Timeout.
func readFrame(t *testing.T, nc net.Conn) *remoting.Command {
	t.Helper()
	_ = nc.SetReadDeadline(time.Now().Add(testkit.Timeout))
	var prefix [4]byte
	if _, err := io.ReadFull(nc, prefix[:]); err != nil {
		t.Fatalf("read prefix: %v", err)
	}
	frame := make([]byte, 4+binary.BigEndian.Uint32(prefix[:]))
	copy(frame, prefix[:])
	if _, err := io.ReadFull(nc, frame[4:]); err != nil {
		t.Fatalf("read frame: %v", err)
	}
	cmd, err := remoting.DecodeFrame(frame)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return cmd
}

// expectClosed waits until the peer closes nc (a read returns EOF or reset).
func expectClosed(t *testing.T, nc net.Conn) {
	t.Helper()
	_ = nc.SetReadDeadline(time.Now().Add(testkit.Timeout))
	buf := make([]byte, 256)
	for {
		_, err := nc.Read(buf)
		if err == nil {
			continue
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("connection still open after %v", testkit.Timeout)
		}
		return
	}
}

// request builds a JSON request like the Go client sends.
func request(code int32, opaque int32, body string) *remoting.Command {
	cmd := remoting.NewRequest(code, map[string]string{"topic": "T"}, []byte(body))
	cmd.Opaque = opaque
	return cmd
}
