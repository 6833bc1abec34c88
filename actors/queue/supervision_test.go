package queue

import (
	"testing"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/wire/remoting"
)

// TestQueueActorSurvivesAPanic: a fault inside a queue actor loses only the
// request being served (the client retries it after its timeout); the
// supervisor resumes the actor, every acknowledged message stays readable and
// later dispatches still land in order. A fault in a read on the gnet loop
// (loopread.go) hands the pull to the queue actor, which answers it.
func TestQueueActorSurvivesAPanic(t *testing.T) {
	h := newHarness(t, nil)
	h.send(t, q0, "A", "B", "C")
	q := h.queue(q0)
	faults := func(n int) {
		q.mu.Lock()
		q.panicsLeft = n
		q.mu.Unlock()
	}

	c := newFakeConn()
	faults(2)
	h.r.handlePull(c, pullCmd("g1", 0, 0, 0, 0, "")) // the loop's read panics, then the actor's: no answer
	testkit.Eventually(t, "both faults hit", func() bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		return q.panicsLeft == 0
	})
	h.r.handlePull(c, pullCmd("g1", 0, 0, 0, 0, "")) // answered on the loop
	r := c.next(t)
	if r.cmd.Code != remoting.RespSuccess || len(bodies(t, r.body)) != 3 {
		t.Fatalf("pull after the fault: code %d, %d messages; want SUCCESS with 3", r.cmd.Code, len(bodies(t, r.body)))
	}
	faults(1)
	h.r.handlePull(c, pullCmd("g1", 0, 1, 0, 0, "")) // the loop's read panics; the actor answers
	r = c.next(t)
	if r.cmd.Code != remoting.RespSuccess || len(bodies(t, r.body)) != 2 {
		t.Fatalf("pull after a fault on the loop: code %d, %d messages; want SUCCESS with 2", r.cmd.Code, len(bodies(t, r.body)))
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
