package netio

import (
	"testing"

	"github.com/actormq/actormq/wire/remoting"
)

// rewindInbound serves the same buffered bytes again after rewind; unlike
// sliceInbound it does not scribble, so only the cutting is measured.
type rewindInbound struct {
	buf []byte
	pos int
}

func (r *rewindInbound) InboundBuffered() int { return len(r.buf) - r.pos }

func (r *rewindInbound) Peek(n int) ([]byte, error) { return r.buf[r.pos : r.pos+n], nil }

func (r *rewindInbound) Discard(n int) (int, error) { r.pos += n; return n, nil }

// BenchmarkCutFrames cuts 16 pipelined Go-client SEND_MESSAGE frames (128 B
// bodies) out of one read, as a gnet loop does; figures are per frame.
func BenchmarkCutFrames(b *testing.B) {
	const frames = 16
	cmd := remoting.NewRequest(remoting.ReqSendMessage, map[string]string{
		"producerGroup": "PG_bench", "topic": "BenchTopic", "queueId": "3", "sysFlag": "0",
		"bornTimestamp": "1795238031504", "flag": "0", "reconsumeTimes": "0", "unitMode": "false",
		"maxReconsumeTimes": "0", "defaultTopic": "TBW102", "defaultTopicQueueNums": "4", "batch": "false",
		"properties": "UNIQ_KEY\x01C0000202705D00000000681372a80001\x02WAIT\x01true\x02TAGS\x01TagA\x02",
	}, make([]byte, 128))
	in := &rewindInbound{}
	for range frames {
		in.buf = remoting.AppendFrame(in.buf, cmd)
	}
	got := 0
	// The send handler releases each request once it is answered; here at
	// once, so the next frame decodes into the recycled frame.
	deliver := func(c *remoting.Command) { got++; c.Release() }
	var partial partialFrame
	b.ReportAllocs()
	b.SetBytes(int64(len(in.buf) / frames))
	for b.Loop() {
		if in.pos == len(in.buf) {
			in.pos = 0
		}
		// Cut one frame per op: expose exactly one more frame's bytes.
		end := in.pos + len(in.buf)/frames
		full := in.buf
		in.buf = full[:end]
		if err := cutFrames(in, &partial, remoting.FrameBytesMaxDefault, deliver); err != nil {
			b.Fatal(err)
		}
		in.buf = full
	}
	if got != b.N {
		b.Fatalf("delivered %d frames, want %d", got, b.N)
	}
}

// BenchmarkCutFramesSplit cuts a 32 x 1 KiB batch frame (~33 KB) that
// arrives in two reads, assembled in the connection's partial frame;
// figures are per frame.
func BenchmarkCutFramesSplit(b *testing.B) {
	frame := remoting.AppendFrame(nil, batchFrame(1, 32<<10))
	half := len(frame) / 2
	in := &rewindInbound{}
	var partial partialFrame
	got := 0
	deliver := func(c *remoting.Command) { got++; c.Release() }
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		for _, piece := range [][]byte{frame[:half], frame[half:]} {
			in.buf, in.pos = piece, 0
			if err := cutFrames(in, &partial, remoting.FrameBytesMaxDefault, deliver); err != nil {
				b.Fatal(err)
			}
		}
	}
	if got != b.N {
		b.Fatalf("delivered %d frames, want %d", got, b.N)
	}
}
