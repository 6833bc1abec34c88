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
// writable, as a write fault would, but in one call for the whole range and
// on the caller's thread. The pages become dirty zeros; writing them back
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
	b := m.b[off : off+n]
	if !populateWriteMissing.Load() {
		err := unix.Madvise(b, unix.MADV_POPULATE_WRITE)
		if !errors.Is(err, unix.EINVAL) {
			return err
		}
		populateWriteMissing.Store(true)
	}
	return unix.Madvise(b, unix.MADV_WILLNEED)
}
