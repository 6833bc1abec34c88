package vfs

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// WriteBacker is implemented by Files that can make a range of the file's
// cached pages durable through their own descriptor. The OS file system's
// Files implement it; sim/faultfs's do not, and callers skip the work.
type WriteBacker interface {
	// WriteBack writes the cached pages of [off, off+n) to disk and makes
	// them and the file's block map durable (sync_file_range over the
	// range, then fdatasync). It writes the pages as they are in the page
	// cache, changing no byte: safe while other goroutines store into a
	// mapping of the range. The fdatasync also writes any other dirty page
	// of the file.
	//
	// A write-back error is reported here and also, at its next sync, to
	// every other descriptor open on the file (Linux keeps one error
	// cursor per open file): a File opened just for WriteBack cannot take
	// an error away from the descriptor whose msync the store trusts for
	// durability.
	WriteBack(off, n int64) error
}

func (f osFile) WriteBack(off, n int64) error {
	if off < 0 || n < 0 {
		return fmt.Errorf("vfs: write back [%d, %d) of %s: negative range", off, off+n, f.Name())
	}
	if n == 0 {
		return nil
	}
	// WAIT_BEFORE|WRITE|WAIT_AFTER: the range is on the device when it
	// returns (pages stored into meanwhile are dirty again). The rejected
	// alternative, fdatasync alone, writes every dirty page of the file at
	// once: a file written far ahead (zeros, PrefaultWritten) holds many.
	flags := unix.SYNC_FILE_RANGE_WAIT_BEFORE | unix.SYNC_FILE_RANGE_WRITE | unix.SYNC_FILE_RANGE_WAIT_AFTER
	if err := unix.SyncFileRange(int(f.Fd()), off, n, flags); err != nil {
		return &os.PathError{Op: "sync_file_range", Path: f.Name(), Err: err}
	}
	if err := unix.Fdatasync(int(f.Fd())); err != nil {
		return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: err}
	}
	return nil
}

// WriteBackStarter is implemented by Files that can start writing a range
// of the file's cached pages to disk without waiting for it. The OS file
// system's Files implement it; sim/faultfs's do not, and callers msync
// instead.
type WriteBackStarter interface {
	// StartWriteBack starts write-back of the dirty cached pages of
	// [off, off+n) (sync_file_range SYNC_FILE_RANGE_WRITE) and returns
	// without waiting: it makes nothing durable (no wait for the device,
	// no file metadata, no device cache flush), it only does early what
	// the kernel's periodic write-back would do later. A later msync or
	// fsync of the range waits for pages still being written and makes
	// them durable; an asynchronous write error is kept for it (the
	// descriptor's error cursor, which StartWriteBack does not advance).
	StartWriteBack(off, n int64) error
}

func (f osFile) StartWriteBack(off, n int64) error {
	if off < 0 || n < 0 {
		return fmt.Errorf("vfs: start write-back [%d, %d) of %s: negative range", off, off+n, f.Name())
	}
	if n == 0 {
		return nil
	}
	if err := unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE); err != nil {
		return &os.PathError{Op: "sync_file_range", Path: f.Name(), Err: err}
	}
	return nil
}
