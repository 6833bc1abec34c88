package faultfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// Remove removes a file or an empty directory.
func (fsys *FS) Remove(name string) error {
	_, err := fsys.enter(OpRemove, name)
	defer fsys.mu.Unlock()
	if err != nil {
		return err
	}
	dir, base, n, err := fsys.lookupLocked("remove", name)
	switch {
	case err != nil:
		return err
	case dir == nil:
		return pathErr("remove", name, syscall.EBUSY)
	case n == nil:
		return pathErr("remove", name, syscall.ENOENT)
	case n.isDir && len(n.children) > 0:
		return pathErr("remove", name, syscall.ENOTEMPTY)
	}
	fsys.unlinkLocked(dir, base)
	return nil
}

// RemoveAll removes path and everything below it; a missing path is not an
// error.
func (fsys *FS) RemoveAll(path string) error {
	_, err := fsys.enter(OpRemove, path)
	defer fsys.mu.Unlock()
	if err != nil {
		return err
	}
	dir, base, n, err := fsys.lookupLocked("removeall", path)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && n == nil) {
		return nil
	}
	if err != nil {
		return err
	}
	if dir == nil {
		return pathErr("removeall", path, syscall.EBUSY)
	}
	fsys.unlinkLocked(dir, base)
	return nil
}

// Rename moves oldpath to newpath, replacing a file there.
func (fsys *FS) Rename(oldpath, newpath string) error {
	_, err := fsys.enter(OpRename, oldpath)
	defer fsys.mu.Unlock()
	if err != nil {
		return err
	}
	odir, obase, n, err := fsys.lookupLocked("rename", oldpath)
	if err == nil && n == nil {
		err = pathErr("rename", oldpath, syscall.ENOENT)
	}
	if err != nil {
		return err
	}
	ndir, nbase, target, err := fsys.lookupLocked("rename", newpath)
	switch {
	case err != nil:
		return err
	case odir == nil || ndir == nil:
		return pathErr("rename", oldpath, syscall.EBUSY)
	case target == n:
		return nil
	case target != nil && target.isDir:
		return pathErr("rename", newpath, syscall.EEXIST)
	}
	// One journal entry: a crash keeps both halves of a rename or neither.
	fsys.dropLinkLocked(ndir, nbase)
	ndir.children[nbase] = n
	n.links++
	delete(odir.children, obase)
	n.links--
	fsys.pending = append(fsys.pending, dirChange{
		{dir: ndir, name: nbase, target: n},
		{dir: odir, name: obase},
	})
	return nil
}

// MkdirAll creates path and its missing parents.
func (fsys *FS) MkdirAll(path string, perm os.FileMode) error {
	_, err := fsys.enter(OpMkdir, path)
	defer fsys.mu.Unlock()
	if err != nil {
		return err
	}
	dir := fsys.root
	for _, e := range split(path) {
		next := dir.children[e]
		switch {
		case next == nil:
			next = newDir()
			next.mode, next.modTime = perm|os.ModeDir, fsys.now()
			fsys.linkLocked(dir, e, next)
		case !next.isDir:
			return pathErr("mkdir", path, syscall.ENOTDIR)
		}
		dir = next
	}
	return nil
}

// ReadDir lists a directory sorted by name.
func (fsys *FS) ReadDir(name string) ([]os.DirEntry, error) {
	_, err := fsys.enter(OpStat, name)
	defer fsys.mu.Unlock()
	if err != nil {
		return nil, err
	}
	_, _, n, err := fsys.lookupLocked("readdir", name)
	switch {
	case err != nil:
		return nil, err
	case n == nil:
		return nil, pathErr("readdir", name, syscall.ENOENT)
	case !n.isDir:
		return nil, pathErr("readdir", name, syscall.ENOTDIR)
	}
	out := make([]os.DirEntry, 0, len(n.children))
	for child, c := range n.children {
		out = append(out, fs.FileInfoToDirEntry(c.info(child)))
	}
	slices.SortFunc(out, func(a, b os.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// Stat describes a file or directory.
func (fsys *FS) Stat(name string) (os.FileInfo, error) {
	_, err := fsys.enter(OpStat, name)
	defer fsys.mu.Unlock()
	if err != nil {
		return nil, err
	}
	_, base, n, err := fsys.lookupLocked("stat", name)
	if err == nil && n == nil {
		err = pathErr("stat", name, syscall.ENOENT)
	}
	if err != nil {
		return nil, err
	}
	return n.info(base), nil
}

// SyncDir makes the changes of dir's entries durable (in order).
func (fsys *FS) SyncDir(dir string) error {
	_, err := fsys.enter(OpSyncDir, dir)
	defer fsys.mu.Unlock()
	if err != nil {
		return err
	}
	_, _, d, err := fsys.lookupLocked("sync", dir)
	switch {
	case err != nil:
		return err
	case d == nil:
		return pathErr("sync", dir, syscall.ENOENT)
	case !d.isDir:
		return pathErr("sync", dir, syscall.ENOTDIR)
	}
	kept := fsys.pending[:0]
	for _, c := range fsys.pending {
		if c.touches(d) {
			c.apply(nil)
			continue
		}
		kept = append(kept, c)
	}
	clear(fsys.pending[len(kept):])
	fsys.pending = kept
	return nil
}

// Lock creates name if needed and locks it exclusively within this FS; a
// second Lock fails with EWOULDBLOCK until the first is closed.
func (fsys *FS) Lock(name string) (io.Closer, error) {
	f, err := fsys.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	n := f.(*file).n
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	if fsys.locks[n] {
		return nil, pathErr("lock", name, syscall.EWOULDBLOCK)
	}
	fsys.locks[n] = true
	return &lock{fs: fsys, n: n}, nil
}

type lock struct {
	fs   *FS
	n    *node
	once sync.Once
}

func (l *lock) Close() error {
	l.once.Do(func() {
		l.fs.mu.Lock()
		delete(l.fs.locks, l.n)
		l.fs.mu.Unlock()
	})
	return nil
}

// DiskUsage reports the allocated bytes and the capacity (1 TiB without
// one), whatever path names.
func (fsys *FS) DiskUsage(path string) (used, total uint64, err error) {
	_, err = fsys.enter(OpStat, path)
	defer fsys.mu.Unlock()
	if err != nil {
		return 0, 0, err
	}
	total = totalUnlimited
	if fsys.capacity > 0 {
		total = uint64(fsys.capacity)
	}
	return uint64(fsys.used), total, nil
}
