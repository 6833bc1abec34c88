package main

import (
	"fmt"
	"sync"
	"time"

	"github.com/valyala/bytebufferpool"

	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/remoting"
)

// A sender's burst of encoded requests, written at once, ends at
// burstBytesMax; a oneway sender, which has no window, writes at most
// onewayBurst requests at a time.
const (
	burstBytesMax = 64 << 10
	onewayBurst   = 64
)

// conn is one producer connection: a netio.Client of its own (one TCP
// connection per broker address), the requests in flight on it by opaque
// and the recorder of their round trips. Its senders encode and write
// requests; the client's reader goroutine completes them in onFrame, so a
// request costs neither a goroutine nor a channel of its own. Rejected: a
// goroutine per request blocked in Invoke (stack growth, a Command and a
// channel each, one wake-up per answer).
type conn struct {
	p      *producer
	client *netio.Client
	rec    *recorder

	mu      sync.Mutex
	pending map[int32]inflight // by opaque
}

// inflight is one request awaiting its answer.
type inflight struct {
	s     *sender
	start time.Duration // since producer.epoch
}

func newConn(p *producer) *conn {
	c := &conn{p: p, rec: p.m.newRecorder(), pending: make(map[int32]inflight, p.opts.inflight)}
	c.client = netio.NewClient(netio.ClientConfig{OnResponseFrame: c.onFrame})
	return c
}

// onFrame completes the request frame answers. It runs on the client's
// reader goroutine and leaves frames it does not own (requests from the
// broker, answers to an Invoke, late answers to expired requests) to the
// client. A request's outcome is counted before it is finished: a run
// ends once its senders have nothing in flight, and its counts must be
// complete by then.
func (c *conn) onFrame(frame []byte) bool {
	a, ok := readAnswer(frame)
	if !ok {
		return false
	}
	p := c.p
	c.mu.Lock()
	defer c.mu.Unlock()
	r, mine := c.pending[a.opaque]
	if !mine {
		return false
	}
	delete(c.pending, a.opaque)
	if a.code == remoting.RespSuccess {
		c.rec.record((p.since() - r.start).Microseconds())
		p.m.msgs.Add(int64(p.opts.batch))
		p.m.bytes.Add(int64(p.opts.batch * p.opts.size))
	} else {
		p.m.fail(fmt.Errorf("%w %d: %s", errCode, a.code, a.remark))
	}
	r.s.finish()
	return true
}

// expire fails the requests unanswered for longer than the send timeout,
// as the Go client's send timeout would.
func (c *conn) expire(now time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for opaque, r := range c.pending {
		if now-r.start > c.p.timeout {
			delete(c.pending, opaque)
			c.p.m.fail(fmt.Errorf("%w: no answer to a send within %s", netio.ErrTimeout, c.p.timeout))
			r.s.finish()
		}
	}
}

// sender is one long-lived goroutine of a connection: it keeps up to size
// requests of its own in flight (async: one sender per connection with
// size -w; sync: -w senders of size 1; oneway: one sender of size 0, which
// awaits no answer). It encodes the requests a free window allows into one
// pooled buffer per broker and writes each buffer once.
type sender struct {
	c    *conn
	late *recorder // paced requests: write returned − intended send time
	size int
	// wakeAt is the free room at which a waiting sender is woken: an
	// eighth of the window, so a refill carries that many requests instead
	// of one write per answer.
	wakeAt int
	claim  func(first bool) (claim, time.Duration)
	enc    *requestEncoder
	room   chan struct{} // a waiting sender's wake-up
	bufs   []*bytebufferpool.ByteBuffer
	burst  []burstItem
	errs   []error // per broker: the write error of this burst
	// frameBytes is the size of the last request encoded, the estimate
	// a burst's buffer is sized by.
	frameBytes int

	inflight int  // guarded by c.mu
	waiting  bool // guarded by c.mu
}

// burstItem is one request of the burst being written.
type burstItem struct {
	opaque int32
	broker int
	start  time.Duration // since producer.epoch: its intended send time when paced, else the burst's write
}

func newSender(c *conn, size int, claim func(first bool) (claim, time.Duration)) *sender {
	brokers := len(c.p.cl.brokers)
	return &sender{
		c: c, late: c.p.late.newRecorder(), size: size, wakeAt: max(size/8, 1), claim: claim,
		enc:  newRequestEncoder(&c.p.opts, c.p.uniq),
		room: make(chan struct{}, 1),
		bufs: make([]*bytebufferpool.ByteBuffer, brokers),
		errs: make([]error, brokers),
	}
}

