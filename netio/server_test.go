package netio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/wire/remoting"
)

func TestEchoRoundTrip(t *testing.T) {
	testkit.NoLeaks(t)
	h := newTestHandler()
	s := startServer(t, ServerConfig{}, h)
	cl := newTestClient(t, ClientConfig{})

	req := remoting.NewRequest(remoting.ReqSendMessage, map[string]string{"topic": "T", "queueId": "3"}, []byte("hello"))
	resp, err := cl.Invoke(testkit.Context(t), s.Addr(), req)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if !resp.IsResponse() || resp.Opaque != req.Opaque || resp.Code != remoting.RespSuccess {
		t.Fatalf("response flag/opaque/code = %d/%d/%d, want response/%d/0", resp.Flag, resp.Opaque, resp.Code, req.Opaque)
	}
	if string(resp.Body) != "hello" || resp.ExtFields["queueId"] != "3" || resp.ExtFields["reqCode"] != "10" {
		t.Fatalf("echo = %q %v", resp.Body, resp.ExtFields)
	}
}

func TestAddrReportsBoundPort(t *testing.T) {
	testkit.NoLeaks(t)
	s := startServer(t, ServerConfig{}, newTestHandler())
	host, port, err := net.SplitHostPort(s.Addr())
	if err != nil || host != "127.0.0.1" || port == "0" {
		t.Fatalf("Addr() = %q (%v), want 127.0.0.1 with a real port", s.Addr(), err)
	}
	dialRaw(t, s.Addr())
}

