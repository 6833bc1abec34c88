package netio

import (
	"io"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/wire/remoting"
)

// TestAnswersFromActorsAllocateNothing: an answer written to a connection by
// a goroutine other than its event loop (an actor's) costs no heap
// allocation on its way to the socket: the frame comes from the out-frame
// pool and goes back to it, and the loop is woken by Execute with the
// background context, which third_party/gnet turns into a pooled task
// without a closure, queued on a ring. Upstream gnet allocated a closure
// and a queue node per wake-up, and bytebufferpool's calibration dropped
// answers it had decided were too large: after batch sends (8-byte heads)
// every ~300 B send answer was allocated anew for a while.
func TestAnswersFromActorsAllocateNothing(t *testing.T) {
	h := newTestHandler()
	h.respond = func(*Conn, *remoting.Command) *remoting.Command { return nil }
	_, c, nc := openConn(t, ServerConfig{}, h)
	want := remoting.AppendFrame(nil, remoting.NewResponse(request(0, 42, ""), remoting.RespSuccess, ""))
	got := make([]byte, len(want))
	if err := nc.SetReadDeadline(time.Now().Add(testkit.Timeout)); err != nil {
		t.Fatal(err)
	}
	answer := func() {
		frame := remoting.NewOutFrame(len(want))
		frame.B = append(frame.B[:0], want...)
		if err := c.WriteFrame(frame); err != nil {
			t.Fatalf("WriteFrame: %v", err)
		}
		if _, err := io.ReadFull(nc, got); err != nil {
			t.Fatalf("read the answer: %v", err)
		}
	}
	answer() // the connection's lists and the pools are warm
	if string(got) != string(want) {
		t.Fatalf("read %q, want %q", got, want)
	}
	// AllocsPerRun rounds down: a race build's sync.Pool, which drops a
	// quarter of what is put back, adds less than one a run.
	if allocs := testing.AllocsPerRun(500, answer); allocs != 0 {
		t.Errorf("an answer allocated %v objects, want 0", allocs)
	}
}
