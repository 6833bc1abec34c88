package vfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// MkdirAllSynced is MkdirAll that also makes the directories it creates
// durable: it fsyncs the parent of each, top down. Without that, a crash can
// take a new directory away with every file in it, however well those files
// and the directory itself were synced (a directory entry is durable only
// once the directory holding it is synced). Directories that exist already
// are left alone.
func MkdirAllSynced(fsys FS, path string, perm os.FileMode) error {
	path = filepath.Clean(path)
	var missing []string // path first, then its missing parents
	for p := path; ; p = filepath.Dir(p) {
		_, err := fsys.Stat(p)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		missing = append(missing, p)
		if filepath.Dir(p) == p {
			break
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if err := fsys.MkdirAll(path, perm); err != nil {
		return err
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if parent := filepath.Dir(missing[i]); parent != missing[i] {
			if err := fsys.SyncDir(parent); err != nil {
				return err
			}
		}
	}
	return nil
}
