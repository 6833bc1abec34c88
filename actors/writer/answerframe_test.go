package writer

import (
	"bytes"
	"testing"

	"github.com/actormq/actormq/wire/remoting"
	"github.com/valyala/bytebufferpool"
)

// partsConn writes what WriteFrameWithBody gets, head and parts joined,
// and runs done as netio does after the write.
type partsConn struct {
	frames [][]byte
	dones  int
}

func (c *partsConn) Write(*remoting.Command) error { panic("unexpected Write") }
func (c *partsConn) WriteFrame(*bytebufferpool.ByteBuffer) error {
	panic("unexpected WriteFrame")
}
func (c *partsConn) WriteFrameWithBody(head *bytebufferpool.ByteBuffer, parts [][]byte, done func()) error {
	f := append([]byte(nil), head.B...)
	for _, p := range parts {
		f = append(f, p...)
	}
	remoting.ReleaseOutFrame(head)
	c.frames = append(c.frames, f)
	done()
	c.dones++
	return nil
}

// TestAnswerBatchFrame: a batch message's answer written from a pooled
// answerFrame is byte for byte the frame successFrame encodes, decodes to
// the batch's ids, and its buffer is handed back once per answer (a frame
// taken again from the pool carries nothing of the last answer).
func TestAnswerBatchFrame(t *testing.T) {
	w := &Writer{answers: remoting.NewSendResponseEncoder("DefaultRegion", "false")}
	c := &partsConn{}
	for i, ids := range []string{"AA,BB,CC", "DD,EE"} {
		p := NewAppend(len(ids)/3 + 1)
		p.Conn, p.Req, p.ReplyQueueID, p.queueOffset = c, &remoting.Command{Opaque: int32(10 + i)}, 3, 40
		p.ids = append(p.ids[:0], ids...)
		want := w.successFrame(p, remoting.RespSuccess)
		w.answer(p, remoting.RespSuccess) // recycles p
		got := c.frames[i]
		if !bytes.Equal(got, want.B) {
			t.Fatalf("answer %d:\n got %q\nwant %q", i, got, want.B)
		}
		remoting.ReleaseOutFrame(want)
		cmd, err := remoting.DecodeFrame(got)
		if err != nil {
			t.Fatal(err)
		}
		if cmd.Opaque != int32(10+i) || cmd.Code != remoting.RespSuccess || cmd.ExtFields["msgId"] != ids {
			t.Fatalf("answer %d decoded: opaque %d code %d msgId %q", i, cmd.Opaque, cmd.Code, cmd.ExtFields["msgId"])
		}
	}
	if c.dones != 2 {
		t.Fatalf("%d frames handed back, want 2", c.dones)
	}
}
