package broker

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/internal/testkit/netkit"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/rs/zerolog"
)

// serve starts a netio server on 127.0.0.1:0 with r and returns a client
// invoke function against it.
func serve(t *testing.T, r *router) func(code int32) *remoting.Command {
	t.Helper()
	invoke := netkit.Invoker(t, r)
	return func(code int32) *remoting.Command {
		t.Helper()
		return invoke(remoting.NewRequest(code, nil, nil))
	}
}

func TestRouter(t *testing.T) {
	var draining atomic.Bool
	r := newRouter(zerolog.Nop(), &draining)
	ok := func(c *netio.Conn, cmd *remoting.Command) {
		_ = c.Write(remoting.NewResponse(cmd, remoting.RespSuccess, ""))
	}
	r.add(map[int32]Handler{remoting.ReqSendMessage: ok, remoting.ReqPullMessage: ok})
	main := serve(t, r)
	fast := serve(t, r.without(remoting.ReqPullMessage))

	tests := []struct {
		name     string
		invoke   func(int32) *remoting.Command
		code     int32
		draining bool
		want     int32
		remark   string
	}{
		{name: "known code", invoke: main, code: remoting.ReqSendMessage, want: remoting.RespSuccess},
		{name: "unknown code", invoke: main, code: 9999, want: remoting.RespRequestCodeNotSupported, remark: " request type 9999 not supported"},
		{name: "fast channel sends", invoke: fast, code: remoting.ReqSendMessage, want: remoting.RespSuccess},
		{name: "fast channel has no pull", invoke: fast, code: remoting.ReqPullMessage, want: remoting.RespRequestCodeNotSupported},
		{name: "draining refuses", invoke: main, code: remoting.ReqSendMessage, draining: true, want: remoting.RespServiceNotAvailable, remark: "broker is shutting down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			draining.Store(tt.draining)
			resp := tt.invoke(tt.code)
			if resp.Code != tt.want || (tt.remark != "" && resp.Remark != tt.remark) {
				t.Fatalf("code %d remark %q, want %d %q", resp.Code, resp.Remark, tt.want, tt.remark)
			}
		})
	}
}

func TestRouterRejectsDuplicateCodes(t *testing.T) {
	r := newRouter(zerolog.Nop(), new(atomic.Bool))
	h := func(*netio.Conn, *remoting.Command) {}
	r.add(map[int32]Handler{remoting.ReqSendMessage: h})
	defer func() {
		if recover() == nil {
			t.Fatal("a code registered twice did not panic")
		}
	}()
	r.add(map[int32]Handler{remoting.ReqSendMessage: h})
}

// TestDrainingClosesOnSendBack: while draining, a send-back is not answered
// with an error code (the Go client would drop the message) but its
// connection is closed, which the client treats as a transport error.
func TestDrainingClosesOnSendBack(t *testing.T) {
	var draining atomic.Bool
	draining.Store(true)
	r := newRouter(zerolog.Nop(), &draining)
	r.add(map[int32]Handler{remoting.ReqConsumerSendMsgBack: func(c *netio.Conn, cmd *remoting.Command) {
		_ = c.Write(remoting.NewResponse(cmd, remoting.RespSuccess, ""))
	}})
	addr := netkit.Serve(t, r)
	client := netkit.Client(t, netio.ClientConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := client.Invoke(ctx, addr, remoting.NewRequest(remoting.ReqConsumerSendMsgBack, nil, nil))
	if err == nil {
		t.Fatalf("send-back while draining answered code %d %q, want the connection closed", resp.Code, resp.Remark)
	}
	if !errors.Is(err, netio.ErrClosed) {
		t.Fatalf("send-back while draining: %v, want the connection closed (netio.ErrClosed)", err)
	}
}

// releaseProbe is a netio.Handler that passes each request to a router and
// then reports whether the router released it: a released pooled request
// no longer carries its own code (zeroed for reuse, or poisoned in race
// builds). Requests that do not reach a handler must be released, or their
// pooled frames are lost to the GC.
type releaseProbe struct {
	r        *router
	released chan bool
}

func (p *releaseProbe) OnRequest(c *netio.Conn, cmd *remoting.Command) {
	code := cmd.Code
	p.r.OnRequest(c, cmd)
	p.released <- cmd.Code != code
}

func (p *releaseProbe) OnClose(c *netio.Conn) { p.r.OnClose(c) }

// TestRouterReleasesWhatItRefuses: a pull on the fast channel (which
// serves none) and a pull or send while draining are answered by the
// router itself, which releases them (both decode into pooled frames).
func TestRouterReleasesWhatItRefuses(t *testing.T) {
	var draining atomic.Bool
	r := newRouter(zerolog.Nop(), &draining)
	ok := func(c *netio.Conn, cmd *remoting.Command) {
		_ = c.Write(remoting.NewResponse(cmd, remoting.RespSuccess, ""))
		cmd.Release()
	}
	r.add(map[int32]Handler{remoting.ReqSendMessageV2: ok, remoting.ReqPullMessage: ok})
	pull := func() *remoting.Command {
		return remoting.NewRequest(remoting.ReqPullMessage, map[string]string{"topic": "T", "queueId": "0"}, nil)
	}
	send := func() *remoting.Command {
		return remoting.NewRequest(remoting.ReqSendMessageV2, map[string]string{"b": "T", "e": "0"}, []byte("body"))
	}
	tests := []struct {
		name     string
		router   *router
		draining bool
		request  func() *remoting.Command
		want     int32
	}{
		{name: "pull on the fast channel", router: r.without(remoting.ReqPullMessage), request: pull, want: remoting.RespRequestCodeNotSupported},
		{name: "pull while draining", router: r, draining: true, request: pull, want: remoting.RespServiceNotAvailable},
		{name: "send while draining", router: r, draining: true, request: send, want: remoting.RespServiceNotAvailable},
		{name: "served pull (its handler releases)", router: r, request: pull, want: remoting.RespSuccess},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			draining.Store(tt.draining)
			probe := &releaseProbe{r: tt.router, released: make(chan bool, 1)}
			resp := netkit.Invoker(t, probe)(tt.request())
			if resp.Code != tt.want {
				t.Fatalf("answered code %d %q, want %d", resp.Code, resp.Remark, tt.want)
			}
			if !testkit.Receive(t, probe.released, "the request handled") {
				t.Fatal("the request was not released")
			}
		})
	}
}
