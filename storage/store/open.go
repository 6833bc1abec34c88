package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/actormq/actormq/storage/commitlog"
	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/storage/vfs"
)

// validate fills defaults.
func (c *Config) validate() error {
	if c.RootDir == "" {
		return errors.New("store: Config.RootDir is empty")
	}
	if c.CommitLogDir == "" {
		c.CommitLogDir = filepath.Join(c.RootDir, "commitlog")
	}
	if c.CQFileSize == 0 {
		c.CQFileSize = consumequeue.FileSizeDefault
	}
	if c.CQFileSize < 0 || c.CQFileSize%consumequeue.UnitBytes != 0 {
		return fmt.Errorf("store: CQFileSize %d is not a positive multiple of %d", c.CQFileSize, consumequeue.UnitBytes)
	}
	if c.FS == nil {
		c.FS = vfs.Default
	}
	return nil
}

// openStore does, in order:
//
//  1. create the root directory and take the exclusive lock on <root>/lock;
//  2. Abnormal = <root>/abort exists; then create the abort file (durably)
//     right away rather than after recovery, so that a crash during this
//     recovery is again recovered as a crash next time (recovery itself
//     rewrites files);
//  3. load the checkpoint (created zeroed if missing);
//  4. open the commit log and Recover it (abnormal: from the segment the
//     checkpoint's min timestamp points at), giving the log end;
//  5. open every queue under <root>/consumequeue/<topic>/<queueId>/;
//  6. an empty commit log destroys all queues; otherwise each queue drops
//     units at or after the log end (TruncateDirty);
//  7. re-dispatch records the queues are missing (redispatch; after a crash
//     at the latest from where commit-log recovery started, rewriting the
//     units the queues hold that differ from their records);
//  8. after a crash, have every queue sync again the units it loaded that
//     point at or after where commit-log recovery started, and sync the
//     directories holding their entries (resyncQueues);
//  9. move each queue's MinOffset to the commit log's MinOffset.
//
// After a crash, commit-log recovery itself makes the records it keeps
// durable (step 4; a clean stop synced everything). A failing sync anywhere
// fails Open: no append may go on top of data that is only in the page
// cache.
func openStore(cfg Config) (_ *Store, err error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	impl := &storeImpl{
		cfg:    cfg,
		fs:     cfg.FS,
		log:    cfg.Logger.With().Str("component", "store").Logger(),
		cqRoot: filepath.Join(cfg.RootDir, "consumequeue"),
		cqDirs: consumequeue.NewDirs(),
	}
	s := &Store{Queues: make(map[QueueKey]*consumequeue.ConsumeQueue), impl: impl}

	// 1.
	if err := vfs.MkdirAllSynced(impl.fs, cfg.RootDir, 0o755); err != nil {
		return nil, fmt.Errorf("store: create %s: %w", cfg.RootDir, err)
	}
	lockPath := filepath.Join(cfg.RootDir, "lock")
	impl.lock, err = impl.fs.Lock(lockPath)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrLocked, lockPath, err)
	}
	defer func() {
		if err != nil {
			impl.shutdown(s, false)
		}
	}()

	// Opened before anything is written (SyncQueuesFS). A file system
	// that cannot open a directory (none of the product's) only loses the
	// one-call thorough flush.
	if d, err := impl.fs.OpenFile(cfg.RootDir, os.O_RDONLY, 0); err == nil {
		impl.rootDir = d
	}

	// 2.
	abortPath := filepath.Join(cfg.RootDir, "abort")
	if _, statErr := impl.fs.Stat(abortPath); statErr == nil {
		s.Abnormal = true
	} else if !errors.Is(statErr, fs.ErrNotExist) {
		return nil, fmt.Errorf("store: stat %s: %w", abortPath, statErr)
	}
	if err := impl.createAbort(abortPath); err != nil {
		return nil, err
	}

	// 3.
	if impl.ckpt, err = openCheckpoint(impl.fs, cfg.RootDir); err != nil {
		return nil, err
	}
	minTimestamp := impl.ckpt.minTimestamp()

	// 4.
	s.CommitLog, err = commitlog.Open(commitlog.Config{
		Dir:               cfg.CommitLogDir,
		FileSize:          cfg.CommitLogFileSize,
		FS:                impl.fs,
		CheckCRCOnRecover: cfg.CheckCRCOnRecover,
		Logger:            cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("store: open commit log: %w", err)
	}
	logEnd, err := s.CommitLog.Recover(s.Abnormal, minTimestamp)
	if err != nil {
		return nil, fmt.Errorf("store: recover commit log: %w", err)
	}

	// 5.
	if err := s.loadQueues(); err != nil {
		return nil, err
	}

	// 6. Java destroys the queues only when there are no commit-log files;
	// a log that ends at 0 holds no record either, and TruncateDirty(0)
	// would leave filler units behind.
	if logEnd == 0 {
		for key, q := range s.Queues {
			if err := q.Destroy(); err != nil {
				return nil, fmt.Errorf("store: destroy queue %s/%d of an empty commit log: %w", key.Topic, key.QueueID, err)
			}
			delete(s.Queues, key)
		}
	} else {
		for key, q := range s.Queues {
			if err := q.TruncateDirty(logEnd); err != nil {
				return nil, fmt.Errorf("store: truncate queue %s/%d at %d: %w", key.Topic, key.QueueID, logEnd, err)
			}
		}
	}

	// 7.
	if err := s.redispatch(logEnd); err != nil {
		return nil, err
	}

	// 8.
	if s.Abnormal {
		if err := s.resyncQueues(s.CommitLog.RecoveryStart()); err != nil {
			return nil, err
		}
	}

	// 9.
	logMin := s.CommitLog.MinOffset()
	for key, q := range s.Queues {
		if err := q.DeleteBelow(logMin); err != nil {
			return nil, fmt.Errorf("store: correct min offset of %s/%d: %w", key.Topic, key.QueueID, err)
		}
	}
	impl.log.Info().Bool("abnormal", s.Abnormal).Int64("commitLogMin", logMin).Int64("commitLogEnd", logEnd).
		Int("queues", len(s.Queues)).Msg("store opened")
	return s, nil
}

