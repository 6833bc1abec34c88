package queue

import (
	"testing"

	"github.com/actormq/actormq/wire/remoting"
)

// TestQueueActorSurvivesAPanic: a fault inside a queue actor loses only the
// request being served (the client retries it after its timeout); the
// supervisor resumes the actor, every acknowledged message stays readable and
// later dispatches still land in order.
func TestQueueActorSurvivesAPanic(t *testing.T) {
	h := newHarness(t, nil)
	h.send(t, q0, "A", "B", "C")
	q := h.queue(q0)
	q.mu.Lock()
	q.panicsLeft = 1
	q.mu.Unlock()

	c := newFakeConn()
	h.r.handlePull(c, pullCmd("g1", 0, 0, 0, 0, "")) // panics inside the actor: no answer
	h.r.handlePull(c, pullCmd("g1", 0, 0, 0, 0, ""))
	r := c.next(t)
	if r.cmd.Code != remoting.RespSuccess || len(bodies(t, r.body)) != 3 {
		t.Fatalf("pull after the fault: code %d, %d messages; want SUCCESS with 3", r.cmd.Code, len(bodies(t, r.body)))
	}
	h.send(t, q0, "D")
	h.r.handlePull(c, pullCmd("g1", 0, 3, 0, 0, ""))
	r = c.next(t)
	if r.cmd.Code != remoting.RespSuccess || len(bodies(t, r.body)) != 1 || ext(t, r.cmd, "nextBeginOffset") != 4 {
		t.Fatalf("pull of the later message: code %d next %d", r.cmd.Code, ext(t, r.cmd, "nextBeginOffset"))
	}
	select {
	case extra := <-c.ch:
		t.Fatalf("unexpected extra response %+v", extra.cmd)
	default:
	}
}
