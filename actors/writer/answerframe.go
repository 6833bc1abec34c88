package writer

import (
	"sync"

	"github.com/actormq/actormq/wire/remoting"
	"github.com/valyala/bytebufferpool"
)

// frameBodyWriter is the part of *netio.Conn that writes a frame from a
// head and parts the caller owns until done runs. A Conn without it (test
// fakes) gets every answer through WriteFrame.
type frameBodyWriter interface {
	WriteFrameWithBody(head *bytebufferpool.ByteBuffer, parts [][]byte, done func()) error
}

// answerFrame is the pooled buffer of one batch message's answer: its
// comma-joined ids make it 1.3 KB for 32 items, 2.4 KB for 64. Through
// bytebufferpool, whose size calibration follows the many small frames of a
// broker, such answers were allocated afresh and dropped at Put: 92 MB of
// garbage in 10 s of 32 × 1 KiB batches, the run's largest source (heap
// profiles with GC, before and after). So the answer is encoded here, and
// netio gets its 8-byte length prefix as the pooled head and the rest as a
// part that it writes without copying; done hands the buffer back.
//
// Ownership: answerBatch takes one from the pool and encodes into it; from
// WriteFrameWithBody on, netio holds it until the write completed or failed
// and then runs release, exactly once (netio.Conn.WriteFrameWithBody's
// rule), after which nobody touches it. Rejected: keeping the frame with
// the pooled Append, as its ids are: the Append is recycled as soon as it
// is answered, before the connection's loop writes the frame.
type answerFrame struct {
	b       []byte
	parts   [1][]byte // the parts slice handed to netio (it copies the slice header)
	release func()    // put, bound once per pooled frame (answerBatch)
}

// answerHeadBytes is a frame's total length and header length fields.
const answerHeadBytes = 8

// answerFramePooledMax keeps a frame grown for a huge batch out of the pool.
const answerFramePooledMax = 64 << 10

var answerFrames = sync.Pool{New: func() any { return new(answerFrame) }}

func (f *answerFrame) put() {
	if cap(f.b) > answerFramePooledMax {
		f.b = nil
	}
	f.b, f.parts[0] = f.b[:0], nil
	answerFrames.Put(f)
}

// answerBatch writes the success answer of p, a stored multi-record append,
// to c from a pooled answerFrame.
func (w *Writer) answerBatch(c frameBodyWriter, p *Append, code int32) error {
	r := w.sendResponse(p, code, nil)
	f := answerFrames.Get().(*answerFrame)
	if f.release == nil {
		f.release = f.put // once per pooled frame
	}
	f.b = w.answers.Append(f.b[:0], &r)
	head := remoting.NewOutFrame(answerHeadBytes)
	head.B = append(head.B[:0], f.b[:answerHeadBytes]...)
	f.parts[0] = f.b[answerHeadBytes:]
	return c.WriteFrameWithBody(head, f.parts[:], f.release)
}
