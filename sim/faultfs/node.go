package faultfs

import (
	"io/fs"
	"os"
	"syscall"
	"time"
)

// node is a file or a directory. All fields are guarded by FS.mu, except
// the bytes of data, which mappings alias.
type node struct {
	isDir   bool
	mode    os.FileMode
	modTime time.Time
	links   int // live directory entries naming it

	// Directories: the live entries and those a crash keeps.
	children map[string]*node
	synced   map[string]*node

	// Files: the live bytes (a Mapping aliases them, so they are never
	// reallocated while mapped), the bytes a crash keeps, and the
	// allocated 4 KiB pages.
	data    []byte
	durable []byte
	pages   []bool
	mapped  int // live mappings
	// lost holds, by page number, the bytes of each page a KindLostWrite
	// sync left clean but not durable, as they were then; a sync skips
	// such a page while its bytes are unchanged and no WriteAt covered it
	// (persistLocked).
	lost map[int64][]byte
}

func newDir() *node {
	return &node{isDir: true, mode: os.ModeDir | 0o755, children: make(map[string]*node), synced: make(map[string]*node)}
}

// info is a snapshot of n's metadata under name.
func (n *node) info(name string) os.FileInfo {
	return fileInfo{name: name, size: int64(len(n.data)), mode: n.mode, modTime: n.modTime, dir: n.isDir}
}

type fileInfo struct {
	name    string
	size    int64
	mode    os.FileMode
	modTime time.Time
	dir     bool
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) Mode() os.FileMode  { return i.mode }
func (i fileInfo) ModTime() time.Time { return i.modTime }
func (i fileInfo) IsDir() bool        { return i.dir }
func (i fileInfo) Sys() any           { return nil }

var _ fs.FileInfo = fileInfo{}

// dirChange is one journal entry: entry changes applied together (a rename
// is two). A nil target removes the entry.
type dirChange []entryChange

type entryChange struct {
	dir    *node
	name   string
	target *node
}

func (c dirChange) touches(d *node) bool {
	for _, e := range c {
		if e.dir == d {
			return true
		}
	}
	return false
}

// apply makes c durable: in each directory's synced entries, or in the
// copies of them held in view (a crash image being built) when view is
// not nil.
func (c dirChange) apply(view map[*node]map[string]*node) {
	for _, e := range c {
		m := e.dir.synced
		if view != nil {
			m = view[e.dir]
			if m == nil {
				m = make(map[string]*node, len(e.dir.synced))
				for k, v := range e.dir.synced {
					m[k] = v
				}
				view[e.dir] = m
			}
		}
		if e.target == nil {
			delete(m, e.name)
		} else {
			m[e.name] = e.target
		}
	}
}

// linkLocked adds the entry name → n to dir. REQUIRES FS.mu.
func (fsys *FS) linkLocked(dir *node, name string, n *node) {
	dir.children[name] = n
	n.links++
	fsys.pending = append(fsys.pending, dirChange{{dir: dir, name: name, target: n}})
}

// unlinkLocked removes the entry name of dir. REQUIRES FS.mu.
func (fsys *FS) unlinkLocked(dir *node, name string) {
	fsys.dropLinkLocked(dir, name)
	fsys.pending = append(fsys.pending, dirChange{{dir: dir, name: name}})
}

// dropLinkLocked removes the live entry name of dir, if any, and frees the
// space of what it named once nothing names it (an open handle does not
// keep it; the store never reads a file it removed). The journal entry is
// the caller's. REQUIRES FS.mu.
func (fsys *FS) dropLinkLocked(dir *node, name string) {
	n := dir.children[name]
	if n == nil {
		return
	}
	delete(dir.children, name)
	n.links--
	if n.links > 0 {
		return
	}
	fsys.freeLocked(n)
}

