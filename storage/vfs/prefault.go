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
		chunk := m.b[lo:min(lo+populateChunk, off+n)]
		// MADV_WILLNEED first reads (zero-fills) exactly this chunk into the
		// page cache, so the populate below finds its pages present. Without
		// it the chunk's first fault ran the file's mmap read-around, which
		// zero-fills read_ahead_kb of unwritten extents in one go (8 MiB on
		// this VM's disk: 25-42 ms of memset with no resched point, a vCPU
		// held from every other thread). The price: WILLNEED's pages are
		// order-0 folios, not read-around's large ones, and write-back then
		// protects and re-faults them page by page (broker CPU per message
		// at 50,000 msgs/s rose 0.7-2 µs of ~16). Rejected: MADV_RANDOM
		// around the populate (the same bound, but every page faults alone:
		// twice the time in madvise).
		if err := unix.Madvise(chunk, unix.MADV_WILLNEED); err != nil {
			return err
		}
		err := unix.Madvise(chunk, unix.MADV_POPULATE_WRITE)
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
