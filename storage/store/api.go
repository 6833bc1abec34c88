// Package store opens a broker's store directory: it takes the lock file,
// detects a crash (abort file), recovers the CommitLog and ConsumeQueues,
// re-dispatches records the queues are missing, and hands the recovered
// pieces to the actors that own them from then on (storage-format.md §1,
// §6, §7).
//
// Directory (<RootDir>):
//
//	lock           exclusive flock while a store has the directory open
//	abort          exists while the store runs; found at Open = crash
//	checkpoint     4096 bytes, mapped; only the first 40 are used (below)
//	commitlog/     segments (CommitLogDir may put them elsewhere)
//	consumequeue/<topic>/<queueId>/   consume-queue files
//	config/        JSON metadata (package metadata, not opened here)
//
// Checkpoint (big-endian int64s):
//
//	+--------+------+---------------------------------------------------+
//	| offset | size | field                                             |
//	+--------+------+---------------------------------------------------+
//	|      0 |    8 | physicMsgTimestamp: store time of the newest      |
//	|        |      | flushed commit-log record                         |
//	|      8 |    8 | logicsMsgTimestamp: store time of the newest      |
//	|        |      | record whose consume-queue units are flushed      |
//	|     16 |    8 | indexMsgTimestamp (no index yet: kept as found)   |
//	|     24 |    8 | masterFlushedOffset (5.x; kept as found)          |
//	|     32 |    8 | confirmPhyOffset (5.x; kept as found)             |
//	+--------+------+---------------------------------------------------+
package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"
	"syscall"
	"time"

	"github.com/actormq/actormq/storage/commitlog"
	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/storage/vfs"
	"github.com/rs/zerolog"
)

// Sentinel errors.
var (
	// ErrLocked: another store (this process or another broker) holds the
	// directory's lock file.
	ErrLocked = errors.New("store: store directory is locked by another broker")
	// ErrClosed is returned by calls after Close.
	ErrClosed = errors.New("store: closed")
)

// Config configures the store.
type Config struct {
	RootDir           string // storePathRootDir
	CommitLogDir      string // storePathCommitLog; default <root>/commitlog
	CommitLogFileSize int64  // default commitlog.FileSizeDefault
	CQFileSize        int64  // default consumequeue.FileSizeDefault
	CheckCRCOnRecover bool
	// DelayLevels is messageDelayLevel (element i = level i+1): re-dispatch
	// gives SCHEDULE_TOPIC_XXXX units their delivery time as tagsCode.
	DelayLevels []time.Duration
	FS          vfs.FS // default the OS file system
	Logger      zerolog.Logger
}

// QueueKey names one consume queue.
type QueueKey struct {
	Topic   string
	QueueID int32
}

// Store is the opened store. After Open, CommitLog belongs to the
// commitlog-writer actor and each ConsumeQueue to its queue actor.
//
// Queues is complete when Open returns; OpenQueue adds to it under an
// internal lock, so once OpenQueue may run concurrently, reach queues through
// OpenQueue (which returns an open queue as is) or QueueOffsets instead of
// the map.
type Store struct {
	CommitLog *commitlog.CommitLog
	Queues    map[QueueKey]*consumequeue.ConsumeQueue
	// Abnormal reports whether the previous run crashed (abort file found).
	Abnormal bool
	impl     *storeImpl
}

type storeImpl struct {
	cfg    Config
	fs     vfs.FS
	log    zerolog.Logger
	cqRoot string
	cqDirs *consumequeue.Dirs // shared by every queue: one fsync per directory covers many queues

	lock io.Closer
	ckpt *checkpoint
	// rootDir is the store root directory, opened before this run writes
	// anything, for SyncQueuesFS: Linux reports a write-back error to each
	// descriptor opened before it, once, so a syncfs through it sees every
	// error of the run. nil when the file system cannot open a directory.
	rootDir vfs.File

	mu        sync.Mutex // guards Store.Queues after Open
	closeOnce sync.Once
	closeErr  error
	closed    bool // guarded by mu
}

// Open locks, recovers and re-dispatches; see openStore for the order of
// duties. On error nothing stays open or locked.
func Open(cfg Config) (*Store, error) { return openStore(cfg) }

