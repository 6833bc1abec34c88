package netio

import (
	"errors"
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
// the commands and whether framing broke. It fails t if cutting left bytes
// in the inbound buffer (they belong in the partial frame) or if the partial
// frame's buffer is not given back at the end.
func cutAll(t testing.TB, stream []byte, chunk, frameBytesMax int) ([]*remoting.Command, bool) {
	t.Helper()
	var cmds []*remoting.Command
	deliver := func(c *remoting.Command) { cmds = append(cmds, c) }
	in := &sliceInbound{}
	var partial partialFrame
	held := partialFramesHeld.Load()
	defer func() {
		partial.release() // as OnClose does
		if got := partialFramesHeld.Load(); got != held {
			t.Fatalf("partial frame buffers held: %d, want %d", got, held)
		}
	}()
	if chunk <= 0 {
		chunk = len(stream)
	}
	for off := 0; off < len(stream); off += chunk {
		in.buf = append(in.buf, stream[off:min(off+chunk, len(stream))]...)
		if err := cutFrames(in, &partial, frameBytesMax, deliver); err != nil {
			return cmds, true
		}
		if len(in.buf) != 0 {
			t.Fatalf("%d bytes left in the inbound buffer", len(in.buf))
		}
	}
	return cmds, false
}

// feed cuts stream delivered as the given pieces, one cutFrames per piece,
// and fails t on broken framing.
func feed(t *testing.T, pieces ...[]byte) []*remoting.Command {
	t.Helper()
	var cmds []*remoting.Command
	deliver := func(c *remoting.Command) { cmds = append(cmds, c) }
	in := &sliceInbound{}
	var partial partialFrame
	for _, p := range pieces {
		in.buf = append(in.buf, p...)
		if err := cutFrames(in, &partial, remoting.FrameBytesMaxDefault, deliver); err != nil {
			t.Fatalf("cutFrames: %v", err)
		}
	}
	if partial.pending() {
		t.Fatalf("%d bytes of a frame still pending", len(partial.frame))
	}
	return cmds
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
			got, broken := cutAll(t, append([]byte(nil), stream...), chunk, remoting.FrameBytesMaxDefault)
			if broken != wantBroken || !reflect.DeepEqual(got, want) {
				t.Fatalf("stream %d in chunks of %d: %d commands broken=%v, want %d broken=%v",
					i, chunk, len(got), broken, len(want), wantBroken)
			}
		}
	}
}

// batchFrame is a send request with a body of n bytes, as a 32 x 1 KiB
// batch is: bigger than the smallest assembly class.
func batchFrame(opaque int32, n int) *remoting.Command {
	body := make([]byte, n)
	for i := range body {
		body[i] = byte(i * 7)
	}
	cmd := remoting.NewRequest(remoting.ReqSendBatchMessage, map[string]string{"topic": "BenchBatch1K", "queueId": "2"}, body)
	cmd.Opaque = opaque
	return cmd
}

func TestCutFramesEverySplitPoint(t *testing.T) {
	for _, cmd := range []*remoting.Command{request(remoting.ReqHeartBeat, 5, "small"), batchFrame(6, 33<<10)} {
		frame := remoting.AppendFrame(nil, cmd)
		want, _ := reference(frame, remoting.FrameBytesMaxDefault)
		step := 1
		if len(frame) > 4096 {
			step = 97 // every split of the prefix and the header, a sample of the body
		}
		for split := 0; split <= len(frame); split++ {
			if split > 64 && split < len(frame)-64 && split%step != 0 {
				continue
			}
			stream := append([]byte(nil), frame...)
			got := feed(t, stream[:split], stream[split:])
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("frame of %d bytes split at %d: got %d commands, want %v", len(frame), split, len(got), want)
			}
		}
	}
}

func TestCutFramesSplitsAcrossFrames(t *testing.T) {
	var stream []byte
	for i := range int32(5) {
		stream = remoting.AppendFrame(stream, batchFrame(i, 1000+int(i)*3000)) // 1 KB .. 13 KB
	}
	want, _ := reference(stream, remoting.FrameBytesMaxDefault)
	if len(want) != 5 {
		t.Fatalf("reference decoded %d frames, want 5", len(want))
	}
	for _, splits := range [][]int{{1, 2, 3}, {3, 5000, 5001, 30000}, {100, 9000, 9004, len(stream) - 1}, {4100, 4101, 16000}} {
		var pieces [][]byte
		buf := append([]byte(nil), stream...)
		from := 0
		for _, at := range splits {
			pieces = append(pieces, buf[from:at])
			from = at
		}
		pieces = append(pieces, buf[from:])
		if got := feed(t, pieces...); !reflect.DeepEqual(got, want) {
			t.Fatalf("splits %v: got %d commands, want %d", splits, len(got), len(want))
		}
	}
}

func TestCutFramesSplitFrameAbovePooledMax(t *testing.T) {
	frame := remoting.AppendFrame(nil, batchFrame(9, partialClasses.Max()+1000))
	want, _ := reference(frame, remoting.FrameBytesMaxDefault)
	held := partialFramesHeld.Load()
	if got := feed(t, frame[:3], frame[3:70000], frame[70000:len(frame)-1], frame[len(frame)-1:]); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %d commands, want %d", len(got), len(want))
	}
	if got := partialFramesHeld.Load(); got != held {
		t.Fatalf("partial frame buffers held: %d, want %d", got, held)
	}
}

// A peer announcing a frame above the largest pooled class gets memory only
// for the bytes it sends, not for the announced size.
func TestCutFramesBigPrefixAllocatesAsBytesArrive(t *testing.T) {
	in := &sliceInbound{buf: []byte{0, 0xf0, 0, 0, 1, 2, 3}} // 15 MiB announced
	var partial partialFrame
	defer partial.release()
	deliver := func(*remoting.Command) { t.Fatal("delivered a command") }
	if err := cutFrames(in, &partial, remoting.FrameBytesMaxDefault, deliver); err != nil {
		t.Fatal(err)
	}
	if len(partial.frame) != 7 || cap(partial.frame) > 1024 {
		t.Fatalf("partial frame len %d cap %d, want 7 bytes in a small buffer", len(partial.frame), cap(partial.frame))
	}
}

func TestCutFramesBadPrefixInPartialFrame(t *testing.T) {
	in := &sliceInbound{buf: []byte{0x7f, 0xff}}
	var partial partialFrame
	deliver := func(*remoting.Command) { t.Fatal("delivered a command") }
	if err := cutFrames(in, &partial, remoting.FrameBytesMaxDefault, deliver); err != nil {
		t.Fatalf("first half of the prefix: %v", err)
	}
	in.buf = append(in.buf, 0xff, 0xff, 1, 2, 3)
	if err := cutFrames(in, &partial, remoting.FrameBytesMaxDefault, deliver); !errors.Is(err, remoting.ErrFrame) {
		t.Fatalf("prefix above the max: err %v, want ErrFrame", err)
	}
	partial.release()
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
			got, broken := cutAll(t, append([]byte(nil), stream...), size, frameBytesMax)
			if broken != wantBroken || !reflect.DeepEqual(got, want) {
				t.Fatalf("chunks of %d: %d commands broken=%v; reference: %d commands broken=%v",
					size, len(got), broken, len(want), wantBroken)
			}
		}
	})
}
