package send

import (
	"sync"

	"github.com/actormq/actormq/actors/admit"
	"github.com/actormq/actormq/wire/remoting"
)

// sendReq is one admitted send, from the gnet loop to its answer. It is
// pooled, and it owns the request (cmd), whose pooled frame holds hdr's
// strings and the body (remoting.Command.Release): the gnet loop makes it
// in handle; from then on whoever holds it (the registry while the topic is
// created, then the topic actor) owns it; the topic actor hands it with its
// Append to the writer (Append.Done is req.finish; the writer reads
// Append.Req and Append.UniqKey, which alias the request, until it has
// answered), or fail ends it once the send is answered. Either way end runs
// exactly once: it is the send's one release point.
//
// Rejected alternative: releasing the request once its records are encoded,
// which would free the buffer before a SYNC_FLUSH wait, but would cost a
// copy of UNIQ_KEY per single send (the answer's transactionId) and a
// Command kept apart for the answer's opaque.
type sendReq struct {
	s        *Sender
	conn     Conn
	cmd      *remoting.Command
	hdr      sendHeader
	attempts int // times the topic was found missing by its topic actor
	// finish is end, bound once per pooled sendReq (no closure per send).
	finish func()
}

var sendReqs = sync.Pool{New: func() any { return new(sendReq) }}

// newSendReq admits a send (the caller has entered s.gate): req owns cmd
// from now on.
func (s *Sender) newSendReq(c Conn, cmd *remoting.Command, h *sendHeader) *sendReq {
	req := sendReqs.Get().(*sendReq)
	if req.finish == nil {
		req.finish = req.end // once per pooled sendReq
	}
	req.s, req.conn, req.cmd, req.hdr = s, c, cmd, *h
	return req
}

// end ends an answered send: its in-flight accounting, its request (every
// string of hdr and the body die here) and req itself, which goes back to
// the pool. Nobody may hold req, its Append's Req or anything read from
// them afterwards. Whoever owns req: its writer after answering, or fail.
func (req *sendReq) end() {
	s, cmd, finish := req.s, req.cmd, req.finish
	*req = sendReq{finish: finish}
	sendReqs.Put(req)
	cmd.Release()
	s.release()
}

// inbox is how sends reach a topic actor: the gnet loops (and the registry)
// append to a slice, and only the push that finds it empty Sends the actor a
// wake-up; the actor then takes everything queued at once. So under load one
// actor turn, and one writer Batch, carries every send that arrived since
// the last turn, from every connection and loop, while a lone send costs
// what a plain Send does.
//
// Rejected alternatives: one mailbox message per send, which makes the
// topic actor submit to the writer per send (a mailbox push, and often a
// goroutine start, per hop); collecting a read's sends per connection in
// netio's TrafficDone hook, which batches only within one read of one
// connection and needs per-connection state that netio.Conn does not carry.
// The lock is held for an append or a swap, as long as the mailbox's own
// lock, which a Send per send would take anyway.
type inbox struct {
	mu     sync.Mutex
	reqs   []*sendReq
	closed bool // the actor is stopping: it takes no more
}

// wake tells a topic actor that its inbox has sends.
type wake struct{}

var theWake = &wake{}

// inboxSpareMax drops a drained slice that grew for a burst instead of
// keeping it for the next turn.
const inboxSpareMax = 4096

// deliver queues req for e's topic actor, waking it when its inbox was
// empty. Once the actor is stopping, req is answered SERVICE_NOT_AVAILABLE
// here. Any goroutine; never blocks beyond the inbox lock.
func (s *Sender) deliver(e *topicEntry, req *sendReq) {
	b := &e.inbox
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		s.fail(req, admit.ErrStopping)
		return
	}
	b.reqs = append(b.reqs, req)
	first := len(b.reqs) == 1
	b.mu.Unlock()
	if first {
		s.root.Send(e.pid, theWake)
	}
}

// take swaps the queued sends for spare (an empty slice the caller owns) and
// returns them. Topic actor.
func (b *inbox) take(spare []*sendReq) []*sendReq {
	b.mu.Lock()
	reqs := b.reqs
	b.reqs = spare
	b.mu.Unlock()
	return reqs
}

// close takes the sends queued last and refuses any later one. Topic actor,
// while stopping.
func (b *inbox) close() []*sendReq {
	b.mu.Lock()
	reqs := b.reqs
	b.reqs, b.closed = nil, true
	b.mu.Unlock()
	return reqs
}