// OpenQueue opens (creating if needed) the consume queue for key and adds it
// to Queues; an already open queue is returned as is. Called by the actor
// that creates queue actors, never concurrently for one key.
func (s *Store) OpenQueue(key QueueKey) (*consumequeue.ConsumeQueue, error) {
	s.impl.mu.Lock()
	defer s.impl.mu.Unlock()
	if s.impl.closed {
		return nil, ErrClosed
	}
	return s.openQueueLocked(key)
}

// QueueOffsets returns each open queue's MaxOffset: after Open this is the
// commitlog writer's "topic-queue → next queue offset" table (§7.1). The
// map is new and belongs to the caller. Any goroutine.
func (s *Store) QueueOffsets() map[QueueKey]int64 {
	s.impl.mu.Lock()
	defer s.impl.mu.Unlock()
	out := make(map[QueueKey]int64, len(s.Queues))
	for k, q := range s.Queues {
		out[k] = q.MaxOffset()
	}
	return out
}

// UpdateCheckpoint records the store time of the newest durable commit-log
// record and consume-queue unit (checkpoint file, storage doc §6) and
// msyncs it. The flush actor calls it after its flushes; any goroutine.
func (s *Store) UpdateCheckpoint(physicMsgTimestamp, logicsMsgTimestamp int64) error {
	return s.impl.ckpt.update(physicMsgTimestamp, logicsMsgTimestamp)
}

// SyncQueuesFS makes the file system holding the consume queues durable
// with one syncfs (vfs.FSSyncer) through the store root's descriptor: every
// unit stored before the call, as an msync of each queue would. It returns
// an error wrapping errors.ErrUnsupported when that cannot be trusted — the
// kernel or file system type (vfs), a file system without syncfs
// (sim/faultfs), the consume-queue root on another file system than the
// store root (a mount point) — and the caller msyncs queue by queue. The
// consume-queue flusher's goroutine, or Stop's after it stopped.
func (s *Store) SyncQueuesFS() error {
	f, ok := s.impl.rootDir.(vfs.FSSyncer)
	if !ok {
		return fmt.Errorf("store: syncfs of %s: %w", s.impl.cfg.RootDir, errors.ErrUnsupported)
	}
	root, err := s.impl.fs.Stat(s.impl.cfg.RootDir)
	if err != nil {
		return fmt.Errorf("store: syncfs: %w", err)
	}
	cq, err := s.impl.fs.Stat(s.impl.cqRoot)
	if errors.Is(err, fs.ErrNotExist) { // no queue has a file yet
		return fmt.Errorf("store: syncfs: no %s: %w", s.impl.cqRoot, errors.ErrUnsupported)
	}
	if err != nil {
		return fmt.Errorf("store: syncfs: %w", err)
	}
	rs, ok1 := root.Sys().(*syscall.Stat_t)
	cs, ok2 := cq.Sys().(*syscall.Stat_t)
	if !ok1 || !ok2 || rs.Dev != cs.Dev {
		return fmt.Errorf("store: syncfs: %s is not on the file system of %s: %w", s.impl.cqRoot, s.impl.cfg.RootDir, errors.ErrUnsupported)
	}
	if err := f.SyncFS(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// DiskUsageRatio is used/total of the file system holding the commit log,
// for retention (§11). Any goroutine.
func (s *Store) DiskUsageRatio() (float64, error) {
	used, total, err := s.impl.fs.DiskUsage(s.impl.cfg.CommitLogDir)
	if err != nil {
		return 0, fmt.Errorf("store: disk usage of %s: %w", s.impl.cfg.CommitLogDir, err)
	}
	if total == 0 {
		return 0, fmt.Errorf("store: disk usage of %s: file system reports 0 bytes", s.impl.cfg.CommitLogDir)
	}
	return float64(used) / float64(total), nil
}

// Close, in order: closes (flushes) the commit log and every queue, writes
// the checkpoint, removes the abort file when everything before succeeded
// (clean stop; otherwise the next Open recovers as after a crash) and
// releases the lock. Call it after the actors that own the pieces stopped.
// Idempotent: later calls return the first call's result.
func (s *Store) Close() error { return s.impl.shutdown(s, true) }
