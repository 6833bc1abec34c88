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
		for iov := vec[:k]; len(iov) > 0; {
			n, err := unix.Pwritev(fd, iov, off+written)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return written, &os.PathError{Op: "pwritev", Path: f.Name(), Err: err}
			}
			if n == 0 {
				return written, &os.PathError{Op: "pwritev", Path: f.Name(), Err: io.ErrShortWrite}
			}
			written += int64(n)
			for n > 0 && len(iov) > 0 { // a short write: drop what went out
				m := min(n, len(iov[0]))
				iov[0], n = iov[0][m:], n-m
				if len(iov[0]) == 0 {
					iov = iov[1:]
				}
			}
		}
	}
	return written, nil
}
