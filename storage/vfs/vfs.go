// Package vfs is the file-system seam of the store: every file the store
// touches (segments, consume queues, checkpoint, config JSON, lock) goes
// through FS, so that sim/ can wrap it and inject disk faults (errors, short
// writes, lost unsynced data) without flags in product structs.
package vfs

import (
	"io"
	"os"
)

// File is an open file.
type File interface {
	io.ReaderAt
	io.WriterAt
	io.Writer
	Truncate(size int64) error
	// Allocate reserves disk blocks for [off, off+length), growing the file
	// to off+length if it is shorter, so that later stores there (WriteAt,
	// or a mapping) cannot fail for lack of space: a store into a mapped
	// page of a sparse file on a full disk raises SIGBUS instead of
	// returning an error, so the store allocates its mapped files when it
	// creates them and meets ENOSPC there. Contents are unchanged. Nothing
	// may write the range while Allocate runs.
	Allocate(off, length int64) error
	Sync() error
	Close() error
	Stat() (os.FileInfo, error)
	Name() string
	// Mmap maps [0, length) of the file shared read-write; the file must be
	// at least length bytes long.
	Mmap(length int) (Mapping, error)
}

// Mapping is a shared read-write memory mapping of a file.
type Mapping interface {
	Bytes() []byte
	// Sync writes [off, off+n) of the mapping back to the file (msync MS_SYNC).
	Sync(off, n int) error
	Unmap() error
}

// FS is the file-system interface the store uses.
type FS interface {
	OpenFile(name string, flag int, perm os.FileMode) (File, error)
	Remove(name string) error
	RemoveAll(path string) error
	Rename(oldpath, newpath string) error
	MkdirAll(path string, perm os.FileMode) error
	ReadDir(dir string) ([]os.DirEntry, error)
	Stat(name string) (os.FileInfo, error)
	// SyncDir fsyncs a directory so renames and creations in it are durable.
	SyncDir(dir string) error
	// Lock takes an exclusive advisory lock on name (created if missing);
	// closing the returned Closer releases it.
	Lock(name string) (io.Closer, error)
	// DiskUsage reports the used bytes of the file system holding path and
	// its capacity: used plus the bytes still free to allocate for a
	// process without root's reserve (as df's Use% counts them).
	DiskUsage(path string) (used, total uint64, err error)
}

// Default is the operating system's file system.
var Default FS = osFS{}
