package netio

import (
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/wire/remoting"
)

// TestClientWriteFrames: frames a caller encodes itself, several in one
// buffer, reach the server in order, and their answers go to
// OnResponseFrame while an Invoke on the same client still gets its own
// answer.
func TestClientWriteFrames(t *testing.T) {
	srv := startServer(t, ServerConfig{}, newTestHandler())

	var mu sync.Mutex
	mine := map[int32]bool{} // opaques written with WriteFrames
	var got []int32          // their answers' opaques, in arrival order
	cl := newTestClient(t, ClientConfig{OnResponseFrame: func(frame []byte) bool {
		resp, err := remoting.DecodeFrame(frame)
		if err != nil {
			t.Errorf("undecodable answer: %v", err)
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		if !mine[resp.Opaque] {
			return false
		}
		if v, _ := resp.Ext("seq"); v != strconv.Itoa(len(got)) {
			t.Errorf("answer %d echoes seq %q", len(got), v)
		}
		got = append(got, resp.Opaque)
		return true
	}})

	buf := remoting.NewOutFrame(512)
	buf.B = buf.B[:0]
	const frames = 3
	for i := range frames {
		req := remoting.NewRequest(remoting.ReqSendMessageV2, map[string]string{"seq": strconv.Itoa(i)}, []byte("body"))
		req.Opaque = cl.NextOpaque()
		mu.Lock()
		mine[req.Opaque] = true
		mu.Unlock()
		buf.B = remoting.AppendFrame(buf.B, req)
	}
	if err := cl.WriteFrames(srv.Addr(), buf); err != nil {
		t.Fatal(err)
	}
	resp, err := cl.Invoke(testkit.Context(t), srv.Addr(), remoting.NewRequest(remoting.ReqHeartBeat, nil, nil))
	if err != nil || resp.Code != remoting.RespSuccess {
		t.Fatalf("invoke beside WriteFrames: %v %+v", err, resp)
	}
	testkit.Eventually(t, "every WriteFrames answer taken", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == frames
	})
	mu.Lock()
	if mine[resp.Opaque] {
		t.Errorf("Invoke's opaque %d repeats a NextOpaque", resp.Opaque)
	}
	mu.Unlock()
}

// TestClientWriteFramesDialFailure: a failed dial is returned and the
// buffer released once.
func TestClientWriteFramesDialFailure(t *testing.T) {
	rc := countReleases(t)
	cl := newTestClient(t, ClientConfig{})
	buf := remoting.NewOutFrame(512)
	buf.B = remoting.AppendFrame(buf.B[:0], remoting.NewRequest(remoting.ReqHeartBeat, nil, nil))
	if err := cl.WriteFrames(testkit.ClosedAddr(t), buf); !errors.Is(err, ErrDial) {
		t.Fatalf("err = %v, want ErrDial", err)
	}
	rc.check(t, 1)
}