func TestPipelinedInvokesOneConnection(t *testing.T) {
	testkit.NoLeaks(t)
	const invokes = 1000
	h := newTestHandler()
	s := startServer(t, ServerConfig{}, h)
	cl := newTestClient(t, ClientConfig{})

	ctx := testkit.Context(t)
	var wg sync.WaitGroup
	errs := make(chan error, invokes)
	for i := range invokes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := "msg-" + strconv.Itoa(i)
			resp, err := cl.Invoke(ctx, s.Addr(), remoting.NewRequest(remoting.ReqSendMessage, nil, []byte(body)))
			if err != nil {
				errs <- err
				return
			}
			if string(resp.Body) != body {
				errs <- fmt.Errorf("invoke %d got body %q", i, resp.Body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := h.requests.Load(); got != invokes {
		t.Fatalf("server saw %d requests, want %d", got, invokes)
	}
	if n := h.connCount(); n != 1 {
		t.Fatalf("requests arrived on %d connections, want 1", n)
	}
}

func TestPartialAndCoalescedFrames(t *testing.T) {
	testkit.NoLeaks(t)
	tests := []struct {
		name   string
		chunks func(stream []byte) [][]byte
	}{
		{name: "one byte per write", chunks: func(b []byte) [][]byte {
			out := make([][]byte, len(b))
			for i := range b {
				out[i] = b[i : i+1]
			}
			return out
		}},
		{name: "two frames in one write", chunks: func(b []byte) [][]byte { return [][]byte{b} }},
		{name: "split inside the length prefix", chunks: func(b []byte) [][]byte { return [][]byte{b[:2], b[2:]} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newTestHandler()
			s := startServer(t, ServerConfig{}, h)
			nc := dialRaw(t, s.Addr())
			stream := remoting.AppendFrame(nil, request(remoting.ReqHeartBeat, 7, "first"))
			stream = remoting.AppendFrame(stream, request(remoting.ReqPullMessage, 8, "second"))
			for _, chunk := range tc.chunks(stream) {
				if _, err := nc.Write(chunk); err != nil {
					t.Fatalf("write: %v", err)
				}
			}
			for _, want := range []struct {
				opaque int32
				body   string
			}{{7, "first"}, {8, "second"}} {
				resp := readFrame(t, nc)
				if resp.Opaque != want.opaque || string(resp.Body) != want.body {
					t.Fatalf("response opaque %d body %q, want %d %q", resp.Opaque, resp.Body, want.opaque, want.body)
				}
			}
		})
	}
}

func TestBrokenFramingClosesOnlyThatConnection(t *testing.T) {
	testkit.NoLeaks(t)
	tests := []struct {
		name          string
		frameBytesMax int
		bytes         []byte
	}{
		{name: "garbage header", bytes: []byte{0, 0, 0, 10, 0, 0, 0, 6, '{', 'n', 'o', 'p', 'e', '!'}},
		{name: "unknown serialize type", bytes: []byte{0, 0, 0, 6, 9, 0, 0, 2, '{', '}'}},
		{name: "header longer than frame", bytes: []byte{0, 0, 0, 4, 0, 0, 1, 0}},
		{name: "length below 4", bytes: []byte{0, 0, 0, 2, 0, 0}},
		{name: "length over default max", bytes: []byte{0xff, 0xff, 0xff, 0xff}},
		{name: "length over configured max", frameBytesMax: 1024, bytes: []byte{0, 0, 4, 0}},
		{name: "http request", bytes: []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newTestHandler()
			s := startServer(t, ServerConfig{FrameBytesMax: tc.frameBytesMax}, h)
			cl := newTestClient(t, ClientConfig{})
			if _, err := cl.Invoke(testkit.Context(t), s.Addr(), request(remoting.ReqHeartBeat, 0, "a")); err != nil {
				t.Fatalf("Invoke before: %v", err)
			}
			bad := dialRaw(t, s.Addr())
			if _, err := bad.Write(tc.bytes); err != nil {
				t.Fatalf("write: %v", err)
			}
			expectClosed(t, bad)
			resp, err := cl.Invoke(testkit.Context(t), s.Addr(), request(remoting.ReqHeartBeat, 0, "b"))
			if err != nil || string(resp.Body) != "b" {
				t.Fatalf("Invoke after: %v %v", resp, err)
			}
			if h.requests.Load() != 2 {
				t.Fatalf("handler saw %d requests, want the 2 good ones", h.requests.Load())
			}
		})
	}
}

func TestFrameAtConfiguredMaxIsServed(t *testing.T) {
	testkit.NoLeaks(t)
	const frameBytesMax = 4096
	s := startServer(t, ServerConfig{FrameBytesMax: frameBytesMax}, newTestHandler())
	req := request(remoting.ReqSendMessage, 1, "")
	head := len(remoting.AppendFrame(nil, req))
	req.Body = bytes.Repeat([]byte("x"), frameBytesMax-head)
	frame := remoting.AppendFrame(nil, req)
	if len(frame) != frameBytesMax {
		t.Fatalf("test frame is %d bytes, want %d", len(frame), frameBytesMax)
	}
	nc := dialRaw(t, s.Addr())
	if _, err := nc.Write(frame); err != nil {
		t.Fatal(err)
	}
	if resp := readFrame(t, nc); len(resp.Body) != len(req.Body) {
		t.Fatalf("echoed body of %d bytes, want %d", len(resp.Body), len(req.Body))
	}
}

func TestOnCloseOncePerConnection(t *testing.T) {
	testkit.NoLeaks(t)
	h := newTestHandler()
	s := startServer(t, ServerConfig{}, h)
	const conns = 5
	for i := range conns {
		nc := dialRaw(t, s.Addr())
		if _, err := nc.Write(remoting.AppendFrame(nil, request(remoting.ReqHeartBeat, int32(i), ""))); err != nil {
			t.Fatal(err)
		}
		readFrame(t, nc)
		if i%2 == 0 {
			_ = nc.Close() // peer closes
		}
	}
	testkit.Eventually(t, "peer-closed connections", func() bool { return h.closes.Load() == 3 })
	// Server-side Close, repeated, on the others.
	h.mu.Lock()
	all := make([]*Conn, 0, len(h.conns))
	for _, c := range h.conns {
		all = append(all, c)
	}
	h.mu.Unlock()
	for _, c := range all {
		_ = c.Close()
		_ = c.Close()
	}
	testkit.Eventually(t, "all closed", func() bool { return h.closes.Load() == conns })
	ctx := testkit.Context(t)
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, n := range h.closed {
		if n != 1 {
			t.Fatalf("OnClose ran %d times for conn %d", n, id)
		}
	}
}

func TestIdleConnectionClosed(t *testing.T) {
	testkit.NoLeaks(t)
	h := newTestHandler()
	s := startServer(t, ServerConfig{IdleTimeout: 100 * time.Millisecond}, h)
	// No request first: the idle scan runs on its own clock, advanced only
	// at its ticks, so on a loaded machine it may close the connection
	// before a request written right after the dial arrives, and the test
	// would fail reading the answer.
	idle := dialRaw(t, s.Addr())
	expectClosed(t, idle)
	testkit.Eventually(t, "OnClose of the idle connection", func() bool { return h.closes.Load() == 1 })
}

func TestShutdown(t *testing.T) {
	testkit.NoLeaks(t)
	h := newTestHandler()
	h.respond = func(*Conn, *remoting.Command) *remoting.Command { return nil } // never answer
	s := startServer(t, ServerConfig{}, h)
	cl := newTestClient(t, ClientConfig{})

	errc := make(chan error, 1)
	go func() {
		_, err := cl.Invoke(testkit.Context(t), s.Addr(), request(remoting.ReqSendMessage, 0, "x"))
		errc <- err
	}()
	testkit.Eventually(t, "request arrived", func() bool { return h.requests.Load() == 1 })
	c := h.anyConn()

	ctx := testkit.Context(t)
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Shutdown(ctx); err != nil {
				t.Errorf("concurrent Shutdown: %v", err)
			}
		}()
	}
	wg.Wait()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("repeated Shutdown: %v", err)
	}
	if err := testkit.Receive(t, errc, "the pending Invoke's error"); !errors.Is(err, ErrClosed) {
		t.Fatalf("pending client Invoke: %v, want ErrClosed", err)
	}
	if h.closes.Load() != 1 {
		t.Fatalf("OnClose ran %d times, want 1", h.closes.Load())
	}
	if err := c.Write(request(1, 1, "")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Shutdown: %v, want ErrClosed", err)
	}
	if _, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		t.Fatal("listener still accepting after Shutdown")
	}
}