// resyncQueues is step 8. The crash may have left units in the page cache
// only, like commit-log records (commitlog's syncRecovered), and a queue
// flush covers only units written after Open: ResyncFrom rewrites the
// loaded units from the recovery start on (clean pages a failed write-back
// left in the cache would otherwise never be written) and makes the next
// flush cover them, and the queue's
// directory, before the checkpoint can count them durable (they are not
// synced here: the commit log holds them, re-dispatch from the checkpoint
// restores them, and a flush per queue at start costs a device flush per
// queue, seconds with 10,000). The directories holding the entries of those
// queues' directories are synced here, once each; they may be as fresh.
func (s *Store) resyncQueues(from int64) error {
	impl := s.impl
	topics := make(map[string]bool)
	for key, q := range s.Queues {
		resync, err := q.ResyncFrom(from)
		if err != nil {
			return fmt.Errorf("store: resync queue %s/%d after a crash: %w", key.Topic, key.QueueID, err)
		}
		if resync {
			topics[key.Topic] = true
		}
	}
	if len(topics) == 0 {
		return nil
	}
	dirs := []string{impl.cfg.RootDir, impl.cqRoot}
	for t := range topics {
		dirs = append(dirs, filepath.Join(impl.cqRoot, t))
	}
	for _, d := range dirs {
		if err := impl.fs.SyncDir(d); err != nil {
			return fmt.Errorf("store: sync %s after a crash: %w", d, err)
		}
	}
	return nil
}

// createAbort creates the empty abort file and makes its entry durable.
func (impl *storeImpl) createAbort(path string) error {
	f, err := impl.fs.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	if err := impl.fs.SyncDir(impl.cfg.RootDir); err != nil {
		return fmt.Errorf("store: sync %s: %w", impl.cfg.RootDir, err)
	}
	return nil
}

// loadQueues opens every <cqRoot>/<topic>/<queueId>/ directory. Entries that
// cannot be a queue (files, non-numeric queue ids) are skipped with a
// warning rather than failing the broker.
func (s *Store) loadQueues() error {
	impl := s.impl
	topics, err := impl.fs.ReadDir(impl.cqRoot)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: list %s: %w", impl.cqRoot, err)
	}
	for _, t := range topics {
		if !t.IsDir() {
			continue
		}
		dir := filepath.Join(impl.cqRoot, t.Name())
		ids, err := impl.fs.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("store: list %s: %w", dir, err)
		}
		for _, id := range ids {
			qid, perr := strconv.ParseInt(id.Name(), 10, 32)
			if !id.IsDir() || perr != nil || qid < 0 {
				impl.log.Warn().Str("path", filepath.Join(dir, id.Name())).Msg("not a consume queue directory, skipped")
				continue
			}
			if _, err := s.openQueueLocked(QueueKey{Topic: t.Name(), QueueID: int32(qid)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// openQueueLocked opens key's queue and records it. REQUIRES impl.mu, or
// Open's goroutine before the Store is returned.
func (s *Store) openQueueLocked(key QueueKey) (*consumequeue.ConsumeQueue, error) {
	if q, ok := s.Queues[key]; ok {
		return q, nil
	}
	q, err := consumequeue.Open(consumequeue.Config{
		RootDir:  s.impl.cqRoot,
		Topic:    key.Topic,
		QueueID:  key.QueueID,
		FileSize: s.impl.cfg.CQFileSize,
		FS:       s.impl.fs,
		Logger:   s.impl.cfg.Logger,
		Dirs:     s.impl.cqDirs,
	})
	if err != nil {
		return nil, fmt.Errorf("store: open queue %s/%d: %w", key.Topic, key.QueueID, err)
	}
	s.Queues[key] = q
	return q, nil
}
