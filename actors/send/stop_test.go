package send

import (
	"strconv"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/valyala/bytebufferpool"
)

// codeConn records the codes of the answers it is given.
type codeConn struct{ codes chan int32 }

func (c codeConn) Write(cmd *remoting.Command) error { c.codes <- cmd.Code; return nil }
func (c codeConn) WriteFrame(f *bytebufferpool.ByteBuffer) error {
	remoting.ReleaseOutFrame(f)
	c.codes <- remoting.RespSuccess
	return nil
}
func (codeConn) RemoteAddr() string { return "127.0.0.1:50000" }

// TestStopAnswersSendRoutedAfterStop: a gnet loop admits a send (gate.Enter)
// just before Stop and routes it just after, here to the registry (no topic
// actor exists yet). The send must be answered SERVICE_NOT_AVAILABLE and
// leave the gate, and it must not be stored. Before Stop waited for the gate
// to drain, Stop returned at once and the late Send to the stopped registry
// went to dead letters: no answer, and one send in flight forever.
func TestStopAnswersSendRoutedAfterStop(t *testing.T) {
	s := spawnBenchSender(t, false)
	cmd, err := remoting.DecodeFrame(remoting.AppendFrame(nil, remoting.NewRequest(remoting.ReqSendMessageV2, map[string]string{
		"a": "pg", "b": "BenchT", "c": "TBW102", "d": "4", "e": "0", "f": "0",
		"g": strconv.Itoa(1795238031504), "h": "0", "i": "", "j": "0", "k": "false", "l": "0", "m": "false",
	}, []byte("late"))))
	if err != nil {
		t.Fatal(err)
	}
	// handle's steps up to route, as the loop runs them before Stop.
	h, err := parseSendHeader(cmd, true)
	cmd.ReleaseExt()
	if err == nil {
		err = s.precheck(&h)
	}
	if err == nil {
		err = s.gate.Enter()
	}
	if err != nil {
		t.Fatal(err)
	}
	conn := codeConn{codes: make(chan int32, 1)}
	req := s.newSendReq(conn, cmd, &h)

	stopped := make(chan error, 1)
	go func() { stopped <- s.Stop(testkit.Context(t)) }()
	testkit.Eventually(t, "gate stopped", s.gate.Stopped)
	// Let Stop get as far as it goes before the loop routes: with the old
	// Stop it returns here (the registry stopped); with the fix it waits
	// for the drain. The wait only orders the steps; the outcome asserted
	// below is the same either way.
	var stopErr error
	returned := false
	select {
	case stopErr = <-stopped:
		returned = true
	case <-time.After(200 * time.Millisecond):
	}
	s.route(req)
	if code := testkit.Receive(t, conn.codes, "answer of the late send"); code != remoting.RespServiceNotAvailable {
		t.Fatalf("late send answered %d, want SERVICE_NOT_AVAILABLE (%d)", code, remoting.RespServiceNotAvailable)
	}
	if !returned {
		stopErr = testkit.Receive(t, stopped, "Stop")
	}
	if stopErr != nil {
		t.Fatal(stopErr)
	}
	if n := s.Inflight(); n != 0 {
		t.Fatalf("%d sends in flight after Stop", n)
	}
}
