package faultfs

import (
	"fmt"
	"math/rand/v2"
	"syscall"
)

// Crash cuts the power: fsys fails every later operation with ErrCrashed
// (a broker still running on it stops writing), and the returned FS holds
// only what was durable (package comment) — what the restart finds. The
// new FS has the same capacity and clock, no rules, an empty log and a
// generator seeded from fsys's. Crash may be called again (or after a
// KindCrash fault); each call returns a fresh copy of the same image.
func (fsys *FS) Crash() *FS { return fsys.CrashKeeping(0) }

// CrashKeeping is Crash, except that the first n directory changes not yet
// made durable by SyncDir survive as well, in order: a journaling file
// system may have committed them before the power cut. n is capped at
// PendingDirChanges; trying every n from 0 up covers every state a crash
// can leave the directories in.
func (fsys *FS) CrashKeeping(n int) *FS {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	fsys.crashed = true
	view := make(map[*node]map[string]*node)
	for _, c := range fsys.pending[:min(max(n, 0), len(fsys.pending))] {
		c.apply(view)
	}
	next := &FS{
		rng:      rand.New(rand.NewPCG(fsys.rng.Uint64(), fsys.rng.Uint64())),
		now:      fsys.now,
		capacity: fsys.capacity,
		locks:    make(map[*node]bool),
	}
	copies := make(map[*node]*node)
	next.root = next.cloneDurable(fsys.root, view, copies)
	return next
}

// PendingDirChanges is how many directory changes (creations, renames,
// removals) a crash now would lose.
func (fsys *FS) PendingDirChanges() int {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	return len(fsys.pending)
}

// cloneDurable copies the durable image of n (a directory's synced
// entries, as changed by view; a file's durable bytes) into a node of
// next, whose state is all durable. copies keeps hard links linked.
func (next *FS) cloneDurable(n *node, view map[*node]map[string]*node, copies map[*node]*node) *node {
	if c, ok := copies[n]; ok {
		c.links++
		return c
	}
	c := &node{isDir: n.isDir, mode: n.mode, modTime: n.modTime, links: 1}
	copies[n] = c
	if n.isDir {
		entries := n.synced
		if v, ok := view[n]; ok {
			entries = v
		}
		c.children = make(map[string]*node, len(entries))
		c.synced = make(map[string]*node, len(entries))
		for name, child := range entries {
			cc := next.cloneDurable(child, view, copies)
			c.children[name] = cc
			c.synced[name] = cc
		}
		return c
	}
	c.data = append([]byte(nil), n.durable...)
	c.durable = append([]byte(nil), n.durable...)
	// Allocation is metadata that the syncs of the data made durable.
	c.pages = append([]bool(nil), n.pages[:min(len(n.pages), (len(c.data)+pageBytes-1)/pageBytes)]...)
	for _, a := range c.pages {
		if a {
			next.used += pageBytes
		}
	}
	return c
}

// FlipBit flips bit (0–7) of the byte at off of the file name, in its live
// and its durable bytes: media corruption that a read through a mapping
// finds. Call it while nothing reads the file (between a Crash and the
// restart, say). It is logged as KindStoredBitFlip.
func (fsys *FS) FlipBit(name string, off int64, bit uint) error {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	if fsys.crashed {
		return pathErr("flipbit", name, ErrCrashed)
	}
	_, _, n, err := fsys.lookupLocked("flipbit", name)
	switch {
	case err != nil:
		return err
	case n == nil:
		return pathErr("flipbit", name, syscall.ENOENT)
	case n.isDir || off < 0 || off >= int64(len(n.data)) || bit > 7:
		return pathErr("flipbit", name, syscall.EINVAL)
	}
	n.data[off] ^= 1 << bit
	if off < int64(len(n.durable)) {
		n.durable[off] ^= 1 << bit
	}
	fsys.logLocked(&firing{seq: fsys.seq, path: name, kind: KindStoredBitFlip,
		detail: fmt.Sprintf("bit %d of byte %d", bit, off)})
	return nil
}

// FlipRandomBit is FlipBit at a byte in [lo, hi) and a bit drawn from the
// seeded generator; it returns where it flipped.
func (fsys *FS) FlipRandomBit(name string, lo, hi int64) (off int64, bit uint, err error) {
	if hi <= lo || lo < 0 {
		return 0, 0, pathErr("flipbit", name, syscall.EINVAL)
	}
	fsys.mu.Lock()
	off = lo + fsys.rng.Int64N(hi-lo)
	bit = uint(fsys.rng.IntN(8))
	fsys.mu.Unlock()
	return off, bit, fsys.FlipBit(name, off, bit)
}
