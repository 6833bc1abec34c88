package netio

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/wire/remoting"
)

func TestServerInvokesClient(t *testing.T) {
	testkit.NoLeaks(t)
	h := newTestHandler()
	s := startServer(t, ServerConfig{}, h)
	var servedFrom atomic.Value
	cl := newTestClient(t, ClientConfig{OnRequest: func(addr string, req *remoting.Command) *remoting.Command {
		servedFrom.Store(addr)
		if req.Code == remoting.ReqCheckTransactionState {
			return nil // oneway-style request: no answer
		}
		resp := remoting.NewResponse(req, remoting.RespSuccess, "")
		resp.Body = []byte("running:" + req.ExtFields["consumerGroup"])
		return resp
	}})
	if _, err := cl.Invoke(testkit.Context(t), s.Addr(), request(remoting.ReqHeartBeat, 0, "")); err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
	c := h.anyConn()

	req := remoting.NewRequest(remoting.ReqGetConsumerRunningInfo, map[string]string{"consumerGroup": "G"}, nil)
	resp, err := c.Invoke(context.Background(), req, testkit.Timeout)
	if err != nil {
		t.Fatalf("Conn.Invoke: %v", err)
	}
	if string(resp.Body) != "running:G" || resp.Opaque != req.Opaque || !resp.IsResponse() {
		t.Fatalf("response = %+v", resp)
	}
	if got := servedFrom.Load(); got != s.Addr() {
		t.Fatalf("OnRequest addr = %v, want %s", got, s.Addr())
	}

	// An unanswered server request times out and leaves no waiter behind.
	_, err = c.Invoke(context.Background(), remoting.NewRequest(remoting.ReqCheckTransactionState, nil, nil), 50*time.Millisecond)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("unanswered Conn.Invoke: %v, want ErrTimeout", err)
	}
	c.impl.invokeMu.Lock()
	left := len(c.impl.invokes)
	c.impl.invokeMu.Unlock()
	if left != 0 {
		t.Fatalf("%d invoke waiters left", left)
	}

	// Closing the connection fails a pending server invoke with ErrClosed.
	errc := make(chan error, 1)
	go func() {
		_, err := c.Invoke(context.Background(), remoting.NewRequest(remoting.ReqCheckTransactionState, nil, nil), testkit.Timeout)
		errc <- err
	}()
	testkit.Eventually(t, "invoke registered", func() bool {
		c.impl.invokeMu.Lock()
		defer c.impl.invokeMu.Unlock()
		return len(c.impl.invokes) == 1
	})
	_ = c.Close()
	if err := testkit.Receive(t, errc, "the pending Conn.Invoke's error"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Invoke on closed connection: %v, want ErrClosed", err)
	}
	if _, err := c.Invoke(context.Background(), req, time.Second); !errors.Is(err, ErrClosed) {
		t.Fatalf("Invoke after close: %v, want ErrClosed", err)
	}
}

func TestWriteWithBody(t *testing.T) {
	testkit.NoLeaks(t)
	var dones atomic.Int64
	h := newTestHandler()
	h.respond = func(c *Conn, req *remoting.Command) *remoting.Command {
		resp := remoting.NewResponse(req, remoting.RespSuccess, "")
		resp.SetExt("nextBeginOffset", "3")
		parts := [][]byte{[]byte("hello "), []byte("zero-copy "), []byte("world")}
		if err := c.WriteWithBody(resp, parts, func() { dones.Add(1) }); err != nil {
			t.Errorf("WriteWithBody: %v", err)
		}
		return nil
	}
	s := startServer(t, ServerConfig{}, h)
	nc := dialRaw(t, s.Addr())
	if _, err := nc.Write(remoting.AppendFrame(nil, request(remoting.ReqPullMessage, 5, ""))); err != nil {
		t.Fatal(err)
	}
	resp := readFrame(t, nc)
	if string(resp.Body) != "hello zero-copy world" || resp.ExtFields["nextBeginOffset"] != "3" || resp.Opaque != 5 {
		t.Fatalf("response = %q %v opaque %d", resp.Body, resp.ExtFields, resp.Opaque)
	}
	testkit.Eventually(t, "done called", func() bool { return dones.Load() == 1 })

	// After close: ErrClosed, and done still runs exactly once.
	c := h.anyConn()
	_ = c.Close()
	testkit.Eventually(t, "OnClose", func() bool { return h.closes.Load() == 1 })
	err := c.WriteWithBody(remoting.NewResponse(request(11, 6, ""), 0, ""), [][]byte{[]byte("x")}, func() { dones.Add(1) })
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("WriteWithBody after close: %v, want ErrClosed", err)
	}
	if err := c.Write(request(11, 7, "")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after close: %v, want ErrClosed", err)
	}
	if got := dones.Load(); got != 2 {
		t.Fatalf("done ran %d times over two writes", got)
	}
}

