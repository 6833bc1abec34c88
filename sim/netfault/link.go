package netfault

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/actormq/actormq/wire/remoting"
)

// readBufferBytes sizes each direction's read buffer.
const readBufferBytes = 64 << 10

// link is one proxied connection: the client's socket, the target's, and a
// pump per direction.
type link struct {
	p      *Proxy
	id     uint64
	client *net.TCPConn
	done   chan struct{} // closed by close

	mu     sync.Mutex // guards target and reason
	target *net.TCPConn
	reason string
	once   sync.Once
}

func newLink(p *Proxy, id uint64, client *net.TCPConn) *link {
	return &link{p: p, id: id, client: client, done: make(chan struct{})}
}

// run dials the target (after any partition) and pumps both directions
// until the link closes. It runs on its own goroutine, counted in p.wg.
func (l *link) run() {
	defer l.p.wg.Done()
	defer l.p.forget(l)
	l.p.log.add(Event{Proxy: l.p.opts.Name, Conn: l.id, Kind: KindAccept})
	if _, healed := l.p.state(); !l.wait(healed) {
		l.logClose()
		return
	}
	target, err := l.dial()
	if err != nil {
		l.p.log.add(Event{Proxy: l.p.opts.Name, Conn: l.id, Kind: KindDialFailed, Detail: err.Error()})
		l.close("dial failed", false)
		l.logClose()
		return
	}
	var pumps sync.WaitGroup
	pumps.Go(func() { l.pump(l.client, target, Up) })
	pumps.Go(func() { l.pump(target, l.client, Down) })
	pumps.Wait()
	l.logClose()
}

func (l *link) dial() (*net.TCPConn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), l.p.opts.DialTimeout)
	defer cancel()
	go func() { // the dial ends with the link (proxy Close)
		select {
		case <-l.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", l.p.opts.Target)
	if err != nil {
		return nil, err
	}
	tc := c.(*net.TCPConn)
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.done: // closed while dialling
		_ = tc.Close()
		return nil, net.ErrClosed
	default:
	}
	l.target = tc
	return tc, nil
}

// pump forwards frames from src to dst, injecting dir's faults, until
// either side fails or a fault ends the link.
//
// Every frame draws exactly three numbers (jitter, fault roll, reset cut)
// whether or not a fault is set, so a replay with the same seed draws the
// same values for the same frame even when Set changed the faults at a
// different frame.
func (l *link) pump(src, dst *net.TCPConn, dir Direction) {
	rng := rand.New(rand.NewPCG(l.p.opts.Seed, l.id<<2|uint64(dir)))
	br := bufio.NewReaderSize(src, readBufferBytes)
	var buf []byte
	silent := false // half-open: read and discard from here on
	for frame := 0; ; frame++ {
		var hdr [4]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			l.close(dir.String()+" read: "+err.Error(), false)
			return
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n > remoting.FrameBytesMaxDefault {
			l.passThrough(br, dst, hdr[:], silent)
			return
		}
		buf = append(buf[:0], hdr[:]...)
		buf = slices.Grow(buf, int(n))[:4+n]
		if _, err := io.ReadFull(br, buf[4:]); err != nil {
			l.close(dir.String()+" read: "+err.Error(), false)
			return
		}
		jitter, roll, cut := rng.Float64(), rng.Float64(), 1+rng.IntN(len(buf)-1)
		if silent {
			continue
		}
		f, healed := l.p.state()
		if !l.wait(healed) {
			return
		}
		if f.dirs()&dir != 0 {
			if d := f.Delay + time.Duration(jitter*float64(f.Jitter)); d > 0 {
				if !l.sleep(d) {
					return
				}
				if _, healed = l.p.state(); !l.wait(healed) { // partitioned during the delay
					return
				}
			}
			ev := Event{Proxy: l.p.opts.Name, Conn: l.id, Dir: dir, Frame: frame, Bytes: len(buf)}
			switch {
			case roll < f.Drop:
				ev.Kind = KindDrop
				l.p.log.add(ev)
				l.close("drop", false)
				return
			case roll < f.Drop+f.Reset:
				_, _ = dst.Write(buf[:cut])
				ev.Kind, ev.Cut = KindReset, cut
				l.p.log.add(ev)
				l.close("reset", true)
				return
			case roll < f.Drop+f.Reset+f.HalfOpen:
				ev.Kind = KindHalfOpen
				l.p.log.add(ev)
				silent = true
				continue
			}
		}
		if _, err := dst.Write(buf); err != nil {
			l.close(dir.String()+" write: "+err.Error(), false)
			return
		}
	}
}

// passThrough copies the rest of a direction whose stream is not frames.
func (l *link) passThrough(br *bufio.Reader, dst *net.TCPConn, hdr []byte, silent bool) {
	var w io.Writer = dst
	if silent {
		w = io.Discard
	}
	if _, err := w.Write(hdr); err == nil {
		_, _ = io.Copy(w, br)
	}
	l.close("not a frame stream", false)
}

// wait blocks while the proxy is partitioned; false when the link closed
// meanwhile.
func (l *link) wait(healed chan struct{}) bool {
	select {
	case <-healed:
		return true
	case <-l.done:
		return false
	}
}

// sleep waits d; false when the link closed meanwhile.
func (l *link) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-l.done:
		return false
	}
}

// close closes both sockets once; reset sends RST instead of FIN (SO_LINGER
// 0). Any goroutine.
func (l *link) close(reason string, reset bool) {
	l.once.Do(func() {
		l.mu.Lock()
		l.reason = reason
		target := l.target
		l.mu.Unlock()
		for _, c := range []*net.TCPConn{l.client, target} {
			if c == nil {
				continue
			}
			if reset {
				_ = c.SetLinger(0)
			}
			_ = c.Close()
		}
		close(l.done)
	})
}

func (l *link) logClose() {
	l.mu.Lock()
	reason := l.reason
	l.mu.Unlock()
	l.p.log.add(Event{Proxy: l.p.opts.Name, Conn: l.id, Kind: KindClose, Detail: reason})
}