func TestShutdownWithoutStart(t *testing.T) {
	s := NewServer(ServerConfig{Addr: "127.0.0.1:0"}, newTestHandler())
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); !errors.Is(err, ErrStarted) {
		t.Fatalf("Start after Shutdown: %v", err)
	}
}

func TestStartErrors(t *testing.T) {
	testkit.NoLeaks(t)
	s := startServer(t, ServerConfig{}, newTestHandler())
	if err := s.Start(); !errors.Is(err, ErrStarted) {
		t.Fatalf("second Start: %v, want ErrStarted", err)
	}
	busy := NewServer(ServerConfig{Addr: s.Addr()}, newTestHandler())
	if err := busy.Start(); err == nil {
		t.Fatal("Start on a bound port succeeded")
	}
	if err := busy.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown after failed Start: %v", err)
	}
	bad := NewServer(ServerConfig{Addr: "no-port"}, newTestHandler())
	if err := bad.Start(); !errors.Is(err, ErrConfig) {
		t.Fatalf("Start with bad addr: %v, want ErrConfig", err)
	}
	if err := bad.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown after config error: %v", err)
	}
}

func TestPartialFrameReleasedOnClose(t *testing.T) {
	testkit.NoLeaks(t)
	h := newTestHandler()
	s := startServer(t, ServerConfig{}, h)
	base := partialFramesHeld.Load()
	nc := dialRaw(t, s.Addr())
	write := func(b []byte) {
		t.Helper()
		if _, err := nc.Write(b); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	frame := remoting.AppendFrame(nil, batchFrame(1, 33<<10))
	half := len(frame) / 2
	// A frame in two writes: assembled in a partial frame, then served.
	write(frame[:half])
	testkit.Eventually(t, "first half held in a partial frame", func() bool { return partialFramesHeld.Load() == base+1 })
	write(frame[half:])
	if resp := readFrame(t, nc); resp.Opaque != 1 || !bytes.Equal(resp.Body, batchFrame(1, 33<<10).Body) {
		t.Fatalf("response opaque %d, %d body bytes; want opaque 1 and the request's body", resp.Opaque, len(resp.Body))
	}
	testkit.Eventually(t, "assembled frame released", func() bool { return partialFramesHeld.Load() == base })
	// Half a frame, then the peer closes: OnClose gives the buffer back.
	write(frame[:half])
	testkit.Eventually(t, "second frame's half held", func() bool { return partialFramesHeld.Load() == base+1 })
	_ = nc.Close()
	testkit.Eventually(t, "connection closed", func() bool { return h.closes.Load() == 1 })
	if got := partialFramesHeld.Load(); got != base {
		t.Fatalf("partial frame buffers held after close: %d, want %d", got, base)
	}
}
