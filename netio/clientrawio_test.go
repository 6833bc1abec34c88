package netio

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/wire/remoting"
)

// stalledPeer is a server that accepts one connection and never reads it
// until the test ends, so the client's writes fill the socket buffers.
func stalledPeer(t *testing.T) string {
	done := make(chan struct{})
	addr := rawServer(t, func(net.Conn) { <-done })
	t.Cleanup(func() { close(done) }) // before rawServer's cleanup waits for it
	return addr
}

// fillUntilError sends frames of frameBytes (the raw path: below
// clientRawWriteBytesMax) one after another until a write fails, and
// returns that error; at most 400 frames, more than any loopback socket
// buffers hold.
func fillUntilError(cl *Client, addr string, frameBytes int) error {
	body := bytes.Repeat([]byte{'x'}, frameBytes)
	for range 400 {
		if err := cl.InvokeOneway(addr, remoting.NewRequest(remoting.ReqSendMessageV2, nil, body)); err != nil {
			return err
		}
	}
	return errors.New("every write went through to a peer that reads nothing")
}

// A raw write to a peer that stops reading waits in the netpoller until the
// write deadline, then fails the connection with an error callers classify
// as before: ErrClosed and os.ErrDeadlineExceeded.
func TestClientRawWriteDeadlineOnStalledPeer(t *testing.T) {
	addr := stalledPeer(t)
	cl := newTestClient(t, ClientConfig{WriteTimeout: 300 * time.Millisecond})
	errc := make(chan error, 1)
	go func() { errc <- fillUntilError(cl, addr, 128<<10) }()
	err := testkit.Receive(t, errc, "the write that meets the deadline")
	if !errors.Is(err, ErrClosed) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write to a stalled peer: %v, want ErrClosed wrapping os.ErrDeadlineExceeded", err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("write to a stalled peer: %v, want a net.Error with Timeout()", err)
	}
}

// Closing the client while a raw write waits for a full socket ends that
// write with ErrClosed and net.ErrClosed (the descriptor closed under it),
// and Close returns.
func TestClientCloseDuringRawWrite(t *testing.T) {
	addr := stalledPeer(t)
	cl := NewClient(ClientConfig{})
	errc := make(chan error, 1)
	go func() { errc <- fillUntilError(cl, addr, 128<<10) }()
	// The writer is blocked once the socket is full: wait for the pending
	// flush to stay in flight, then close.
	testkit.Eventually(t, "a write waiting on the full socket", func() bool {
		cc := cl.impl.established(addr)
		if cc == nil {
			return false
		}
		cc.outMu.Lock()
		defer cc.outMu.Unlock()
		return cc.flushing && len(cc.out) == 0 && sendQueueFull(t, cc)
	})
	if err := cl.Close(); err != nil {
		t.Fatal(err)
	}
	err := testkit.Receive(t, errc, "the blocked write's error")
	// Which error the caller sees depends on whether Close fails the
	// waiter first (its cause: the client closed) or the unblocked write
	// does (net.ErrClosed wrapped); both are ErrClosed.
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("write blocked at Close: %v, want ErrClosed", err)
	}
}

// sendQueueFull reports whether cc's socket holds more than 256 KiB the
// peer has not acknowledged (SIOCOUTQ): the writer waits for the peer.
func sendQueueFull(t *testing.T, cc *clientConn) bool {
	outq := 0
	if err := cc.raw.Control(func(fd uintptr) { outq, _ = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ) }); err != nil {
		return false
	}
	return outq > 256<<10
}

// writeRaw and rawReader.Read allocate nothing per call (the path before
// them, net.Buffers.WriteTo from a field and net.Conn.Read, did not).
func TestClientRawIOAllocatesNothing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	nc := dialRaw(t, ln.Addr().String())
	peer, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	raw, err := nc.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	cc := &clientConn{raw: raw}
	frame := bytes.Repeat([]byte{'f'}, 128)
	iov := make([][]byte, 2)
	got := make([]byte, 2*len(frame))
	write := func() {
		iov[0], iov[1] = frame, frame
		if err := cc.writeRaw(iov); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(peer, got); err != nil {
			t.Fatal(err)
		}
	}
	if allocs := testing.AllocsPerRun(100, write); allocs != 0 {
		t.Errorf("writeRaw: %v allocations a call, want 0", allocs)
	}
	rr := newRawReader(raw)
	read := func() {
		if _, err := peer.Write(frame); err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(frame); {
			m, err := rr.Read(got[n:len(frame)])
			if err != nil {
				t.Fatal(err)
			}
			n += m
		}
	}
	if allocs := testing.AllocsPerRun(100, read); allocs != 0 {
		t.Errorf("rawReader.Read: %v allocations a call, want 0", allocs)
	}
}
