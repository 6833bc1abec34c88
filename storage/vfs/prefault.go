package vfs

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// populateWriteMissing is set once the kernel refused MADV_POPULATE_WRITE
// (older than Linux 5.14), so later calls go straight to the fallback.
var populateWriteMissing atomic.Bool

// Prefault uses madvise(MADV_POPULATE_WRITE): the kernel allocates and
// zero-fills the page-cache pages (reading a fallocated, unwritten range
// costs no I/O), runs the file system's page_mkwrite and maps them
// writable, as a write fault would, but a populateChunk per call and on the
// caller's thread. The pages become dirty zeros; writing them back
// before the records land writes zeros, which is what the file holds.
//
// Before Linux 5.14 (EINVAL) it falls back to MADV_WILLNEED, which only
// reads the range into the page cache: the zero-filling moves off the
// storing thread, the write fault stays. The rejected fallback, storing to
// one byte of each page, races with the writer's stores to the same page
// (a store of the old value can undo a record byte written in between).
func (m *osMapping) Prefault(off, n int) error {
	if off < 0 || n < 0 || off+n > len(m.b) || off%os.Getpagesize() != 0 {
		return fmt.Errorf("vfs: prefault [%d, %d): not page aligned, or outside a mapping of %d bytes", off, off+n, len(m.b))
	}
	if n == 0 {
		return nil
	}
	if populateWriteMissing.Load() {
		return unix.Madvise(m.b[off:off+n], unix.MADV_WILLNEED)
	}
	for lo := off; lo < off+n; lo += populateChunk {
		err := unix.Madvise(m.b[lo:min(lo+populateChunk, off+n)], unix.MADV_POPULATE_WRITE)
		if errors.Is(err, unix.EINVAL) {
			populateWriteMissing.Store(true)
			return unix.Madvise(m.b[lo:off+n], unix.MADV_WILLNEED)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// populateChunk is how much one MADV_POPULATE_WRITE call covers. The call
// holds the process's mmap_lock while it zero-fills (~5 µs per fresh page
// on this VM), and every mmap/munmap of the process waits behind it: the Go
// runtime's own (heap growth, new threads), so a 16 MiB call stalled the
// whole broker for 30-40 ms when the OS preempted it (seen in traces at
// 50,000 sends/s). 256 KiB bounds the hold to ~0.3 ms of work per call; a
// concurrent mmap's wait measured p99 4-21 ms against 20-295 ms for one
// 16 MiB call on a loaded machine.
const populateChunk = 256 << 10
