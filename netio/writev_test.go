package netio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/wire/remoting"
)

// Slices back to back in memory share one iovec; empty slices get none;
// a slice elsewhere starts a new one.
func TestAppendIovecsMergesAdjacent(t *testing.T) {
	buf := make([]byte, 100)
	other := make([]byte, 5)
	iov := [][]byte{buf[0:10], buf[10:30], {}, other, buf[30:40], buf[40:41], nil, buf[50:60]}
	got := appendIovecs(nil, iov)
	type vec struct {
		base unsafe.Pointer
		n    uint64
	}
	want := []vec{
		{unsafe.Pointer(&buf[0]), 30},
		{unsafe.Pointer(&other[0]), 5},
		{unsafe.Pointer(&buf[30]), 11},
		{unsafe.Pointer(&buf[50]), 10},
	}
	if len(got) != len(want) {
		t.Fatalf("%d iovecs, want %d", len(got), len(want))
	}
	for i, w := range want {
		if unsafe.Pointer(got[i].Base) != w.base || got[i].Len != w.n {
			t.Fatalf("iovec %d: %p+%d, want %p+%d", i, got[i].Base, got[i].Len, w.base, w.n)
		}
	}
}

// pullLikeParts is a head and n parts: runs of consecutive slices of one
// buffer (merged into one iovec) alternating with separate buffers, each
// part's bytes distinct; it returns the parts and their concatenation.
func pullLikeParts(n, partBytes int) ([][]byte, []byte) {
	backing := make([]byte, n*partBytes)
	for i := range backing {
		backing[i] = byte(i * 7)
	}
	var parts [][]byte
	var all []byte
	for i := range n {
		p := backing[i*partBytes : (i+1)*partBytes]
		if i%3 == 2 { // every third part lives elsewhere
			p = bytes.Repeat([]byte{byte('a' + i%26)}, partBytes)
		}
		parts = append(parts, p)
		all = append(all, p...)
	}
	return parts, all
}

// writevFD writes exactly the bytes of the slices, in order, merged or not.
func TestWritevFDExactBytes(t *testing.T) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	parts, want := pullLikeParts(300, 37) // 11,100 bytes: within a pipe's 64 KiB
	n, err := writevFD(fds[1], parts)
	if err != nil || n != len(want) {
		t.Fatalf("writevFD = %d, %v; want %d", n, err, len(want))
	}
	got := make([]byte, len(want))
	if _, err := io.ReadFull(fdReader(fds[0]), got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("bytes read differ from the slices written")
	}
}

type fdReader int

func (f fdReader) Read(p []byte) (int, error) { return unix.Read(int(f), p) }

// A write the socket takes only partly resumes where it stopped: the rest,
// from skipWritten, completes the exact byte stream.
func TestWritevFDPartialResumes(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	if err := unix.SetsockoptInt(fds[0], unix.SOL_SOCKET, unix.SO_SNDBUF, 4096); err != nil {
		t.Fatal(err)
	}
	parts, want := pullLikeParts(1000, 301) // 301,000 bytes: far above the buffers
	var got []byte
	buf := make([]byte, 64<<10)
	partial := 0
	for rest := parts; len(rest) > 0; {
		n, err := writevFD(fds[0], rest)
		switch {
		case errors.Is(err, unix.EAGAIN):
		case err != nil:
			t.Fatal(err)
		default:
			if left := skipWritten(rest, n); len(left) > 0 {
				partial++
				rest = left
			} else {
				rest = nil
			}
		}
		for { // drain what arrived
			m, err := unix.Read(fds[1], buf)
			if err != nil || m == 0 {
				break
			}
			got = append(got, buf[:m]...)
		}
	}
	for len(got) < len(want) {
		m, err := unix.Read(fds[1], buf)
		if err != nil && !errors.Is(err, unix.EAGAIN) {
			t.Fatal(err)
		}
		got = append(got, buf[:max(m, 0)]...)
	}
	if partial == 0 {
		t.Fatal("no partial write: the test did not exercise resuming")
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%d bytes arrived (want %d), content differs", len(got), len(want))
	}
}

func TestSkipWritten(t *testing.T) {
	for _, tc := range []struct {
		sent int
		want string
	}{{0, "[ab cde f]"}, {1, "[b cde f]"}, {2, "[cde f]"}, {4, "[e f]"}, {5, "[f]"}, {6, "[]"}} {
		iov := [][]byte{[]byte("ab"), []byte("cde"), []byte("f")}
		if got := fmt.Sprintf("%s", skipWritten(iov, tc.sent)); got != tc.want {
			t.Fatalf("skip %d: %s, want %s", tc.sent, got, tc.want)
		}
	}
}

// Over a real server and a peer that reads only after everything was
// queued, pull-like answers with many parts (merged and not) far above the
// socket buffers arrive byte for byte: the direct writes' remainders went
// through gnet's buffer in order.
func TestManyPartAnswersToSlowPeer(t *testing.T) {
	testkit.NoLeaks(t)
	const answers = 128
	h := newTestHandler()
	h.respond = func(*Conn, *remoting.Command) *remoting.Command { return nil }
	_, c, nc := openConn(t, ServerConfig{}, h)
	bodies := make([][]byte, answers)
	var dones atomic.Int64
	for i := range answers {
		parts, all := pullLikeParts(400, 211+i) // 84-135 KB per answer, ~14 MB in all
		bodies[i] = all
		resp := remoting.NewResponse(request(0, int32(i), ""), 0, "")
		if err := c.WriteWithBody(resp, parts, func() { dones.Add(1) }); err != nil {
			t.Fatal(err)
		}
	}
	testkit.Eventually(t, "every answer flushed", func() bool { return dones.Load() == answers })
	fs := newFrameStream(t, nc)
	for i := range answers {
		cmd := fs.next()
		if cmd.Opaque != int32(i) || !bytes.Equal(cmd.Body, bodies[i]) {
			t.Fatalf("answer %d: opaque %d, body of %d bytes differs (want %d)", i, cmd.Opaque, len(cmd.Body), len(bodies[i]))
		}
	}
}
