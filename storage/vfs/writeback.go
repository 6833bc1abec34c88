package vfs

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

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

// FSSyncer is implemented by Files that can make their whole file system
// durable in one call. The OS file system's Files implement it; sim/faultfs's
// do not, and callers sync file by file instead.
type FSSyncer interface {
	// SyncFS writes every dirty page, inode and directory block of the
	// file system holding the file and waits for them, with one device
	// cache flush at the end (syncfs(2)): what an msync or fsync of each of
	// its files would make durable, in one call. It reports a write-back
	// error of any file of the file system that happened since this
	// descriptor was opened or last reported one. Where that report cannot
	// be trusted it refuses with an error wrapping errors.ErrUnsupported
	// (syncFSReportsErrors), and the caller syncs file by file.
	SyncFS() error
}

func (f osFile) SyncFS() error {
	if err := syncFSReportsErrors(int(f.Fd())); err != nil {
		return &os.PathError{Op: "syncfs", Path: f.Name(), Err: err}
	}
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return &os.PathError{Op: "syncfs", Path: f.Name(), Err: err}
	}
	return nil
}

// syncFSReportsErrors says whether a syncfs through fd reports the
// write-back errors of the file system's files: Linux reports them since
// 5.8 (before, a page lost in write-back went unreported, and whoever
// counted it durable was wrong), and only file systems whose sync_fs waits
// for their data — the local ones listed here; FUSE, for one, does not pass
// a syncfs on to its daemon, while an fsync does.
func syncFSReportsErrors(fd int) error {
	if !kernelSyncFSReports() {
		return fmt.Errorf("%w: syncfs reports write-back errors from Linux 5.8 on", errors.ErrUnsupported)
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return err
	}
	switch uint32(st.Type) {
	case unix.EXT4_SUPER_MAGIC, unix.XFS_SUPER_MAGIC, unix.BTRFS_SUPER_MAGIC, unix.TMPFS_MAGIC:
		return nil
	}
	return fmt.Errorf("%w: syncfs not trusted on file system type %#x", errors.ErrUnsupported, st.Type)
}

// kernelSyncFSReports is whether the running kernel is Linux 5.8 or later.
var kernelSyncFSReports = sync.OnceValue(func() bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return false
	}
	major, minor, ok := kernelVersion(unix.ByteSliceToString(u.Release[:]))
	return ok && (major > 5 || major == 5 && minor >= 8)
})

// kernelVersion parses the "major.minor" at the start of a kernel release
// such as "6.18.44-fc-v445".
func kernelVersion(release string) (major, minor int, ok bool) {
	maj, rest, found := strings.Cut(release, ".")
	if !found {
		return 0, 0, false
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	var err1, err2 error
	major, err1 = strconv.Atoi(maj)
	minor, err2 = strconv.Atoi(rest[:end])
	return major, minor, err1 == nil && err2 == nil
}
