package netio

import (
	"bytes"
	"testing"

	gio "github.com/panjf2000/gnet/v2/pkg/io"
	"golang.org/x/sys/unix"
)

// nonblockingPair is a connected pair of non-blocking stream sockets, closed
// when the test ends (unless the test closed one itself, set to -1).
func nonblockingPair(t *testing.T) *[2]int {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	pair := &[2]int{fds[0], fds[1]}
	t.Cleanup(func() {
		for _, fd := range pair {
			if fd >= 0 {
				_ = unix.Close(fd)
			}
		}
	})
	return pair
}

// The fork's raw read and write (third_party/gnet/pkg/io/raw_linux.go) return
// what unix.Read and unix.Write return, which gnet's event loop relies on:
// bytes and nil, EAGAIN (comparable with ==) on an empty or full socket,
// 0 and nil at EOF, an errno for a bad descriptor.
func TestGnetRawReadWriteReturnLikeUnix(t *testing.T) {
	pair := nonblockingPair(t)
	buf := make([]byte, 64)
	if n, err := gio.RawRead(pair[0], buf); err != unix.EAGAIN || n != -1 {
		t.Fatalf("read of an empty socket: %d, %v; want -1, EAGAIN", n, err)
	}
	if n, err := gio.RawWrite(pair[1], []byte("hello")); err != nil || n != 5 {
		t.Fatalf("write: %d, %v; want 5, nil", n, err)
	}
	if n, err := gio.RawRead(pair[0], buf); err != nil || !bytes.Equal(buf[:n], []byte("hello")) {
		t.Fatalf("read: %q, %v; want hello", buf[:max(n, 0)], err)
	}

	// Fill the socket: the write that finds no room fails with EAGAIN.
	chunk := bytes.Repeat([]byte{'x'}, gio.RawWriteBytesMax)
	var err error
	for range 1000 {
		if _, err = gio.RawWrite(pair[1], chunk); err != nil {
			break
		}
	}
	if err != unix.EAGAIN {
		t.Fatalf("write to a full socket: %v, want EAGAIN", err)
	}

	// Drain, then EOF once the writer closes.
	_ = unix.Close(pair[1])
	pair[1] = -1
	for {
		n, err := gio.RawRead(pair[0], buf)
		if err != nil {
			t.Fatalf("read after the peer closed: %d, %v", n, err)
		}
		if n == 0 {
			break
		}
	}

	if _, err := gio.RawWrite(-1, []byte("x")); err != unix.EBADF {
		t.Fatalf("write to fd -1: %v, want EBADF", err)
	}
	if _, err := gio.RawRead(-1, buf); err != unix.EBADF {
		t.Fatalf("read of fd -1: %v, want EBADF", err)
	}
}

// The raw calls do not allocate, errors included: gnet's loop makes one per
// read and per small write.
func TestGnetRawReadWriteDoNotAllocate(t *testing.T) {
	pair := nonblockingPair(t)
	buf := make([]byte, 64)
	msg := []byte("ping")
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := gio.RawWrite(pair[1], msg); err != nil {
			t.Fatal(err)
		}
		if _, err := gio.RawRead(pair[0], buf); err != nil {
			t.Fatal(err)
		}
		if _, err := gio.RawRead(pair[0], buf); err != unix.EAGAIN {
			t.Fatal(err)
		}
		if _, err := gio.RawRead(-1, buf); err != unix.EBADF {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per round, want 0", allocs)
	}
}