// freeLocked returns the space of n and everything below it.
func (fsys *FS) freeLocked(n *node) {
	if n.isDir {
		for _, c := range n.children {
			c.links--
			if c.links == 0 {
				fsys.freeLocked(c)
			}
		}
		return
	}
	for i, a := range n.pages {
		if a {
			n.pages[i] = false
			fsys.used -= pageBytes
		}
	}
}

// resizeLocked sets n's live size. Growth allocates nothing (files are
// sparse); shrinking frees the pages wholly past the new end. A mapped
// file keeps its bytes where they are: it may shrink (the cut bytes are
// zeroed, as a later extension would read them) but not grow past its
// capacity, because a mapping could not follow the move. REQUIRES FS.mu.
func (fsys *FS) resizeLocked(n *node, size int64) error {
	old := int64(len(n.data))
	switch {
	case size < old:
		clear(n.data[size:])
		n.data = n.data[:size]
		keep := int((size + pageBytes - 1) / pageBytes)
		for i := keep; i < len(n.pages); i++ {
			if n.pages[i] {
				fsys.used -= pageBytes
			}
		}
		n.pages = n.pages[:min(keep, len(n.pages))]
	case size > old:
		if size > int64(cap(n.data)) && n.mapped > 0 {
			return syscall.EINVAL
		}
		n.data = append(n.data, make([]byte, size-old)...)
	}
	return nil
}

// allocLocked allocates the pages of [off, off+length) of n. all: every
// page or none (fallocate); otherwise as many leading pages as fit. It
// returns how many bytes from off are backed, and ENOSPC when that is
// less than length. REQUIRES FS.mu.
func (fsys *FS) allocLocked(n *node, off, length int64, all bool) (int64, error) {
	if length <= 0 {
		return 0, nil
	}
	first, last := int(off/pageBytes), int((off+length-1)/pageBytes)
	if last >= len(n.pages) {
		n.pages = append(n.pages, make([]bool, last+1-len(n.pages))...)
	}
	missing := 0
	for i := first; i <= last; i++ {
		if !n.pages[i] {
			missing++
		}
	}
	free := int64(1<<62 - 1)
	if fsys.capacity > 0 {
		free = max(fsys.capacity-fsys.used, 0)
	}
	if int64(missing)*pageBytes <= free {
		for i := first; i <= last; i++ {
			if !n.pages[i] {
				n.pages[i] = true
				fsys.used += pageBytes
			}
		}
		return length, nil
	}
	if all {
		return 0, syscall.ENOSPC
	}
	for i := first; i <= last; i++ {
		if !n.pages[i] {
			if free < pageBytes {
				return max(int64(i)*pageBytes-off, 0), syscall.ENOSPC
			}
			n.pages[i] = true
			fsys.used += pageBytes
			free -= pageBytes
		}
	}
	return length, nil
}

// allocStoredLocked allocates the pages of [off, off+length) that a
// mapping stored into: those without blocks whose bytes differ from the
// durable image (a hole reads as zeros and, left alone, needs no block). It
// reads only that range. All of them or, with ENOSPC, none. REQUIRES FS.mu.
func (fsys *FS) allocStoredLocked(n *node, off, length int) error {
	var need []int
	for p := off / pageBytes; p*pageBytes < off+length; p++ {
		if p < len(n.pages) && n.pages[p] {
			continue
		}
		lo, hi := max(p*pageBytes, off), min((p+1)*pageBytes, off+length)
		for i := lo; i < hi; i++ {
			var was byte
			if i < len(n.durable) {
				was = n.durable[i]
			}
			if n.data[i] != was {
				need = append(need, p)
				break
			}
		}
	}
	if len(need) == 0 {
		return nil
	}
	if fsys.capacity > 0 && fsys.used+int64(len(need))*pageBytes > fsys.capacity {
		return syscall.ENOSPC
	}
	if last := need[len(need)-1]; last >= len(n.pages) {
		n.pages = append(n.pages, make([]bool, last+1-len(n.pages))...)
	}
	for _, p := range need {
		n.pages[p] = true
		fsys.used += pageBytes
	}
	return nil
}
