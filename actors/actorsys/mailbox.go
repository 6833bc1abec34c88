package actorsys

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
)

// Mailbox is the mailbox of the actors on Hot and Turns: spawn them with
// actor.WithMailbox(actorsys.Mailbox) beside their dispatcher.
//
// Why not protoactor's default (actor.Unbounded): it hands its dispatcher
// the method value m.processMessages on every idle → busy wake-up, a fresh
// 16 B closure each time, so every wake-up of a hot actor was one heap
// object (with Turns, about one per queue actor woken per writer group).
// This mailbox binds its turn once, when it is made, and keeps both queues
// in rings it reuses: no allocation per message or wake-up once a ring has
// grown to the actor's usual backlog.
//
// Same behaviour as the default: system messages first, then user messages
// in the order posted; SuspendMailbox stops the user messages (not the
// system ones) until ResumeMailbox; a turn handles the dispatcher's
// Throughput of messages before it yields the processor (runtime.Gosched)
// and goes on; a panic in a message goes to the invoker's EscalateFailure
// (protoactor's supervision then suspends the mailbox and asks the
// supervisor). Left out: mailbox middlewares (the hot actors have none,
// style.md) and the unpacking of actor.MessageBatch (style.md: the project
// uses batch types of its own; a MessageBatch arrives as one message).
//
// Rejected: protoactor's system queue (an mpsc list allocating a node per
// message; one mutex for both rings costs nothing there, system messages
// being rare); a lock-free ring (a bounded one would have to block or drop
// when full, and the default's user queue also takes a mutex per push and
// pop).
func Mailbox() actor.Mailbox {
	m := &mailbox{}
	m.turn = m.process
	return m
}

// ringShrinkMin is the ring capacity above which an emptied ring is dropped
// rather than kept: a burst's backlog (thousands of messages) is not held
// for the actor's life.
const ringShrinkMin = 4096

type mailbox struct {
	mu   sync.Mutex // guards sys and user; held only to push or pop
	sys  ring
	user ring

	// running is set by the poster whose message finds the mailbox idle,
	// which schedules a turn; the turn clears it when both queues look
	// empty (or only suspended user messages wait).
	running atomic.Bool
	// suspended is set and cleared by turns (SuspendMailbox, ResumeMailbox);
	// atomic because a turn that just ended still reads it (waiting) while
	// the next may have begun on another goroutine.
	suspended atomic.Bool

	invoker    actor.MessageInvoker
	dispatcher actor.Dispatcher
	turn       func() // m.process, bound once: a method value per Schedule allocates
}

var _ actor.Mailbox = (*mailbox)(nil)

func (m *mailbox) PostUserMessage(msg any) {
	m.mu.Lock()
	m.user.push(msg)
	m.mu.Unlock()
	m.schedule()
}

func (m *mailbox) PostSystemMessage(msg any) {
	m.mu.Lock()
	m.sys.push(msg)
	m.mu.Unlock()
	m.schedule()
}

func (m *mailbox) RegisterHandlers(invoker actor.MessageInvoker, dispatcher actor.Dispatcher) {
	m.invoker, m.dispatcher = invoker, dispatcher
}

// Start: nothing to start without middlewares.
func (m *mailbox) Start() {}

// UserMessageCount is the number of user messages waiting.
func (m *mailbox) UserMessageCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.user.n
}

func (m *mailbox) schedule() {
	if m.running.CompareAndSwap(false, true) {
		m.dispatcher.Schedule(m.turn)
	}
}

// process is a turn: it runs the messages, then marks the mailbox idle and
// looks again, since a poster that found it running before that did not
// schedule (the same handshake as protoactor's: push, then claim; clear,
// then look).
func (m *mailbox) process() {
	for {
		m.run()
		m.running.Store(false)
		if !m.waiting() || !m.running.CompareAndSwap(false, true) {
			return
		}
	}
}

// waiting reports whether a message the turn would take is queued.
func (m *mailbox) waiting() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sys.n > 0 || (!m.suspended.Load() && m.user.n > 0)
}

// run invokes messages until none it may take is left, the system ones
// first; a panic ends it after EscalateFailure.
func (m *mailbox) run() {
	var msg any
	defer func() {
		if r := recover(); r != nil {
			m.invoker.EscalateFailure(r, msg)
		}
	}()
	throughput := m.dispatcher.Throughput()
	for i := 0; ; i++ {
		if i > throughput {
			i = 0
			runtime.Gosched()
		}
		var system bool
		msg, system = m.next()
		switch {
		case msg == nil:
			return
		case !system:
			m.invoker.InvokeUserMessage(msg)
		default:
			switch msg.(type) {
			case *actor.SuspendMailbox:
				m.suspended.Store(true)
			case *actor.ResumeMailbox:
				m.suspended.Store(false)
			default:
				m.invoker.InvokeSystemMessage(msg)
			}
		}
	}
}

// next takes the oldest system message, else, unless suspended, the oldest
// user message; nil when there is none to take.
func (m *mailbox) next() (msg any, system bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sys.n > 0 {
		return m.sys.pop(), true
	}
	if m.suspended.Load() || m.user.n == 0 {
		return nil, false
	}
	return m.user.pop(), false
}

// ring is a FIFO of messages in a power-of-two slice that grows by
// doubling and is dropped when emptied above ringShrinkMin.
type ring struct {
	buf  []any
	head int // index of the oldest message
	n    int
}

func (r *ring) push(msg any) {
	if r.n == len(r.buf) {
		grown := make([]any, max(8, 2*len(r.buf)))
		for i := range r.n {
			grown[i] = r.buf[(r.head+i)&(len(r.buf)-1)]
		}
		r.buf, r.head = grown, 0
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = msg
	r.n++
}

// pop takes the oldest message; the ring must not be empty.
func (r *ring) pop() any {
	msg := r.buf[r.head]
	r.buf[r.head] = nil
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	if r.n == 0 && len(r.buf) > ringShrinkMin {
		r.buf, r.head = nil, 0
	}
	return msg
}
