package store

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
)

// shutdown releases everything Open acquired, once. With clean, and only if
// every flush and close succeeded, it removes the abort file so that the next
// Open recovers normally; otherwise the abort file stays and the next Open
// recovers as after a crash. Open's failure path and tests simulating a
// crash pass clean=false.
func (impl *storeImpl) shutdown(s *Store, clean bool) error {
	impl.closeOnce.Do(func() {
		impl.mu.Lock()
		impl.closed = true
		impl.mu.Unlock()
		var errs []error
		if s.CommitLog != nil {
			if err := s.CommitLog.Close(); err != nil {
				errs = append(errs, fmt.Errorf("store: close commit log: %w", err))
			}
		}
		for key, q := range s.Queues {
			if err := q.Close(); err != nil {
				errs = append(errs, fmt.Errorf("store: close queue %s/%d: %w", key.Topic, key.QueueID, err))
			}
		}
		if impl.ckpt != nil {
			if err := impl.ckpt.close(); err != nil {
				errs = append(errs, err)
			}
		}
		if impl.rootDir != nil {
			if err := impl.rootDir.Close(); err != nil {
				errs = append(errs, fmt.Errorf("store: close %s: %w", impl.cfg.RootDir, err))
			}
		}
		if clean && len(errs) == 0 {
			errs = append(errs, impl.removeAbort())
		}
		if impl.lock != nil {
			if err := impl.lock.Close(); err != nil {
				errs = append(errs, fmt.Errorf("store: release lock: %w", err))
			}
		}
		impl.closeErr = errors.Join(errs...)
		if clean {
			impl.log.Info().Err(impl.closeErr).Msg("store closed")
		}
	})
	return impl.closeErr
}

func (impl *storeImpl) removeAbort() error {
	path := filepath.Join(impl.cfg.RootDir, "abort")
	if err := impl.fs.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: remove %s: %w", path, err)
	}
	if err := impl.fs.SyncDir(impl.cfg.RootDir); err != nil {
		return fmt.Errorf("store: sync %s: %w", impl.cfg.RootDir, err)
	}
	return nil
}
