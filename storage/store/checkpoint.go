package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/actormq/actormq/storage/vfs"
)

const (
	checkpointFileBytes = 4096
	checkpointUsedBytes = 40

	offPhysicMsgTimestamp = 0
	offLogicsMsgTimestamp = 8

	// recoverySafety is subtracted from the checkpoint's older timestamp to
	// pick the commit-log segment an abnormal recovery starts from (§6).
	recoverySafety = 3000 * time.Millisecond
)

// checkpoint is the mapped checkpoint file.
type checkpoint struct {
	mu     sync.Mutex
	path   string
	f      vfs.File
	m      vfs.Mapping
	b      []byte // guarded by mu; nil after close
	physic int64  // guarded by mu
	logics int64  // guarded by mu
}

// openCheckpoint maps <root>/checkpoint, creating a zeroed one when missing
// (the directory entry is made durable before it is used).
func openCheckpoint(fsys vfs.FS, root string) (*checkpoint, error) {
	path := filepath.Join(root, "checkpoint")
	_, statErr := fsys.Stat(path)
	created := errors.Is(statErr, fs.ErrNotExist)
	f, err := fsys.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("store: open checkpoint: %w", err)
	}
	c := &checkpoint{path: path, f: f}
	if err := c.mapFile(); err != nil {
		f.Close()
		return nil, err
	}
	if created {
		if err := fsys.SyncDir(root); err != nil {
			c.close()
			return nil, fmt.Errorf("store: sync %s: %w", root, err)
		}
	}
	c.physic = int64(binary.BigEndian.Uint64(c.b[offPhysicMsgTimestamp:]))
	c.logics = int64(binary.BigEndian.Uint64(c.b[offLogicsMsgTimestamp:]))
	return c, nil
}

func (c *checkpoint) mapFile() error {
	st, err := c.f.Stat()
	if err != nil {
		return fmt.Errorf("store: stat checkpoint: %w", err)
	}
	if st.Size() < checkpointFileBytes {
		// Allocated, not only sized: a store into a page of a sparse file
		// on a full disk raises SIGBUS; fallocate meets ENOSPC here.
		if err := c.f.Allocate(0, checkpointFileBytes); err != nil {
			return fmt.Errorf("store: allocate checkpoint: %w", err)
		}
	}
	m, err := c.f.Mmap(checkpointFileBytes)
	if err != nil {
		return fmt.Errorf("store: map checkpoint: %w", err)
	}
	c.m, c.b = m, m.Bytes()
	return nil
}

// minTimestamp is the store time before which records are known to be
// dispatched and flushed: min(physic, logics) - 3 s, not below 0 (§6).
func (c *checkpoint) minTimestamp() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return max(min(c.physic, c.logics)-recoverySafety.Milliseconds(), 0)
}

// timestamps returns physic and logics as last loaded or written.
func (c *checkpoint) timestamps() (physic, logics int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.physic, c.logics
}

// update writes both timestamps and msyncs the used bytes.
func (c *checkpoint) update(physic, logics int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.b == nil {
		return ErrClosed
	}
	c.physic, c.logics = physic, logics
	return c.syncLocked()
}

// syncLocked writes the cached timestamps into the mapping and msyncs it.
// REQUIRES c.mu.
func (c *checkpoint) syncLocked() error {
	binary.BigEndian.PutUint64(c.b[offPhysicMsgTimestamp:], uint64(c.physic))
	binary.BigEndian.PutUint64(c.b[offLogicsMsgTimestamp:], uint64(c.logics))
	if err := c.m.Sync(0, checkpointUsedBytes); err != nil {
		return fmt.Errorf("store: sync checkpoint: %w", err)
	}
	return nil
}

// close writes the timestamps a last time and releases the file.
func (c *checkpoint) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.b == nil {
		return nil
	}
	err := c.syncLocked()
	err = errors.Join(err, c.m.Unmap(), c.f.Close())
	c.b = nil
	return err
}
