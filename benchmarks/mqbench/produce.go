package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Send modes.
const (
	modeSync   = "sync"   // -w senders per connection, each waits for its answer
	modeAsync  = "async"  // one sender per connection keeps -w requests in flight
	modeOneway = "oneway" // one sender per connection, no answer awaited (-w has no effect)
)

// stampBytes is the body prefix e2e and mixed runs write: a marker and the
// send time in Unix nanoseconds, read back by the consumer.
const stampBytes = 16

var stampMarker = [8]byte{'m', 'q', 'b', 'e', 'n', 'c', 'h', '1'}

// producerOpts are the produce flags.
type producerOpts struct {
	size, conns, inflight, batch int
	messages                     int64 // stop after this many (0: run for --duration)
	mode, header, tags           string
	keys                         bool
	// batchUniq gives every batch item a UNIQ_KEY and WAIT=true, as the
	// Java producer's batches carry them; the Go client's items carry
	// neither (client-quirks.md 14), which stays the default.
	batchUniq bool
	stamp     bool // write the send time into each body (e2e, mixed)
}

func (o *producerOpts) check() error {
	switch {
	case o.mode != modeSync && o.mode != modeAsync && o.mode != modeOneway:
		return fmt.Errorf("--mode %q: want sync, async or oneway", o.mode)
	case o.header != "json" && o.header != "rocketmq":
		return fmt.Errorf("--header %q: want json or rocketmq", o.header)
	case o.size < 1 || o.conns < 1 || o.inflight < 1 || o.batch < 1:
		return fmt.Errorf("-s, -c, -w and --batch must be at least 1")
	case o.messages < 0:
		return fmt.Errorf("--messages must not be negative")
	case o.stamp && o.size < stampBytes:
		return fmt.Errorf("-s must be at least %d to carry the send time", stampBytes)
	}
	return nil
}

// producer sends to the cluster's write queues round robin over -c
// connections (conn), each with its long-lived senders.
type producer struct {
	opts     producerOpts
	cl       *cluster
	conns    []*conn
	brokerOf []int // per write queue: its broker's index in cl.brokers
	m        *meter
	epoch    time.Time     // request start times are durations since
	timeout  time.Duration // an unanswered request fails after this
	next     atomic.Uint64 // queue round robin and message sequence
	taken    atomic.Int64  // messages of the requests started (--messages)
	uniq     string        // UNIQ_KEY prefix: pid, like the Go client's
	// late is how long after its intended send time each paced request's
	// write returned: the generator's own share of the send round trip and
	// of publish-to-deliver (the sleeper's wake-up, the burst's encoding
	// and write, its goroutines not scheduled, a full window).
	late *meter
}

func newProducer(cl *cluster, o producerOpts) (*producer, error) {
	if len(cl.write) == 0 {
		return nil, fmt.Errorf("topic %s has no writable queue", cl.name())
	}
	p := &producer{
		opts: o, cl: cl, m: &meter{}, late: &meter{}, epoch: time.Now(), timeout: sendTimeout,
		uniq: fmt.Sprintf("7F000001%04X00000000", os.Getpid()&0xFFFF),
	}
	for _, q := range cl.write {
		p.brokerOf = append(p.brokerOf, slices.Index(cl.brokers, q.broker))
	}
	for range o.conns {
		p.conns = append(p.conns, newConn(p))
	}
	return p, nil
}

func (p *producer) close() {
	for _, c := range p.conns {
		_ = c.client.Close()
	}
}

// since is the time since the producer started, monotonic.
func (p *producer) since() time.Duration { return time.Since(p.epoch) }

// sendTimeout is the Go client's fixed send timeout (client-quirks A3).
const sendTimeout = 3 * time.Second

// expireEvery is how often unanswered requests are checked against the
// send timeout.
const expireEvery = 100 * time.Millisecond

// run sends until ctx is done or --messages are sent, then waits for the
// answers in flight. With pc non-nil requests go at pc's schedule
// (fixed-rate e2e), otherwise as fast as answers allow. It fails only when
// a paced sender's sleeper cannot be made, before anything is sent.
func (p *producer) run(ctx context.Context, pc *pacer) error {
	stopExpiry := make(chan struct{})
	var expiry sync.WaitGroup
	expiry.Go(func() { p.expireUntil(stopExpiry) })
	defer func() {
		close(stopExpiry)
		expiry.Wait()
	}()

	size, senders := p.opts.inflight, 1
	switch p.opts.mode {
	case modeSync:
		size, senders = 1, p.opts.inflight
	case modeOneway:
		// One sender: it is always the one writing, so it waits in the
		// write while the socket is full. Several would queue frames
		// without bound behind the one writing and count them as sent.
		size, senders = 0, 1
	}
	// A paced sender waits for its requests' due times on a sleeper of
	// its own (a timerfd: one goroutine reads it at a time).
	var sleepers []*sleeper
	defer func() {
		for _, sl := range sleepers {
			_ = sl.close()
		}
	}()
	var ss []*sender
	for _, c := range p.conns {
		for range senders {
			var sl *sleeper
			if pc != nil {
				var err error
				if sl, err = newSleeper(ctx); err != nil {
					return fmt.Errorf("pacing: %w", err)
				}
				sleepers = append(sleepers, sl)
			}
			ss = append(ss, newSender(c, size, func(first bool) (claim, time.Duration) { return p.take(ctx, pc, sl, first) }))
		}
	}
	var wg sync.WaitGroup
	for _, s := range ss {
		wg.Go(s.run)
	}
	wg.Wait()
	if p.opts.mode == modeOneway {
		p.fence()
	}
	return nil
}

// expireUntil fails overdue requests every expireEvery until stop closes.
func (p *producer) expireUntil(stop <-chan struct{}) {
	tick := time.NewTicker(expireEvery)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			now := p.since()
			for _, c := range p.conns {
				c.expire(now)
			}
		}
	}
}

// fence ends a oneway run with one answered send per connection: once it
// is answered the broker has read every request written before it, so
// closing the connection cannot discard any (a close with unread answers
// resets the connection, and the broker drops what it had not read yet).
func (p *producer) fence() {
	var wg sync.WaitGroup
	for _, c := range p.conns {
		once := true
		s := newSender(c, 1, func(bool) (claim, time.Duration) {
			if once {
				once = false
				return claimed, 0
			}
			return claimStop, 0
		})
		s.enc.cmd.Flag = 0 // answered, unlike the oneway requests before it
		wg.Go(s.run)
	}
	wg.Wait()
}

// claim is the outcome of producer.take.
type claim int

const (
	claimed    claim = iota // send one more request
	claimLater              // a paced run has no request due yet: write what is encoded
	claimStop               // the run is over (ctx done or --messages reached)
)

// take claims the next request and, in a paced run, its intended send
// time (0 otherwise): a paced run takes the next request of pc's schedule
// (waiting on sl until it is due only when wait is set). Every request
// counts against --messages.
func (p *producer) take(ctx context.Context, pc *pacer, sl *sleeper, wait bool) (claim, time.Duration) {
	if ctx.Err() != nil {
		return claimStop, 0
	}
	var due time.Duration
	if pc != nil {
		if !wait {
			sl = nil // take only what is due now
		}
		var ok bool
		if due, ok = pc.next(p.since(), sl, p.since); !ok {
			if wait {
				return claimStop, 0
			}
			return claimLater, 0
		}
	}
	if p.opts.messages > 0 && p.taken.Add(int64(p.opts.batch)) > p.opts.messages {
		return claimStop, 0
	}
	return claimed, due
}
