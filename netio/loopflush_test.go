package netio

import (
	"sync/atomic"
	"testing"

	"github.com/panjf2000/gnet/v2"

	"github.com/actormq/actormq/wire/remoting"
)

// openOnLoop opens another fake connection on gc's server and loop.
func openOnLoop(t *testing.T, gc *fakeGnetConn) (*conn, *fakeGnetConn) {
	t.Helper()
	other := &fakeGnetConn{loop: gc.loop, ev: gc.ev, failAt: -1}
	if _, action := gc.ev.OnOpen(other); action != gnet.None {
		t.Fatalf("OnOpen action %v", action)
	}
	return other.ctx.(*conn), other
}

// Writes for several connections of one loop queue one task, which flushes
// them all; once it ran, the next write queues a task again.
func TestLoopFlushesShareOneTask(t *testing.T) {
	rc := countReleases(t)
	a, gca := newFakeConn(t, ServerConfig{}, newTestHandler())
	b, gcb := openOnLoop(t, gca)
	var dones atomic.Int64
	writeParts(t, a, &dones, "a")
	writeParts(t, b, &dones, "b")
	writeParts(t, a, &dones, "aa")
	if n := gca.loop.runTasks(); n != 1 {
		t.Fatalf("%d tasks for writes on 2 connections of one loop, want 1", n)
	}
	if gca.out.String() != "head-00000000000001a"+"head-00000000000001aa" || gcb.out.String() != "head-00000000000001b" {
		t.Fatalf("wrote %q and %q", gca.out.String(), gcb.out.String())
	}
	rc.check(t, 3)
	writeParts(t, b, &dones, "b2")
	if n := gca.loop.runTasks(); n != 1 || gcb.out.String() != "head-00000000000001b"+"head-00000000000001b2" {
		t.Fatalf("%d tasks, b wrote %q; want 1 task writing b2", n, gcb.out.String())
	}
}

// A write for another connection of the loop made while the loop is inside
// OnTraffic (here by the handler of the request read) queues no task: the
// end of OnTraffic flushes it with the read connection's answer.
func TestTrafficFlushesTheLoopsOtherConnections(t *testing.T) {
	countReleases(t)
	h := newTestHandler()
	var other atomic.Pointer[Conn]
	h.respond = func(c *Conn, req *remoting.Command) *remoting.Command {
		_ = other.Load().Write(remoting.NewResponse(req, remoting.RespSuccess, "to b"))
		return remoting.NewResponse(req, remoting.RespSuccess, "to a")
	}
	_, gca := newFakeConn(t, ServerConfig{}, h)
	b, gcb := openOnLoop(t, gca)
	other.Store(b.pub)
	gca.buf = remoting.AppendFrame(nil, request(1, 7, ""))
	if action := gca.ev.OnTraffic(gca); action != gnet.None {
		t.Fatalf("OnTraffic action %v", action)
	}
	if n := len(gca.loop.tasks); n != 0 {
		t.Fatalf("%d tasks queued, want none", n)
	}
	for name, gc := range map[string]*fakeGnetConn{"a": gca, "b": gcb} {
		resp, err := remoting.DecodeFrame(gc.out.Bytes())
		if err != nil || resp.Remark != "to "+name {
			t.Fatalf("%s got %v %v, want its answer", name, resp, err)
		}
	}
}

// A connection closed while on the due list is released by OnClose, once;
// the loop's task then writes nothing to it and still flushes the others.
func TestLoopFlushSkipsClosedConnection(t *testing.T) {
	rc := countReleases(t)
	a, gca := newFakeConn(t, ServerConfig{}, newTestHandler())
	b, gcb := openOnLoop(t, gca)
	var dones atomic.Int64
	writeParts(t, b, &dones, "b")
	writeParts(t, a, &dones, "a")
	gca.ev.OnClose(gcb, nil)
	rc.check(t, 1)
	if n := gca.loop.runTasks(); n != 1 || gcb.out.Len() != 0 || gca.out.String() != "head-00000000000001a" {
		t.Fatalf("%d tasks, wrote %q and %q; want 1 task writing only a", n, gca.out.String(), gcb.out.String())
	}
	rc.check(t, 2)
}
