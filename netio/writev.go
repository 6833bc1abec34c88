package netio

import (
	"sync"
	"unsafe"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"
)

// The flush's own writev. When gnet holds no output for a connection, the
// flush writes a chunk to the socket itself, from a pooled iovec array,
// instead of through gnet's Writev: that one goes through x/sys/unix.Writev,
// which allocates its iovec array for more than 8 slices (growing it by
// append from 8 entries), and a zero-copy pull answer is a head plus one
// slice per record: ~1.2 KB of garbage per 32-message answer, 69% of the
// bytes the broker allocated while consuming from the page cache. Slices
// that lie back to back in memory (records of one queue stored one after
// another in the commit log, or pieces of one buffer) become one iovec: the
// same bytes in the same order, fewer segments for the kernel to walk.
//
// Whatever the socket does not take (a partial write, EAGAIN) or an error
// goes on to gnet, joined into pieces (writeJoined, a node of gnet's
// outbound list each): gnet writes it again, buffers what the socket
// refuses and watches for writability, or closes the connection on the
// error, as if it had made the first attempt. That
// costs one more syscall only when the socket is full or broken. Rejected:
// keeping the remainder in the outbox until the socket drains, which needs
// writability events that gnet keeps to itself.

// iovecArrays recycles the iovec arrays of direct writes. A flush runs on
// its connection's loop and returns its array before it ends.
var iovecArrays = sync.Pool{New: func() any { return new([]unix.Iovec) }}

// appendIovecs appends iov's non-empty slices to dst as iovecs, a slice that
// starts where the previous one ends extending that iovec.
func appendIovecs(dst []unix.Iovec, iov [][]byte) []unix.Iovec {
	for _, b := range iov {
		if len(b) == 0 {
			continue
		}
		base := unsafe.SliceData(b)
		if n := len(dst); n > 0 {
			last := &dst[n-1]
			if uintptr(unsafe.Pointer(last.Base))+uintptr(last.Len) == uintptr(unsafe.Pointer(base)) {
				last.Len += uint64(len(b))
				continue
			}
		}
		v := unix.Iovec{Base: base}
		v.SetLen(len(b))
		dst = append(dst, v)
	}
	return dst
}

// writevFD writes iov to fd with one writev and reports the bytes written.
// It does not retry: a short count or EAGAIN is the caller's to handle.
//
// A writev of at most rawWritevBytesMax is a raw syscall: the socket is
// non-blocking, so the call does not wait for the peer; its time is CPU
// time (on loopback the kernel runs the receiver's TCP path inline).
// Through unix.Syscall, the runtime marks the loop's P as in a syscall, and
// a writev that outlasts a sysmon tick while the other P is busy has its P
// handed to another thread, which wakes (futex), finds the CPUs taken and
// parks again; the writer then leaves the syscall by the slow path. The
// cost of a raw call: a stop-the-world waits until it returns, and the call
// does wait when it copies from a mapped commit-log page that is not in
// memory (a zero-copy pull body; the queue actor touched only the record's
// header): a disk read with the P held and every stop-the-world behind it.
// So a larger write (up to WriteBatchBytesMax, 4 MiB: a millisecond of
// copying) goes through unix.Syscall.
func writevFD(fd int, iov [][]byte) (int, error) {
	return writevFDRawMax(fd, iov, rawWritevBytesMax)
}

// writevFDRawMax is writevFD with rawMax as the largest raw write
// (clientConn.writeRaw's is larger).
func writevFDRawMax(fd int, iov [][]byte, rawMax uint64) (int, error) {
	arr := iovecArrays.Get().(*[]unix.Iovec)
	vecs := appendIovecs((*arr)[:0], iov)
	var n uintptr
	var errno unix.Errno
	if len(vecs) > 0 {
		// Direct calls, not a function value: the uintptr(unsafe.Pointer)
		// argument rule holds for calls of the syscall functions themselves.
		if iovecBytes(vecs) <= rawMax {
			n, _, errno = unix.RawSyscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&vecs[0])), uintptr(len(vecs)))
		} else {
			n, _, errno = unix.Syscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&vecs[0])), uintptr(len(vecs)))
		}
	}
	clear(vecs) // drop the pointers into written buffers before pooling
	*arr = vecs[:0]
	iovecArrays.Put(arr)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// rawWritevBytesMax is the largest direct write made as a raw syscall:
// 64 KiB, a few µs of copying, and within the read-around of the fault that
// brought the record's header in.
const rawWritevBytesMax = 64 << 10

// iovecBytes is the number of bytes vecs describe.
func iovecBytes(vecs []unix.Iovec) uint64 {
	var n uint64
	for i := range vecs {
		n += vecs[i].Len
	}
	return n
}

// writevSocket is the direct write of a chunk to a gnet connection's socket;
// tests over a fake gnet.Conn, which has no descriptor, replace it.
var writevSocket = func(gc gnet.Conn, iov [][]byte) (int, error) { return writevFD(gc.Fd(), iov) }

// writeDirect writes a chunk of total bytes to a connection whose gnet
// outbound buffer is empty: one writev of its own, and the rest, if any,
// through gnet (see above). It may shorten the slices of iov.
func (c *conn) writeDirect(iov [][]byte, total int) error {
	sent, err := writevSocket(c.gc, iov)
	if err == nil && sent == total {
		return nil
	}
	if err != nil {
		sent = 0
	}
	return c.writeJoined(skipWritten(iov, sent))
}

// skipWritten drops the first sent bytes from iov, shortening the slice the
// write stopped in, and returns what is left.
func skipWritten(iov [][]byte, sent int) [][]byte {
	for len(iov) > 0 && sent >= len(iov[0]) {
		sent -= len(iov[0])
		iov = iov[1:]
	}
	if len(iov) > 0 {
		iov[0] = iov[0][sent:]
	}
	return iov
}
