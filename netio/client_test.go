package netio

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/wire/remoting"
)

// rawServer accepts connections on 127.0.0.1:0 and runs serve for each, on a
// goroutine the test waits for at cleanup.
func rawServer(t *testing.T, serve func(nc net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer nc.Close()
				serve(nc)
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

func TestClientInvokeTimeout(t *testing.T) {
	testkit.NoLeaks(t)
	h := newTestHandler()
	h.respond = func(*Conn, *remoting.Command) *remoting.Command { return nil }
	s := startServer(t, ServerConfig{}, h)
	tests := []struct {
		name string
		cfg  ClientConfig
		ctx  func(t *testing.T) context.Context
	}{
		{name: "ctx deadline", ctx: func(t *testing.T) context.Context { return testkit.ContextWithin(t, 50*time.Millisecond) }},
		{name: "InvokeTimeout without ctx deadline", cfg: ClientConfig{InvokeTimeout: 50 * time.Millisecond},
			ctx: func(*testing.T) context.Context { return context.Background() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cl := newTestClient(t, tc.cfg)
			_, err := cl.Invoke(tc.ctx(t), s.Addr(), request(remoting.ReqQueryConsumerOffset, 0, ""))
			if !errors.Is(err, ErrTimeout) {
				t.Fatalf("Invoke: %v, want ErrTimeout", err)
			}
			if !strings.Contains(err.Error(), s.Addr()) || !strings.Contains(err.Error(), "code 14") {
				t.Fatalf("error %q lacks address or code", err)
			}
			cc, _ := cl.impl.conn(context.Background(), s.Addr())
			cc.mu.Lock()
			left := len(cc.waiters)
			cc.mu.Unlock()
			if left != 0 {
				t.Fatalf("%d waiters left after timeout", left)
			}
		})
	}
}

func TestClientCancelledInvoke(t *testing.T) {
	testkit.NoLeaks(t)
	h := newTestHandler()
	h.respond = func(*Conn, *remoting.Command) *remoting.Command { return nil }
	s := startServer(t, ServerConfig{}, h)
	cl := newTestClient(t, ClientConfig{})
	ctx, cancel := context.WithCancel(testkit.Context(t))
	errc := make(chan error, 1)
	go func() {
		_, err := cl.Invoke(ctx, s.Addr(), request(remoting.ReqHeartBeat, 0, ""))
		errc <- err
	}()
	testkit.Eventually(t, "request arrived", func() bool { return h.requests.Load() == 1 })
	cancel()
	if err := testkit.Receive(t, errc, "the cancelled Invoke's error"); !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Fatalf("cancelled Invoke: %v, want context.Canceled", err)
	}
}

func TestClientCloseFailsPending(t *testing.T) {
	testkit.NoLeaks(t)
	h := newTestHandler()
	h.respond = func(*Conn, *remoting.Command) *remoting.Command { return nil }
	s := startServer(t, ServerConfig{}, h)
	cl := NewClient(ClientConfig{})
	errc := make(chan error, 1)
	go func() {
		_, err := cl.Invoke(testkit.Context(t), s.Addr(), request(remoting.ReqHeartBeat, 0, ""))
		errc <- err
	}()
	testkit.Eventually(t, "request arrived", func() bool { return h.requests.Load() == 1 })
	if err := cl.Close(); err != nil {
		t.Fatal(err)
	}
	if err := testkit.Receive(t, errc, "the pending Invoke's error"); !errors.Is(err, ErrClosed) {
		t.Fatalf("pending Invoke: %v, want ErrClosed", err)
	}
	if _, err := cl.Invoke(testkit.Context(t), s.Addr(), request(remoting.ReqHeartBeat, 0, "")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Invoke after Close: %v, want ErrClosed", err)
	}
	if err := cl.InvokeOneway(s.Addr(), request(remoting.ReqHeartBeat, 0, "")); !errors.Is(err, ErrClosed) {
		t.Fatalf("InvokeOneway after Close: %v, want ErrClosed", err)
	}
	if err := cl.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	testkit.Eventually(t, "server saw the close", func() bool { return h.closes.Load() == 1 })
}

func TestClientDialFailure(t *testing.T) {
	testkit.NoLeaks(t)
	addr := testkit.ClosedAddr(t)
	cl := newTestClient(t, ClientConfig{})
	if _, err := cl.Invoke(testkit.Context(t), addr, request(remoting.ReqHeartBeat, 0, "")); !errors.Is(err, ErrDial) {
		t.Fatalf("Invoke to a closed port: %v, want ErrDial", err)
	}
	if err := cl.InvokeOneway(addr, request(remoting.ReqHeartBeat, 0, "")); !errors.Is(err, ErrDial) {
		t.Fatalf("InvokeOneway to a closed port: %v, want ErrDial", err)
	}
}

func TestClientRedialsAfterConnectionLoss(t *testing.T) {
	testkit.NoLeaks(t)
	h := newTestHandler()
	s := startServer(t, ServerConfig{}, h)
	cl := newTestClient(t, ClientConfig{})
	first, err := cl.Invoke(testkit.Context(t), s.Addr(), request(remoting.ReqHeartBeat, 0, ""))
	if err != nil {
		t.Fatal(err)
	}
	_ = h.anyConn().Close()
	testkit.Eventually(t, "server closed the connection", func() bool { return h.closes.Load() == 1 })
	testkit.Eventually(t, "a new connection serves", func() bool {
		resp, err := cl.Invoke(testkit.Context(t), s.Addr(), request(remoting.ReqHeartBeat, 0, ""))
		return err == nil && resp.ExtFields["connID"] != first.ExtFields["connID"]
	})
}

func TestClientOneway(t *testing.T) {
	testkit.NoLeaks(t)
	h := newTestHandler()
	flags := make(chan int32, 1)
	h.respond = func(c *Conn, req *remoting.Command) *remoting.Command {
		flags <- req.Flag
		return echo(c, req) // answered anyway, as clients that never set the bit expect; dropped by the client
	}
	s := startServer(t, ServerConfig{}, h)
	cl := newTestClient(t, ClientConfig{})
	if err := cl.InvokeOneway(s.Addr(), request(remoting.ReqUpdateConsumerOffset, 0, "")); err != nil {
		t.Fatal(err)
	}
	if f := testkit.Receive(t, flags, "the oneway request"); f&remoting.FlagOneway == 0 || f&remoting.FlagResponse != 0 {
		t.Fatalf("oneway request flag = %d", f)
	}
	// The unsolicited response is dropped and the connection keeps working.
	if _, err := cl.Invoke(testkit.Context(t), s.Addr(), request(remoting.ReqHeartBeat, 0, "")); err != nil {
		t.Fatal(err)
	}
	if f := testkit.Receive(t, flags, "the heartbeat"); f&remoting.FlagOneway != 0 {
		t.Fatalf("Invoke after InvokeOneway sent flag %d, want the oneway bit clear", f)
	}
}

func TestClientBrokenFramingFromServer(t *testing.T) {
	testkit.NoLeaks(t)
	tests := []struct {
		name          string
		frameBytesMax int
		reply         []byte
	}{
		{name: "garbage", reply: []byte{0, 0, 0, 8, 0, 0, 0, 4, 'j', 'u', 'n', 'k'}},
		{name: "oversize", frameBytesMax: 64, reply: []byte{0, 0, 1, 0}},
		{name: "length below 4", reply: []byte{0, 0, 0, 1, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := rawServer(t, func(nc net.Conn) {
				readFrame(t, nc)
				_, _ = nc.Write(tc.reply)
				_ = nc.SetReadDeadline(time.Now().Add(testkit.Timeout))
				_, _ = nc.Read(make([]byte, 1)) // until the client closes
			})
			cl := newTestClient(t, ClientConfig{FrameBytesMax: tc.frameBytesMax})
			_, err := cl.Invoke(testkit.Context(t), addr, request(remoting.ReqHeartBeat, 0, ""))
			if !errors.Is(err, ErrClosed) || !errors.Is(err, remoting.ErrFrame) {
				t.Fatalf("Invoke: %v, want ErrClosed wrapping remoting.ErrFrame", err)
			}
		})
	}
}

func TestClientAnswersServerRequests(t *testing.T) {
	testkit.NoLeaks(t)
	release := make(chan struct{})
	tests := []struct {
		name     string
		cfg      ClientConfig
		wantCode int32
	}{
		{name: "no OnRequest", wantCode: remoting.RespRequestCodeNotSupported},
		{name: "over ServeInflightMax", wantCode: remoting.RespSystemBusy, cfg: ClientConfig{
			ServeInflightMax: 1,
			OnRequest: func(_ string, req *remoting.Command) *remoting.Command {
				<-release
				return remoting.NewResponse(req, remoting.RespSuccess, "")
			},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newTestHandler()
			s := startServer(t, ServerConfig{}, h)
			cl := newTestClient(t, tc.cfg)
			if _, err := cl.Invoke(testkit.Context(t), s.Addr(), request(remoting.ReqHeartBeat, 0, "")); err != nil {
				t.Fatal(err)
			}
			c := h.anyConn()
			if tc.cfg.ServeInflightMax == 1 {
				// Occupy the one slot.
				go func() {
					_, _ = c.Invoke(context.Background(), remoting.NewRequest(remoting.ReqGetConsumerRunningInfo, nil, nil), testkit.Timeout)
				}()
				testkit.Eventually(t, "slot taken", func() bool { return len(cl.impl.serveSlots) == 1 })
				defer close(release)
			}
			resp, err := c.Invoke(context.Background(), remoting.NewRequest(remoting.ReqConsumeMessageDirectly, nil, nil), testkit.Timeout)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Code != tc.wantCode {
				t.Fatalf("code %d (%s), want %d", resp.Code, resp.Remark, tc.wantCode)
			}
		})
	}
}

// Oneway frames from many goroutines leave coalesced, each goroutine's in its
// order, and every frame buffer is released once.
func TestClientCoalescedWritesKeepOrder(t *testing.T) {
	testkit.NoLeaks(t)
	rc := countReleases(t)
	const senders, each = 8, 300
	h := newTestHandler()
	var mu sync.Mutex
	got := make(map[string][]string) // sender → seqs in arrival order
	h.respond = func(_ *Conn, req *remoting.Command) *remoting.Command {
		mu.Lock()
		got[req.ExtFields["sender"]] = append(got[req.ExtFields["sender"]], req.ExtFields["seq"])
		mu.Unlock()
		return nil
	}
	s := startServer(t, ServerConfig{}, h)
	cl := newTestClient(t, ClientConfig{})
	var wg sync.WaitGroup
	for w := range senders {
		wg.Go(func() {
			for i := range each {
				req := remoting.NewRequest(remoting.ReqUpdateConsumerOffset,
					map[string]string{"sender": strconv.Itoa(w), "seq": strconv.Itoa(i)}, []byte("b"))
				if err := cl.InvokeOneway(s.Addr(), req); err != nil {
					t.Errorf("sender %d: %v", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	testkit.Eventually(t, "every frame served", func() bool { return h.requests.Load() == senders*each })
	mu.Lock()
	for w := range senders {
		seqs := got[strconv.Itoa(w)]
		for i, seq := range seqs {
			if seq != strconv.Itoa(i) {
				t.Fatalf("sender %d: frame %s arrived as number %d", w, seq, i)
			}
		}
	}
	mu.Unlock()
	_ = cl.Close()
	rc.check(t, senders*each)
}

// Writers racing the server's closes of their connection each end with
// success or ErrClosed, and every frame buffer (the client's requests, the
// server's answers) is released exactly once. The writers call writeCmd
// itself: an Invoke can fail before its frame exists, which would make the
// count of client frames unknowable.
func TestClientWritesRacingConnectionLoss(t *testing.T) {
	testkit.NoLeaks(t)
	rc := countReleases(t)
	const writers, each = 8, 100
	h := newTestHandler()
	var answers atomic.Int64
	h.respond = func(c *Conn, req *remoting.Command) *remoting.Command {
		if h.requests.Load()%50 == 0 {
			_ = c.Close()
		}
		answers.Add(1) // testHandler writes the answer: one frame buffer
		return echo(c, req)
	}
	s := startServer(t, ServerConfig{}, h)
	cl := newTestClient(t, ClientConfig{})
	var frames atomic.Int64
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range each {
				cc, err := cl.impl.conn(testkit.Context(t), s.Addr())
				if err != nil {
					continue // no frame: a connection found closed thrice
				}
				frames.Add(1)
				if err := cc.writeCmd(request(remoting.ReqSendMessage, 0, "x")); err != nil && !errors.Is(err, ErrClosed) {
					t.Errorf("writeCmd: %v, want success or ErrClosed", err)
					return
				}
			}
		})
	}
	wg.Wait()
	_ = cl.Close()
	if err := s.Shutdown(testkit.Context(t)); err != nil {
		t.Fatal(err)
	}
	if frames.Load() < writers*each/2 {
		t.Fatalf("only %d of %d frames written", frames.Load(), writers*each)
	}
	rc.check(t, int(frames.Load()+answers.Load()))
}

// failingConn is a net.Conn whose writes fail; net.Buffers falls back to
// one Write per buffer on it.
type failingConn struct {
	net.Conn
	writes int
}

func (f *failingConn) Write([]byte) (int, error)        { f.writes++; return 0, syscall.ECONNRESET }
func (f *failingConn) SetWriteDeadline(time.Time) error { return nil }
func (f *failingConn) Close() error                     { return nil }

// A failed write closes the connection and releases every queued frame,
// written or not, exactly once; the flusher returns the error.
func TestClientWriteErrorReleasesQueuedFrames(t *testing.T) {
	rc := countReleases(t)
	cl := NewClient(ClientConfig{})
	cc := newClientConn(cl.impl, "127.0.0.1:1")
	nc := &failingConn{}
	cc.nc = nc
	// Three frames queued behind a flush under way, as concurrent invokers
	// leave them; they return at once.
	cc.flushing = true
	for i := range 3 {
		if err := cc.writeCmd(request(remoting.ReqSendMessage, int32(i), "x")); err != nil {
			t.Fatalf("queued writeCmd: %v", err)
		}
	}
	if err := cc.flushOut(); !errors.Is(err, ErrClosed) || !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("flushOut: %v, want ErrClosed wrapping the write error", err)
	}
	if nc.writes != 1 || !cc.isClosed() {
		t.Fatalf("%d writes, closed %v; want 1 failed write and a closed connection", nc.writes, cc.isClosed())
	}
	rc.check(t, 3)
	// Later writes fail at once and release their frame.
	if err := cc.writeCmd(request(remoting.ReqSendMessage, 4, "x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("writeCmd after failure: %v, want ErrClosed", err)
	}
	rc.check(t, 4)
	if cc.flushing {
		t.Fatal("flusher role still taken")
	}
}
