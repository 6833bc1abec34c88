package netio

import (
	"io"
	"reflect"
	"testing"

	"github.com/actormq/actormq/wire/remoting"
)

// sliceInbound is an inbound over a plain buffer. Discard scribbles over the
// bytes it drops, so a command that kept a view of peeked bytes instead of a
// copy would come out corrupted.
type sliceInbound struct{ buf []byte }

func (s *sliceInbound) InboundBuffered() int { return len(s.buf) }

func (s *sliceInbound) Peek(n int) ([]byte, error) {
	if n > len(s.buf) {
		return nil, io.ErrShortBuffer
	}
	return s.buf[:n], nil
}

func (s *sliceInbound) Discard(n int) (int, error) {
	n = min(n, len(s.buf))
	for i := range s.buf[:n] {
		s.buf[i] = 0xAA
	}
	s.buf = s.buf[n:]
	return n, nil
}

// cutAll feeds stream in chunks of chunk bytes (0 = all at once) and returns
// the commands and whether framing broke.
func cutAll(stream []byte, chunk, frameBytesMax int) ([]*remoting.Command, bool) {
	var cmds []*remoting.Command
	deliver := func(c *remoting.Command) { cmds = append(cmds, c) }
	in := &sliceInbound{}
	if chunk <= 0 {
		chunk = len(stream)
	}
	for off := 0; off < len(stream); off += chunk {
		in.buf = append(in.buf, stream[off:min(off+chunk, len(stream))]...)
		if err := cutFrames(in, frameBytesMax, deliver); err != nil {
			return cmds, true
		}
	}
	return cmds, false
}

// reference decodes stream frame by frame straight from an untouched copy,
// without the inbound machinery.
func reference(stream []byte, frameBytesMax int) ([]*remoting.Command, bool) {
	stream = append([]byte(nil), stream...)
	var cmds []*remoting.Command
	for len(stream) >= 4 {
		size, err := remoting.FrameLength(stream, frameBytesMax)
		if err != nil {
			return cmds, true
		}
		if len(stream) < size {
			break
		}
		cmd, err := remoting.DecodeFrame(stream[:size])
		if err != nil {
			return cmds, true
		}
		cmds = append(cmds, cmd)
		stream = stream[size:]
	}
	return cmds, false
}

func seedStreams() [][]byte {
	json := remoting.NewRequest(remoting.ReqSendMessage, map[string]string{"topic": "T", "queueId": "1"}, []byte("body"))
	json.Opaque = 3
	binary := remoting.NewRequest(remoting.ReqPullMessage, map[string]string{"consumerGroup": "G"}, nil)
	binary.SerializeType = remoting.SerializeRocketMQ
	resp := remoting.NewResponse(json, remoting.RespSuccess, "ok")
	two := remoting.AppendFrame(remoting.AppendFrame(nil, json), resp)
	return [][]byte{
		remoting.AppendFrame(nil, json),
		remoting.AppendFrame(nil, binary),
		two,
		two[:len(two)-3], // trailing partial frame
		append(remoting.AppendFrame(nil, json), 0, 0, 0, 10, 0, 0, 0, 6, '{', 'x'),
		{0xff, 0xff, 0xff, 0xff},
		{0, 0, 0, 1},
	}
}

func TestCutFramesSplitAnywhere(t *testing.T) {
	for i, stream := range seedStreams() {
		want, wantBroken := reference(stream, remoting.FrameBytesMaxDefault)
		for chunk := 0; chunk <= len(stream); chunk++ {
			got, broken := cutAll(append([]byte(nil), stream...), chunk, remoting.FrameBytesMaxDefault)
			if broken != wantBroken || !reflect.DeepEqual(got, want) {
				t.Fatalf("stream %d in chunks of %d: %d commands broken=%v, want %d broken=%v",
					i, chunk, len(got), broken, len(want), wantBroken)
			}
		}
	}
}

// FuzzCutFrames checks that cutting a stream, whole or in chunks, decodes
// exactly what a frame-by-frame reference decodes, and that decoded commands
// never alias the (scribbled) discarded input.
func FuzzCutFrames(f *testing.F) {
	for _, s := range seedStreams() {
		f.Add(s, uint8(1))
		f.Add(s, uint8(7))
	}
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint8) {
		const frameBytesMax = 1 << 16
		want, wantBroken := reference(stream, frameBytesMax)
		for _, size := range []int{0, int(chunk) + 1} {
			got, broken := cutAll(append([]byte(nil), stream...), size, frameBytesMax)
			if broken != wantBroken || !reflect.DeepEqual(got, want) {
				t.Fatalf("chunks of %d: %d commands broken=%v; reference: %d commands broken=%v",
					size, len(got), broken, len(want), wantBroken)
			}
		}
	})
}
