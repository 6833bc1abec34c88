package remoting

import (
	"fmt"
	"sync"

	"github.com/actormq/actormq/internal/sizeclass"
)

// A decoded send request (the send codes, sendKeysFor) or pull request
// (PULL_MESSAGE, LITE_PULL_MESSAGE) lives in a pooledFrame: its Command and
// one buffer holding the header copy, the JSON unescape arena and the body
// (headerCopy). Every header string of the command, every value in its
// field array or ExtFields map and Body alias that buffer. Sends are the
// bulk of a broker's traffic, and a plain copy per request was most of its
// heap garbage (a 64×128 B batch ~10 KB, 32×1 KiB ~33 KB): GC cycles, and
// fresh pages to fault in after the scavenger returned them. Pulls are the
// bulk of a consuming broker's requests: their Command and header copy
// (~450 B a pull, 14 of the 16 B of garbage per message read from the page
// cache, 32 messages a pull) were what still drove its GC cycles.
//
// Ownership: DecodeFrame gives the Command to its caller, who hands it on
// (netio → the handler of its code); whoever holds it last calls Release
// exactly once, after which neither the Command nor any string or slice
// read from it may be touched: copy out (strings.Clone) what must outlive
// it. A Command nobody releases is simply garbage, as before pooling, so a
// path that does not release (a broker that is draining) stays correct.
//
// Race builds (go test -race) poison instead of recycling (framepool_race.go):
// Release overwrites the buffer and the Command with a pattern, keeps the
// frame out of the pool and panics on a second Release, so a test that
// reads a request after its release sees garbage (and the race detector
// sees the write) instead of passing by luck.
//
// Rejected alternatives: bytebufferpool (its calibration follows the many
// small answer frames and it cannot carry the Command along); pooling the
// body alone (the header strings would still need an allocation per send).
type pooledFrame struct {
	cmd      Command
	buf      []byte // capacity: the class's size
	class    int
	released bool // race builds: Release ran (the frame is never reused)
}

// pooledCode reports whether DecodeFrame decodes a request of code with a
// body of bodyLen bytes into a pooled frame: sends that carry a body (a
// send without one is an error answer, not worth a frame), every pull and
// every GET_MAX_OFFSET and GET_MIN_OFFSET (a consumer starting on 10,000
// queues asks twice per queue: ~250 B of header copy and Command each).
// A pull's or offset query's header strings are read on the event loop by
// its handler, which copies or interns what outlives the request
// (actors/queue's pull.go; offsets.go keeps nothing) and releases the
// Command before it returns.
func pooledCode(code int32, bodyLen int) bool {
	switch code {
	case ReqPullMessage, ReqLitePullMessage, ReqGetMaxOffset, ReqGetMinOffset:
		return true
	}
	return bodyLen > 0 && sendKeysFor(code) != nil
}

// Frame size classes: powers of two from 1 KiB to 256 KiB. A send whose
// copy needs more (a message of many hundred KiB) is copied into a plain
// allocation as other requests are: rare, and too big to keep idle.
var (
	frameClasses = sizeclass.Classes{MinShift: 10, Count: 9}
	framePools   [9]sync.Pool
)

// newPooledCommand returns an empty Command whose header copy (headerCopy)
// goes into a pooled buffer of at least n bytes, or nil when n is above
// the largest class. Any goroutine.
func newPooledCommand(n int) *Command {
	class := frameClasses.For(n)
	if class < 0 {
		return nil
	}
	f, _ := framePools[class].Get().(*pooledFrame)
	if f == nil {
		f = &pooledFrame{buf: make([]byte, 0, frameClasses.Size(class)), class: class}
	}
	f.cmd.frame = f
	return &f.cmd
}

// take returns the frame's buffer, empty, with room for n bytes. DecodeFrame
// sizes the class for the header twice and the body, and a header's arena
// is at most the header again (decodeJSONHeaderBody), so n always fits; a
// larger n, should that sizing ever change, gets a plain allocation that
// nothing recycles rather than a slice out of range on a gnet loop. (An
// arena that bad UTF-8 outgrows reallocates by append, outside the frame.)
func (f *pooledFrame) take(n int) []byte {
	if n > cap(f.buf) {
		return make([]byte, 0, n)
	}
	return f.buf[:0]
}

// Release ends the life of a decoded request: when it came from the frame
// pool (a send or pull request), its Command and buffer go back for a later
// DecodeFrame (race builds poison them instead), and every string and
// slice read from it becomes invalid. For any other Command it only hands
// back the header map (ReleaseExt). Only the Command's last owner calls it,
// exactly once (see pooledFrame).
func (c *Command) Release() {
	c.ReleaseExt()
	f := c.frame
	if f == nil {
		return
	}
	if f.released {
		panic(fmt.Sprintf("remoting: request (code %d) released twice", c.Code))
	}
	if poisonReleased {
		f.poison()
		return
	}
	f.cmd = Command{}
	framePools[f.class].Put(f)
}

// poisonByte fills a released buffer in race builds.
const poisonByte = 0xA5

// poison overwrites f's buffer and Command so that a read after Release
// finds nonsense: a different topic, body, opaque and code. The frame is
// marked and never reused.
func (f *pooledFrame) poison() {
	b := f.buf[:cap(f.buf)]
	for i := range b {
		b[i] = poisonByte
	}
	f.cmd = Command{Code: -1, Opaque: -0x5A5A5A5B, Remark: "remoting: released request", frame: f}
	f.released = true
}
