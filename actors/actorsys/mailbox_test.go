package actorsys

import (
	"fmt"
	"sync"
	"testing"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/asynkron/protoactor-go/actor"
)

// recordingInvoker records what a mailbox invokes; a user message "boom"
// panics.
type recordingInvoker struct {
	got       []any
	escalated []any // the messages whose panic was escalated
}

func (r *recordingInvoker) InvokeSystemMessage(msg any) { r.got = append(r.got, msg) }

func (r *recordingInvoker) InvokeUserMessage(msg any) {
	if msg == "boom" {
		panic("boom")
	}
	r.got = append(r.got, msg)
}

func (r *recordingInvoker) EscalateFailure(_ any, msg any) { r.escalated = append(r.escalated, msg) }

// heldDispatcher keeps scheduled turns until the test runs them.
type heldDispatcher struct{ turns []func() }

func (d *heldDispatcher) Schedule(fn func()) { d.turns = append(d.turns, fn) }
func (d *heldDispatcher) Throughput() int    { return 2 }

// runAll runs the held turns, and those they schedule, until none is left.
func (d *heldDispatcher) runAll() {
	for len(d.turns) > 0 {
		fn := d.turns[0]
		d.turns = d.turns[1:]
		fn()
	}
}

func newTestMailbox() (actor.Mailbox, *recordingInvoker, *heldDispatcher) {
	m, inv, d := Mailbox(), &recordingInvoker{}, &heldDispatcher{}
	m.RegisterHandlers(inv, d)
	return m, inv, d
}

var sysMsg = &actor.Started{}

// TestMailboxSemantics: what protoactor's default mailbox does, checked on
// ours: one turn per idle → busy wake-up, system messages before user
// messages, user messages in order across more than a turn's throughput,
// suspension holding user (not system) messages until resumed, and a panic
// escalated with its message while the turn goes on.
func TestMailboxSemantics(t *testing.T) {
	tests := []struct {
		name      string
		post      func(m actor.Mailbox)
		turns     int   // scheduled before any runs
		want      []any // invoked, in order
		waiting   int   // user messages left
		escalated []any
	}{
		{
			name: "system first, then user in order",
			post: func(m actor.Mailbox) {
				for _, u := range []string{"u1", "u2", "u3", "u4", "u5"} {
					m.PostUserMessage(u)
				}
				m.PostSystemMessage(sysMsg)
			},
			turns: 1,
			want:  []any{sysMsg, "u1", "u2", "u3", "u4", "u5"},
		},
		{
			name: "suspended holds user messages, not system ones",
			post: func(m actor.Mailbox) {
				m.PostSystemMessage(&actor.SuspendMailbox{})
				m.PostUserMessage("u1")
				m.PostSystemMessage(sysMsg)
			},
			turns:   1,
			want:    []any{sysMsg},
			waiting: 1,
		},
		{
			name: "resumed delivers what waited",
			post: func(m actor.Mailbox) {
				m.PostSystemMessage(&actor.SuspendMailbox{})
				m.PostUserMessage("u1")
				m.PostSystemMessage(&actor.ResumeMailbox{})
				m.PostUserMessage("u2")
			},
			turns: 1,
			want:  []any{"u1", "u2"},
		},
		{
			name: "panic escalated, turn goes on",
			post: func(m actor.Mailbox) {
				m.PostUserMessage("u1")
				m.PostUserMessage("boom")
				m.PostUserMessage("u2")
			},
			turns:     1,
			want:      []any{"u1", "u2"},
			escalated: []any{"boom"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, inv, d := newTestMailbox()
			tt.post(m)
			if len(d.turns) != tt.turns {
				t.Fatalf("%d turns scheduled, want %d", len(d.turns), tt.turns)
			}
			d.runAll()
			if fmt.Sprint(inv.got) != fmt.Sprint(tt.want) {
				t.Fatalf("invoked %v, want %v", inv.got, tt.want)
			}
			if n := m.UserMessageCount(); n != tt.waiting {
				t.Fatalf("%d user messages waiting, want %d", n, tt.waiting)
			}
			if fmt.Sprint(inv.escalated) != fmt.Sprint(tt.escalated) {
				t.Fatalf("escalated %v, want %v", inv.escalated, tt.escalated)
			}
		})
	}
}

// TestMailboxWakeAllocatesNothing: a post that wakes an idle mailbox, and
// its turn, allocate nothing (protoactor's default allocates its turn's
// closure on every wake-up).
func TestMailboxWakeAllocatesNothing(t *testing.T) {
	m := Mailbox()
	inv := &recordingInvoker{got: make([]any, 0, 1024)}
	m.RegisterHandlers(inv, actor.NewSynchronizedDispatcher(hotThroughput))
	msg := &struct{ n int }{}
	allocs := testing.AllocsPerRun(500, func() {
		m.PostUserMessage(msg) // synchronous dispatcher: the turn runs here
		inv.got = inv.got[:0]
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per wake-up, want 0", allocs)
	}
}

// TestMailboxConcurrentPosters: several goroutines post to an actor on Hot
// with this mailbox; every message arrives, each poster's in order.
func TestMailboxConcurrentPosters(t *testing.T) {
	sys := testkit.ActorSystem(t)
	const posters, msgs = 4, 2000
	next := make([]int, posters)
	done := make(chan struct{})
	left := posters * msgs
	pid := sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		v, ok := c.Message().([2]int)
		if !ok {
			return
		}
		if v[1] != next[v[0]] {
			t.Errorf("poster %d: message %d arrived, want %d", v[0], v[1], next[v[0]])
		}
		next[v[0]] = v[1] + 1
		if left--; left == 0 {
			close(done)
		}
	}, actor.WithDispatcher(Hot), actor.WithMailbox(Mailbox)))
	var wg sync.WaitGroup
	for p := range posters {
		wg.Go(func() {
			for i := range msgs {
				sys.Root.Send(pid, [2]int{p, i})
			}
		})
	}
	wg.Wait()
	testkit.Receive(t, done, "every message")
}

// TestMailboxResumeSchedulesATurn: a user message held by a suspension is
// delivered by the turn the later ResumeMailbox schedules.
func TestMailboxResumeSchedulesATurn(t *testing.T) {
	m, inv, d := newTestMailbox()
	m.PostSystemMessage(&actor.SuspendMailbox{})
	m.PostUserMessage("u1")
	d.runAll()
	if len(inv.got) != 0 {
		t.Fatalf("invoked %v while suspended", inv.got)
	}
	m.PostSystemMessage(&actor.ResumeMailbox{})
	if len(d.turns) != 1 {
		t.Fatalf("%d turns scheduled by the resume, want 1", len(d.turns))
	}
	d.runAll()
	if fmt.Sprint(inv.got) != "[u1]" {
		t.Fatalf("invoked %v after the resume, want [u1]", inv.got)
	}
}
