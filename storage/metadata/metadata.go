// Package metadata owns the durability of the broker's JSON config files
// (config/topics.json, subscriptionGroup.json, consumerOffset.json, ...;
// storage-format.md §8): atomic replacement with a .bak of the previous
// version, and loading with a fall back to that .bak. It does not know the
// JSON shapes; callers encode and decode (wire/body).
//
// Files of one config:
//
//	+-------------+-----------------------------------------------+
//	| file        | content                                       |
//	+-------------+-----------------------------------------------+
//	| <path>      | the current version                           |
//	| <path>.bak  | the version before it                         |
//	| <path>.tmp  | a version being written (garbage after crash) |
//	+-------------+-----------------------------------------------+
package metadata

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/actormq/actormq/internal/crashpoint"
	"github.com/actormq/actormq/storage/vfs"
)

// ErrCorrupt: the file and its .bak exist but neither decodes.
var ErrCorrupt = errors.New("metadata: config file unreadable")

const (
	bakSuffix = ".bak"
	tmpSuffix = ".tmp"
)

// Save replaces the config at path with data, durably, in this order:
//
//  1. write <path>.tmp and fsync it;
//  2. rename the current <path> (if any) to <path>.bak;
//  3. rename <path>.tmp to <path>;
//  4. fsync the directory, making both renames durable.
//
// The directory is created first if needed, durably (vfs.MkdirAllSynced):
// a new config directory whose entry a crash lost would take every file in
// it along. A crash at any point leaves either <path> or <path>.bak holding
// a complete version (Java writes the new content into <path> in place after the
// backup, which a crash can tear; the tmp file avoids that). The caller owns
// data; Save does not retain it. Callers serialize Saves of one path.
func Save(fsys vfs.FS, path string, data []byte) error {
	if fsys == nil {
		fsys = vfs.Default
	}
	dir := filepath.Dir(path)
	if err := vfs.MkdirAllSynced(fsys, dir, 0o755); err != nil {
		return fmt.Errorf("metadata: create %s: %w", dir, err)
	}
	tmp := path + tmpSuffix
	if err := writeSynced(fsys, tmp, data); err != nil {
		return err
	}
	if err := fsys.Rename(path, path+bakSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("metadata: back up %s: %w", path, err)
	}
	crashpoint.Hit(crashpoint.MetadataMidWrite)
	if err := fsys.Rename(tmp, path); err != nil {
		return fmt.Errorf("metadata: replace %s: %w", path, err)
	}
	if err := fsys.SyncDir(dir); err != nil {
		return fmt.Errorf("metadata: sync %s: %w", dir, err)
	}
	return nil
}

func writeSynced(fsys vfs.FS, name string, data []byte) error {
	f, err := fsys.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("metadata: create %s: %w", name, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("metadata: write %s: %w", name, err)
	}
	return nil
}

// LoadInto decodes the config at path with decode, falling back to
// <path>.bak when the file is missing, empty, unreadable or fails decode
// (§8). decode must reset its target before filling it, because it may be
// called twice. When the .bak is used, the broken <path> is removed so that
// the next Save does not rotate it over the good backup.
//
// found is false with a nil error when neither file holds data (first
// start); a non-nil error wrapping ErrCorrupt means data exists but neither
// copy decodes, which the caller must not treat as an empty config.
func LoadInto(fsys vfs.FS, path string, decode func([]byte) error) (found bool, err error) {
	if fsys == nil {
		fsys = vfs.Default
	}
	var errs []error
	mainExists := false
	for i, name := range []string{path, path + bakSuffix} {
		data, rerr := readFile(fsys, name)
		switch {
		case errors.Is(rerr, fs.ErrNotExist):
			continue
		case rerr != nil:
			errs = append(errs, rerr)
		case len(data) == 0:
		default:
			derr := decode(data)
			if derr == nil {
				if i == 1 && mainExists {
					if err := fsys.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
						return true, fmt.Errorf("metadata: remove broken %s: %w", path, err)
					}
				}
				return true, nil
			}
			errs = append(errs, fmt.Errorf("decode %s: %w", name, derr))
		}
		if i == 0 {
			mainExists = true
		}
	}
	if len(errs) == 0 {
		return false, nil
	}
	return false, fmt.Errorf("%w: %w", ErrCorrupt, errors.Join(errs...))
}

// readFile reads a whole file through fsys.
func readFile(fsys vfs.FS, name string) ([]byte, error) {
	f, err := fsys.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("metadata: open %s: %w", name, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("metadata: stat %s: %w", name, err)
	}
	data := make([]byte, st.Size())
	n, err := f.ReadAt(data, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("metadata: read %s: %w", name, err)
	}
	return data[:n], nil
}
