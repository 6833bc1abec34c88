package netkit

import (
	"sync/atomic"
	"testing"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/remoting"
)

func TestInvokerRoutesByCode(t *testing.T) {
	testkit.NoLeaks(t)
	var closed atomic.Int32
	r := &Router{
		Handlers: map[int32]func(*netio.Conn, *remoting.Command){
			remoting.ReqHeartBeat: func(c *netio.Conn, cmd *remoting.Command) {
				_ = c.Write(remoting.NewResponse(cmd, remoting.RespSuccess, "beat"))
			},
		},
		Closed: func(*netio.Conn) { closed.Add(1) },
	}
	addr := Serve(t, r)
	c := Client(t, netio.ClientConfig{})

	tests := []struct {
		name       string
		code       int32
		wantCode   int32
		wantRemark string
	}{
		{name: "routed", code: remoting.ReqHeartBeat, wantCode: remoting.RespSuccess, wantRemark: "beat"},
		{name: "no handler", code: remoting.ReqSendMessage, wantCode: remoting.RespRequestCodeNotSupported, wantRemark: "not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := Invoke(t, c, addr, remoting.NewRequest(tt.code, nil, nil))
			if resp.Code != tt.wantCode || resp.Remark != tt.wantRemark {
				t.Fatalf("code %d remark %q, want %d %q", resp.Code, resp.Remark, tt.wantCode, tt.wantRemark)
			}
		})
	}
	_ = c.Close()
	testkit.Eventually(t, "OnClose of the client's connection", func() bool { return closed.Load() == 1 })
}

func TestInvoker(t *testing.T) {
	testkit.NoLeaks(t)
	invoke := Invoker(t, &Router{})
	if resp := invoke(remoting.NewRequest(remoting.ReqHeartBeat, nil, nil)); resp.Code != remoting.RespRequestCodeNotSupported {
		t.Fatalf("code %d, want REQUEST_CODE_NOT_SUPPORTED", resp.Code)
	}
}