// run sends until claim stops it, then waits for the answers in flight.
func (s *sender) run() {
	for {
		free := onewayBurst
		if s.size > 0 {
			free = s.waitRoom()
		}
		if !s.send(free) {
			break
		}
	}
	s.drain()
}

// finish records that one of s's requests was answered or dropped; c.mu is
// held.
func (s *sender) finish() {
	s.inflight--
	if s.waiting && (s.size-s.inflight >= s.wakeAt || s.inflight == 0) {
		s.waiting = false
		select {
		case s.room <- struct{}{}:
		default:
		}
	}
}

// waitRoom returns how many more requests may go, waiting while the window
// is full.
func (s *sender) waitRoom() int {
	for {
		s.c.mu.Lock()
		free := s.size - s.inflight
		s.waiting = free <= 0
		s.c.mu.Unlock()
		if free > 0 {
			return free
		}
		<-s.room
	}
}

// drain waits until every request of s is answered or expired.
func (s *sender) drain() {
	for {
		s.c.mu.Lock()
		left := s.inflight
		s.waiting = left > 0
		s.c.mu.Unlock()
		if left == 0 {
			return
		}
		<-s.room
	}
}

// send encodes and writes up to n requests, fewer when the claims stop or
// a paced run has no request due, and reports whether the run goes on. A
// paced request is stamped and timed from its intended send time (pacer);
// any other from the burst.
func (s *sender) send(n int) bool {
	p := s.c.p
	now := time.Now()
	more := true
	for len(s.burst) < n {
		got, due := s.claim(len(s.burst) == 0)
		if got != claimed {
			more = got == claimLater
			break
		}
		at := now
		if due > 0 {
			at = p.epoch.Add(due)
		}
		seq := p.next.Add(1)
		qi := seq % uint64(len(p.cl.write))
		b := p.brokerOf[qi]
		buf := s.bufs[b]
		if buf == nil {
			// Room for the whole burst at once, not doubling as it grows.
			buf = remoting.NewOutFrame(min((n-len(s.burst))*s.frameBytes, burstBytesMax+s.frameBytes))
			s.bufs[b] = buf
		}
		opaque := s.c.client.NextOpaque()
		mark := len(buf.B)
		buf.B = s.enc.append(buf.B, p.cl.write[qi], seq, opaque, at)
		s.frameBytes = len(buf.B) - mark
		s.burst = append(s.burst, burstItem{opaque: opaque, broker: b, start: due})
		if len(buf.B) >= burstBytesMax {
			break
		}
	}
	if len(s.burst) == 0 {
		return more
	}
	start := p.since()
	paced := false
	for i := range s.burst {
		if s.burst[i].start == 0 { // not paced
			s.burst[i].start = start
		} else {
			paced = true
		}
	}
	if s.size > 0 {
		// Registered before the write: the answer may come at once.
		s.c.mu.Lock()
		for _, it := range s.burst {
			s.c.pending[it.opaque] = inflight{s: s, start: it.start}
		}
		s.inflight += len(s.burst)
		s.c.mu.Unlock()
	}
	for b, buf := range s.bufs {
		if buf != nil {
			s.bufs[b] = nil
			s.errs[b] = s.c.client.WriteFrames(p.cl.brokers[b], buf) // takes buf over
		}
	}
	end := p.since()
	if paced {
		for _, it := range s.burst {
			s.late.record((end - it.start).Microseconds())
		}
	}
	s.settle(end)
	return more
}

// settle accounts for the burst just written, at end: a request whose
// write failed is an error (and no longer in flight); a oneway request
// counts as sent, its latency the time until its write returned.
func (s *sender) settle(end time.Duration) {
	p := s.c.p
	for _, it := range s.burst {
		err := s.errs[it.broker]
		switch {
		case err != nil && s.size > 0:
			s.c.mu.Lock()
			if _, ok := s.c.pending[it.opaque]; ok { // not answered after all
				delete(s.c.pending, it.opaque)
				p.m.fail(err)
				s.finish()
			}
			s.c.mu.Unlock()
		case err != nil:
			p.m.fail(err)
		case s.size == 0:
			s.c.rec.record((end - it.start).Microseconds())
			p.m.msgs.Add(int64(p.opts.batch))
			p.m.bytes.Add(int64(p.opts.batch * p.opts.size))
		}
	}
	clear(s.errs)
	s.burst = s.burst[:0]
}
