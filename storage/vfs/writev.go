package vfs

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// VectorWriter is implemented by Files that write several buffers to one
// offset with one system call per few buffers (pwritev). The OS file
// system's Files implement it; sim/faultfs's do not, and callers join the
// buffers for WriteAt instead.
type VectorWriter interface {
	// WriteVAt writes bufs back to back at off and returns the bytes
	// written; the error is non-nil when fewer than all were written.
	WriteVAt(bufs [][]byte, off int64) (int64, error)
}

// iovecsPerCall is how many buffers go into one pwritev: x/sys builds the
// iovec array of up to 8 on the stack and allocates it beyond that.
const iovecsPerCall = 8

func (f osFile) WriteVAt(bufs [][]byte, off int64) (int64, error) {
	fd := int(f.Fd())
	var written int64
	var vec [iovecsPerCall][]byte // what is left of the buffers of this call
	for len(bufs) > 0 {
		k := copy(vec[:], bufs)
		bufs = bufs[k:]
		iov, n := vec[:k], 0
		for {
			// Drop what went out (all of it, or the part of a short
			// write) and the empty buffers: a pwritev of nothing but
			// empty ones would write 0 bytes and look like a short write.
			for len(iov) > 0 && len(iov[0]) <= n {
				n -= len(iov[0])
				iov = iov[1:]
			}
			if len(iov) == 0 {
				break
			}
			iov[0] = iov[0][n:]
			var err error
			n, err = unix.Pwritev(fd, iov, off+written)
			if err == unix.EINTR {
				n = 0
				continue
			}
			if err != nil {
				return written, &os.PathError{Op: "pwritev", Path: f.Name(), Err: err}
			}
			if n == 0 {
				return written, &os.PathError{Op: "pwritev", Path: f.Name(), Err: io.ErrShortWrite}
			}
			written += int64(n)
		}
	}
	return written, nil
}
