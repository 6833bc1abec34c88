// Package netfault is sim's network fault injector: a TCP proxy on
// 127.0.0.1 in front of one target (a NameServer or broker), which forwards
// RocketMQ remoting frames and injects seeded faults between them. Point a
// broker's namesrvAddr or a client's broker address at Proxy.Addr to put a
// link under faults; Network names the links by endpoint so that a
// partition can cut, say, broker-a from the NameServer only.
//
// The proxy reads each direction frame by frame (the 4-byte length prefix,
// wire-protocol.md §2), so every fault lands at a known place in the
// stream:
//
//	fault      what the proxy does at a frame              the peer sees
//	---------  ------------------------------------------  ---------------------------
//	delay      holds the frame Delay + [0, Jitter)         a slow network (order kept)
//	drop       discards the frame, closes both sockets     EOF, the frame never arrives
//	reset      forwards a strict prefix of the frame, then RST mid-frame (ECONNRESET)
//	           closes both sockets with SO_LINGER 0
//	half-open  discards this frame and all later ones in   silence: requests time out;
//	           the direction; never closes                 the socket stays open
//	partition  holds frames (existing links) and new       silence until Heal, then the
//	           connections (no dial) until Heal            held bytes flow (retransmit)
//
// Randomness: each direction of each connection draws from its own PCG
// seeded by (Options.Seed, connection number, direction), so the same seed
// and the same frames in the same order replay the same faults, whatever the
// goroutine schedule between connections. Connections are numbered in
// accept order.
//
// A frame whose length prefix is above remoting.FrameBytesMaxDefault is not a
// frame the proxy can reason about: the rest of that direction is copied as
// is, without faults (the server closes such a connection anyway).
package netfault

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Direction is a bit set of the two directions of a link.
type Direction uint8

// The directions. Up is client → target (requests), Down target → client
// (responses and server-initiated requests).
const (
	Up   Direction = 1 << iota
	Down Direction = 1 << iota
	Both           = Up | Down
)

func (d Direction) String() string {
	switch d {
	case Up:
		return "up"
	case Down:
		return "down"
	case Both:
		return "both"
	}
	return "none"
}

// Faults are the per-frame faults of a proxy. Probabilities are in [0, 1]
// and drawn once per frame in the order drop, reset, half-open (the first
// that hits wins); the zero value forwards everything untouched.
type Faults struct {
	Delay    time.Duration // added before each frame is forwarded
	Jitter   time.Duration // a further uniform [0, Jitter) per frame
	Drop     float64       // probability a frame is dropped and the connection closed
	Reset    float64       // probability a frame is cut and the connection reset
	HalfOpen float64       // probability the direction goes silent from this frame on
	// Dirs limits the faults to these directions; zero means Both.
	Dirs Direction
}

func (f Faults) dirs() Direction {
	if f.Dirs == 0 {
		return Both
	}
	return f.Dirs
}

// Options configures a proxy.
type Options struct {
	// Name labels the proxy's events, e.g. "broker-a->namesrv".
	Name string
	// Target is the host:port connections are forwarded to. It is dialled
	// per connection, so a restarted target on the same port is reached.
	Target string
	// Seed seeds every random draw (see the package comment).
	Seed uint64
	// Faults are the initial faults (Set changes them).
	Faults Faults
	// OnEvent, when set, is called with every event as it is logged, from
	// the proxy's goroutines; it must not block for long or call back
	// into the proxy.
	OnEvent func(Event)
	// DialTimeout bounds the dial of Target; zero means 3 s.
	DialTimeout time.Duration
}

// Proxy forwards connections from Addr to Target with faults. Its methods
// are safe from any goroutine.
type Proxy struct {
	opts Options
	ln   *net.TCPListener
	log  *eventLog
	wg   sync.WaitGroup // the accept loop and every connection's goroutines

	mu          sync.Mutex // guards everything below
	faults      Faults
	partitioned bool
	healed      chan struct{} // closed by Heal; replaced by Partition
	closed      bool
	closing     chan struct{} // closed by Close
	links       map[uint64]*link
	nextID      uint64
}

// Listen starts a proxy for opts.Target on 127.0.0.1:0.
func Listen(opts Options) (*Proxy, error) {
	if opts.Target == "" {
		return nil, errors.New("netfault: Options.Target is required")
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 3 * time.Second
	}
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("netfault: listen: %w", err)
	}
	healed := make(chan struct{})
	close(healed)
	p := &Proxy{
		opts: opts, ln: ln, log: &eventLog{onEvent: opts.OnEvent},
		faults: opts.Faults, healed: healed, closing: make(chan struct{}), links: map[uint64]*link{},
	}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's listen address ("127.0.0.1:port").
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Name is Options.Name.
func (p *Proxy) Name() string { return p.opts.Name }

// Target is Options.Target.
func (p *Proxy) Target() string { return p.opts.Target }

// Set replaces the faults; frames read from now on get the new ones.
func (p *Proxy) Set(f Faults) {
	p.mu.Lock()
	p.faults = f
	p.mu.Unlock()
	p.log.add(Event{Proxy: p.opts.Name, Kind: KindSet, Detail: fmt.Sprintf("%+v", f)})
}

// Faults returns the current faults.
func (p *Proxy) Faults() Faults {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults
}

// Partition cuts the link: frames of existing connections and new
// connections are held until Heal. Idempotent.
func (p *Proxy) Partition() {
	p.mu.Lock()
	if p.partitioned || p.closed {
		p.mu.Unlock()
		return
	}
	p.partitioned = true
	p.healed = make(chan struct{})
	p.mu.Unlock()
	p.log.add(Event{Proxy: p.opts.Name, Kind: KindPartition})
}

// Heal ends a partition: what was held flows again. Idempotent.
func (p *Proxy) Heal() {
	p.mu.Lock()
	if !p.partitioned {
		p.mu.Unlock()
		return
	}
	p.partitioned = false
	close(p.healed)
	p.mu.Unlock()
	p.log.add(Event{Proxy: p.opts.Name, Kind: KindHeal})
}

// Partitioned reports whether the link is cut.
func (p *Proxy) Partitioned() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.partitioned
}

// Conns is the number of connections open through the proxy.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

// Events returns a copy of the proxy's event log.
func (p *Proxy) Events() []Event { return p.log.snapshot() }

// Close stops listening, closes every connection (held ones included) and
// waits for the proxy's goroutines. Idempotent.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.wg.Wait()
		return nil
	}
	p.closed = true
	close(p.closing)
	links := make([]*link, 0, len(p.links))
	for _, l := range p.links {
		links = append(links, l)
	}
	p.mu.Unlock()
	err := p.ln.Close()
	for _, l := range links {
		l.close("proxy closed", false)
	}
	p.wg.Wait()
	return err
}

// state returns the faults and the partition's heal channel for one frame.
func (p *Proxy) state() (Faults, chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults, p.healed
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.AcceptTCP()
		if err != nil {
			return // closed
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			_ = c.Close()
			return
		}
		p.nextID++
		l := newLink(p, p.nextID, c)
		p.links[l.id] = l
		p.wg.Add(1)
		p.mu.Unlock()
		go l.run()
	}
}

func (p *Proxy) forget(l *link) {
	p.mu.Lock()
	delete(p.links, l.id)
	p.mu.Unlock()
}
