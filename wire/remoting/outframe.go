package remoting

import (
	"sync"

	"github.com/actormq/actormq/internal/sizeclass"
	"github.com/valyala/bytebufferpool"
)

// Outgoing frames (answers, pull heads, client requests) are encoded into a
// ByteBuffer from NewOutFrame and handed to netio, which returns it with
// ReleaseOutFrame once written. The buffers are pooled in power-of-two
// classes, 64 B to 256 KiB, by capacity.
//
// Why not bytebufferpool's own pool: it calibrates on what is put back
// and drops any buffer larger than the 95th percentile of recent sizes.
// A broker's frames are of a few very different sizes (8-byte heads of
// batch answers, ~300 B send answers, ~240 B pull heads), and the mix moves
// with the load: after a run of batch sends had taught it 64 B, each
// single send's answer grew a buffer that the pool then dropped, until it
// had calibrated again — ~29 MB of garbage in the first 20 s of 1 KiB
// sends, enough for a GC cycle that would otherwise not have come. With
// classes a buffer always goes back to the class it fits.
var (
	// 64 B to 256 KiB (a load generator's burst of sends).
	outClasses    = sizeclass.Classes{MinShift: 6, Count: 13}
	outFramePools [13]sync.Pool // *bytebufferpool.ByteBuffer, by class
)

// NewOutFrame returns an empty buffer with room for at least n bytes (more
// may be appended: a buffer that grows goes back to a larger class). Any
// goroutine.
func NewOutFrame(n int) *bytebufferpool.ByteBuffer {
	c := outClasses.For(n)
	if c < 0 {
		return &bytebufferpool.ByteBuffer{B: make([]byte, 0, n)}
	}
	// A buffer that outgrew class c went back to class c+1; taking it from
	// there keeps a size that straddles a class boundary from allocating
	// anew in c while c+1 fills up.
	for k := c; k < min(c+2, len(outFramePools)); k++ {
		if b, _ := outFramePools[k].Get().(*bytebufferpool.ByteBuffer); b != nil {
			return b
		}
	}
	return &bytebufferpool.ByteBuffer{B: make([]byte, 0, outClasses.Size(c))}
}

// ReleaseOutFrame takes b back; nothing may use b after. A buffer above
// 256 KiB (a rare huge answer) is left to the GC rather than kept idle.
func ReleaseOutFrame(b *bytebufferpool.ByteBuffer) {
	// The largest class whose size b holds: NewOutFrame's promise of room.
	if c := outClasses.Holding(cap(b.B)); c >= 0 {
		b.B = b.B[:0]
		outFramePools[c].Put(b)
	}
}
