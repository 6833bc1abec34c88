package netio

import (
	"sync"
	"sync/atomic"

	"github.com/actormq/actormq/internal/sizeclass"
	"github.com/actormq/actormq/wire/remoting"
)

// A frame that arrives over several reads is assembled in a partialFrame of
// its connection, not left in gnet's buffers. gnet keeps unread bytes in the
// connection's elastic ring buffer, which grows through its byteslice pool
// and is dropped on Discard to a pool that, like bytebufferpool, calibrates
// on the sizes it saw and throws away buffers above them; and every Peek
// across the ring buffer and the next read copies into yet another pooled
// slice. With ~33 KB batch frames, after runs of small frames had taught
// those pools small sizes, that was ~2 GB of garbage a minute (18 GCs).
// Leaving nothing in gnet after OnTraffic keeps its inbound buffer empty, so
// Peek returns the read buffer itself.
//
// Rejected: bytebufferpool for the assembly buffer (same calibration
// problem); keeping small partial frames on gnet's path (any leftover, even
// a split length prefix, makes the next read's Peek copy).
type partialFrame struct {
	head    [4]byte // the length prefix
	headLen int     // bytes of head received; 0: no frame pending
	size    int     // the frame's size, once the prefix is in
	// frame holds the bytes received so far once the prefix is in; its
	// capacity is size for a pooled buffer (held), while an unpooled one
	// grows as bytes arrive, so a peer's length prefix alone does not make
	// the broker allocate up to FrameBytesMax.
	frame []byte
	held  *[]byte // the pooled buffer frame lives in; nil for an unpooled one
}

// partialFramesHeld counts assembly buffers taken and not yet released, for
// tests that check a closed connection gives its buffer back. Only partial
// frames touch it.
var partialFramesHeld atomic.Int64

// Assembly buffer size classes: powers of two from 4 KiB to 256 KiB. A bigger
// frame is assembled in a plain allocation: rare, and too big to keep idle.
var (
	partialClasses = sizeclass.Classes{MinShift: 12, Count: 7}
	partialPools   [7]sync.Pool // of *[]byte, len = class size
)

// pending reports whether part of a frame is in p.
func (p *partialFrame) pending() bool { return p.headLen > 0 }

// fill moves the frame's next bytes from in into p; it returns true once the
// whole frame is in p.frame. A length prefix out of range is an error
// wrapping remoting.ErrFrame. Runs on the connection's loop.
func (p *partialFrame) fill(in inbound, frameBytesMax int) (bool, error) {
	if p.frame == nil {
		p.headLen += take(in, p.head[p.headLen:])
		if p.headLen < len(p.head) {
			return false, nil
		}
		size, err := remoting.FrameLength(p.head[:], frameBytesMax)
		if err != nil {
			return false, err
		}
		p.start(size)
	}
	if n := min(p.size-len(p.frame), in.InboundBuffered()); n > 0 { // Peek(0) would return everything
		if src, err := in.Peek(n); err == nil { // cannot fail with n bytes buffered
			p.frame = append(p.frame, src...)
			_, _ = in.Discard(n)
		}
	}
	return len(p.frame) == p.size, nil
}

// take copies what in has buffered, up to len(dst), into dst and discards it.
func take(in inbound, dst []byte) int {
	n := min(len(dst), in.InboundBuffered())
	if n == 0 {
		return 0 // Peek(0) would return everything
	}
	src, err := in.Peek(n)
	if err != nil {
		return 0 // cannot happen with n bytes buffered
	}
	copy(dst, src)
	_, _ = in.Discard(n)
	return n
}

// start sets p.frame to the length prefix, in a pooled buffer of the class
// of size when there is one.
func (p *partialFrame) start(size int) {
	partialFramesHeld.Add(1)
	p.size = size
	class := partialClasses.For(size)
	if class < 0 {
		p.frame = append([]byte(nil), p.head[:]...)
		return
	}
	held, _ := partialPools[class].Get().(*[]byte)
	if held == nil {
		b := make([]byte, partialClasses.Size(class))
		held = &b
	}
	p.held = held
	p.frame = append((*held)[:0], p.head[:]...)
}

// release returns p's buffer to its pool and empties p, ready for the next
// frame; a no-op when p holds nothing. The caller has copied out what it
// keeps (DecodeFrame copies). Runs on the connection's loop: after each
// assembled frame and from OnClose.
func (p *partialFrame) release() {
	if p.frame != nil {
		partialFramesHeld.Add(-1)
	}
	if p.held != nil {
		partialPools[partialClasses.Holding(cap(*p.held))].Put(p.held)
	}
	*p = partialFrame{}
}