func TestWriteBatchOneWrite(t *testing.T) {
	testkit.NoLeaks(t)
	h := newTestHandler()
	h.respond = func(c *Conn, req *remoting.Command) *remoting.Command {
		batch := make([]*remoting.Command, 3)
		for i := range batch {
			batch[i] = remoting.NewResponse(req, remoting.RespSuccess, "")
			batch[i].Body = []byte{byte('a' + i)}
		}
		if err := c.WriteBatch(batch); err != nil {
			t.Errorf("WriteBatch: %v", err)
		}
		return nil
	}
	s := startServer(t, ServerConfig{}, h)
	nc := dialRaw(t, s.Addr())
	if _, err := nc.Write(remoting.AppendFrame(nil, request(remoting.ReqPullMessage, 9, ""))); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a", "b", "c"} {
		if resp := readFrame(t, nc); string(resp.Body) != want {
			t.Fatalf("body %q, want %q", resp.Body, want)
		}
	}
}

func TestLargeFrameRoundTrip(t *testing.T) {
	testkit.NoLeaks(t)
	s := startServer(t, ServerConfig{}, newTestHandler())
	cl := newTestClient(t, ClientConfig{})
	body := bytes.Repeat([]byte("0123456789abcdef"), 256<<10) // 4 MiB, far above gnet's 64 KiB read buffer
	for range 2 {
		resp, err := cl.Invoke(testkit.Context(t), s.Addr(), remoting.NewRequest(remoting.ReqSendMessage, nil, body))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(resp.Body, body) {
			t.Fatalf("echoed %d bytes, want %d identical", len(resp.Body), len(body))
		}
	}
}

// Every queued write's done runs, and its buffer is released, exactly once
// however writers race the connection's close and the server's shutdown.
func TestWritesRacingCloseAndShutdown(t *testing.T) {
	testkit.NoLeaks(t)
	tests := []struct {
		name string
		end  func(t *testing.T, s *Server, c *Conn, nc net.Conn)
	}{
		{name: "conn close", end: func(_ *testing.T, _ *Server, c *Conn, _ net.Conn) { _ = c.Close() }},
		{name: "server shutdown", end: func(t *testing.T, s *Server, _ *Conn, _ net.Conn) {
			if err := s.Shutdown(testkit.Context(t)); err != nil {
				t.Fatal(err)
			}
		}},
		// The peer resets the connection: the server's writes fail (or its
		// read sees the reset first).
		{name: "peer reset", end: func(t *testing.T, _ *Server, _ *Conn, nc net.Conn) {
			if err := nc.(*net.TCPConn).SetLinger(0); err != nil {
				t.Fatal(err)
			}
			_ = nc.Close()
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const writers, writesEach = 8, 300
			rc := countReleases(t)
			h := newTestHandler()
			h.respond = func(*Conn, *remoting.Command) *remoting.Command { return nil }
			s := startServer(t, ServerConfig{}, h)
			nc := dialRaw(t, s.Addr())
			if _, err := nc.Write(remoting.AppendFrame(nil, request(remoting.ReqHeartBeat, 1, ""))); err != nil {
				t.Fatal(err)
			}
			testkit.Eventually(t, "connection known", func() bool { return h.anyConn() != nil })
			c := h.anyConn()

			var dones, calls atomic.Int64
			part := bytes.Repeat([]byte("p"), 512)
			var wg sync.WaitGroup
			for range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range writesEach {
						calls.Add(1)
						resp := remoting.NewResponse(request(remoting.ReqPullMessage, int32(i), ""), 0, "")
						_ = c.WriteWithBody(resp, [][]byte{part, part}, func() { dones.Add(1) })
					}
				}()
			}
			tc.end(t, s, c, nc)
			wg.Wait()
			testkit.Eventually(t, "every done", func() bool { return dones.Load() == calls.Load() })
			if err := s.Shutdown(testkit.Context(t)); err != nil {
				t.Fatal(err)
			}
			if d, n := dones.Load(), calls.Load(); d != n {
				t.Fatalf("done ran %d times for %d writes", d, n)
			}
			rc.check(t, int(calls.Load()))
		})
	}
}
