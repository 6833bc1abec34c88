package netio

import (
	"bytes"
	"io"
	"net"
	"testing"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/wire/remoting"
)

// A frame larger than the loopback socket buffers but within
// clientRawWriteBytesMax goes through writeRaw, which meets a full socket
// (EAGAIN) until the server reads: the server gets the frame whole and the
// frame after it intact, in order.
func TestClientRawWriteOfFullSocket(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), (clientRawWriteBytesMax-4096)/16)
	reqs := []*remoting.Command{
		remoting.NewRequest(remoting.ReqSendMessageV2, nil, big),
		remoting.NewRequest(remoting.ReqSendMessageV2, nil, []byte("tail")),
	}
	if n := len(remoting.AppendFrame(nil, reqs[0])); n > clientRawWriteBytesMax {
		t.Fatalf("frame of %d bytes, want at most %d (the raw path)", n, clientRawWriteBytesMax)
	}
	release := make(chan struct{})
	got := make(chan *remoting.Command, 2)
	addr := rawServer(t, func(nc net.Conn) {
		<-release // the client's write fills the socket buffers meanwhile
		for range reqs {
			var prefix [4]byte
			if _, err := io.ReadFull(nc, prefix[:]); err != nil {
				t.Errorf("server read: %v", err)
				return
			}
			size, err := remoting.FrameLength(prefix[:], 4<<20)
			if err != nil {
				t.Errorf("frame length: %v", err)
				return
			}
			frame := make([]byte, size)
			copy(frame, prefix[:])
			if _, err := io.ReadFull(nc, frame[4:]); err != nil {
				t.Errorf("server read: %v", err)
				return
			}
			cmd, err := remoting.DecodeFrame(frame)
			if err != nil {
				t.Errorf("decode: %v", err)
				return
			}
			got <- cmd
		}
	})
	cl := newTestClient(t, ClientConfig{})
	sent := make(chan error, len(reqs))
	go func() {
		for _, r := range reqs {
			sent <- cl.InvokeOneway(addr, r)
		}
	}()
	close(release)
	for range reqs {
		if err := testkit.Receive(t, sent, "oneway write"); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range reqs {
		cmd := testkit.Receive(t, got, "frame at the server")
		if cmd.Code != r.Code || !bytes.Equal(cmd.Body, r.Body) {
			t.Fatalf("frame %d: code %d, %d body bytes; want code %d, the %d bytes sent", i, cmd.Code, len(cmd.Body), r.Code, len(r.Body))
		}
	}
}
