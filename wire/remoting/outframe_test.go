package remoting

import (
	"testing"

	"github.com/valyala/bytebufferpool"
)

// TestOutFrameClasses: a frame gets at least the room asked for; a released
// frame is found again by a request of its class, and one that grew past
// its class by a request of the class it came from; a frame above the
// largest class is not kept.
func TestOutFrameClasses(t *testing.T) {
	for _, n := range []int{0, 1, 64, 65, 300, 512, 513, 64 << 10, outClasses.Max(), outClasses.Max() + 1} {
		if b := NewOutFrame(n); cap(b.B) < n || len(b.B) != 0 {
			t.Errorf("NewOutFrame(%d): len %d cap %d", n, len(b.B), cap(b.B))
		}
	}
	// sync.Pool keeps what is put back on this P unless a GC runs between,
	// or, in race builds, drops a quarter at random: so the check is that
	// some of many releases come back, never that one does.
	reused := func(get func() *bytebufferpool.ByteBuffer, put func() *bytebufferpool.ByteBuffer) bool {
		for range 64 {
			b := put()
			ReleaseOutFrame(b)
			if get() == b {
				return true
			}
		}
		return false
	}
	if !reused(func() *bytebufferpool.ByteBuffer { return NewOutFrame(300) },
		func() *bytebufferpool.ByteBuffer { return NewOutFrame(300) }) {
		t.Error("a released 512 B frame never came back for a frame of 300 B")
	}
	grown := func() *bytebufferpool.ByteBuffer {
		b := NewOutFrame(200) // class 256, grown by append to 512
		b.B = append(b.B, make([]byte, 300)...)
		if cap(b.B) < 512 {
			t.Fatalf("grown cap %d", cap(b.B))
		}
		return b
	}
	if !reused(func() *bytebufferpool.ByteBuffer { return NewOutFrame(200) }, grown) {
		t.Error("a frame grown past class 256 never came back for a frame of 200 B")
	}
	huge := &bytebufferpool.ByteBuffer{B: make([]byte, 0, 2*outClasses.Max())}
	ReleaseOutFrame(huge)
	for range 64 {
		if NewOutFrame(outClasses.Max()) == huge {
			t.Fatal("a frame above the largest class was pooled")
		}
	}
}
