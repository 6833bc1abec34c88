package faultfs

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/actormq/actormq/storage/vfs"
)

// file is an open handle.
type file struct {
	fs         *FS
	n          *node
	name       string
	readable   bool
	writable   bool
	appendMode bool
	pos        int64 // Write's position; guarded by fs.mu
	closed     bool  // guarded by fs.mu
}

var _ vfs.File = (*file)(nil)

// enterFile is enter for an operation on f, which must be open (and
// writable when write is set). It returns with fs.mu held.
func (f *file) enterFile(op Op, write bool) (*firing, error) {
	fire, err := f.fs.enter(op, f.name)
	if err != nil {
		return nil, err
	}
	switch {
	case f.closed:
		return nil, pathErr(op.String(), f.name, os.ErrClosed)
	case write && !f.writable, !write && op == OpRead && !f.readable:
		return nil, pathErr(op.String(), f.name, syscall.EBADF)
	}
	return fire, nil
}

func (f *file) Name() string { return f.name }

func (f *file) ReadAt(p []byte, off int64) (int, error) {
	fire, err := f.enterFile(OpRead, false)
	defer f.fs.mu.Unlock()
	if err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, pathErr("read", f.name, syscall.EINVAL)
	}
	if off >= int64(len(f.n.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.n.data[off:])
	if fire != nil && fire.kind == KindBitFlip && n > 0 {
		i := f.fs.rng.IntN(n)
		bit := uint(f.fs.rng.IntN(8))
		p[i] ^= 1 << bit
		fire.detail = fmt.Sprintf("bit %d of byte %d flipped in the copy read", bit, off+int64(i))
	}
	f.fs.logLocked(fire)
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *file) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	appendMode := f.appendMode
	f.fs.mu.Unlock()
	if appendMode {
		// As os.File: WriteAt on an O_APPEND file is an error.
		return 0, pathErr("writeat", f.name, syscall.EINVAL)
	}
	return f.write(p, off, false)
}

func (f *file) Write(p []byte) (int, error) { return f.write(p, 0, true) }

// write stores p at off (atPos: at the handle's position, or the end with
// O_APPEND), allocating the pages it covers.
func (f *file) write(p []byte, off int64, atPos bool) (int, error) {
	fire, err := f.enterFile(OpWrite, true)
	defer f.fs.mu.Unlock()
	if err != nil {
		return 0, err
	}
	n := f.n
	if atPos {
		off = f.pos
		if f.appendMode {
			off = int64(len(n.data))
		}
	}
	if off < 0 {
		return 0, pathErr("write", f.name, syscall.EINVAL)
	}
	want := int64(len(p))
	var werr error
	if fire != nil && fire.kind == KindShortWrite && want > 0 {
		want = f.fs.rng.Int64N(want)
		werr = io.ErrShortWrite
		fire.detail = fmt.Sprintf("wrote %d of %d bytes at %d", want, len(p), off)
	}
	f.fs.logLocked(fire)
	backed, aerr := f.fs.allocLocked(n, off, want, false)
	if aerr != nil {
		f.fs.noteCapacityLocked(OpWrite, f.name, fmt.Sprintf("wrote %d of %d bytes at %d", backed, len(p), off))
		want, werr = backed, aerr
	}
	if end := off + want; end > int64(len(n.data)) {
		if err := f.fs.resizeLocked(n, end); err != nil {
			return 0, pathErr("write", f.name, err)
		}
	}
	copy(n.data[off:], p[:want])
	if want > 0 {
		n.modTime = f.fs.now()
		for pg := off / pageBytes; pg*pageBytes < off+want; pg++ {
			delete(n.lost, pg) // written again: dirty
		}
	}
	if atPos {
		f.pos = off + want
	}
	if werr != nil {
		return int(want), pathErr("write", f.name, werr)
	}
	return int(want), nil
}

func (f *file) Truncate(size int64) error {
	_, err := f.enterFile(OpTruncate, true)
	defer f.fs.mu.Unlock()
	if err != nil {
		return err
	}
	if size < 0 {
		return pathErr("truncate", f.name, syscall.EINVAL)
	}
	if err := f.fs.resizeLocked(f.n, size); err != nil {
		return pathErr("truncate", f.name, err)
	}
	f.n.modTime = f.fs.now()
	return nil
}

// Allocate reserves the pages of [off, off+length), growing the file to
// off+length when it is shorter; all of them or, with ENOSPC, none.
func (f *file) Allocate(off, length int64) error {
	_, err := f.enterFile(OpAllocate, true)
	defer f.fs.mu.Unlock()
	if err != nil {
		return err
	}
	if off < 0 || length <= 0 {
		return pathErr("fallocate", f.name, syscall.EINVAL)
	}
	if _, err := f.fs.allocLocked(f.n, off, length, true); err != nil {
		f.fs.noteCapacityLocked(OpAllocate, f.name, fmt.Sprintf("[%d,+%d)", off, length))
		return pathErr("fallocate", f.name, err)
	}
	if end := off + length; end > int64(len(f.n.data)) {
		if err := f.fs.resizeLocked(f.n, end); err != nil {
			return pathErr("fallocate", f.name, err)
		}
	}
	return nil
}

// Sync makes the whole file durable. It reads every byte, so it must not
// run while a mapping of the file is being written (msync ranges instead).
func (f *file) Sync() error {
	fire, err := f.enterFile(OpSync, false)
	defer f.fs.mu.Unlock()
	if err != nil {
		return err
	}
	n := f.n
	if fire != nil && fire.kind == KindTorn {
		persistTorn(f.fs, fire, n, 0, int64(len(n.data)))
		return pathErr("sync", f.name, syscall.EIO)
	}
	if fire != nil && fire.kind == KindLostWrite {
		loseLocked(f.fs, fire, n, 0, int64(len(n.data)))
		return pathErr("sync", f.name, syscall.EIO)
	}
	n.durable = resized(n.durable, len(n.data))
	persistLocked(n, 0, int64(len(n.data)))
	return nil
}

func (f *file) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return pathErr("close", f.name, os.ErrClosed)
	}
	f.closed = true
	return nil
}

func (f *file) Stat() (os.FileInfo, error) {
	_, err := f.enterFile(OpStat, false)
	defer f.fs.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return f.n.info(f.name[lastSlash(f.name)+1:]), nil
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}

// Mmap maps [0, length) of the file; the file must be at least that long.
func (f *file) Mmap(length int) (vfs.Mapping, error) {
	_, err := f.enterFile(OpMmap, false)
	defer f.fs.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if length <= 0 || int64(length) > int64(len(f.n.data)) {
		return nil, pathErr("mmap", f.name, syscall.EINVAL)
	}
	f.n.mapped++
	return &mapping{fs: f.fs, n: f.n, name: f.name, b: f.n.data[:length:length]}, nil
}

// mapping aliases the node's live bytes.
type mapping struct {
	fs   *FS
	n    *node
	name string
	b    []byte // nil after Unmap; guarded by fs.mu for Unmap only
}

func (m *mapping) Bytes() []byte { return m.b }

// Sync makes [off, off+n) durable, and the file's size. It reads exactly
// that range: the store writes the bytes after it while the flusher syncs.
func (m *mapping) Sync(off, n int) error {
	fire, err := m.fs.enter(OpMsync, m.name)
	defer m.fs.mu.Unlock()
	if err != nil {
		return err
	}
	if m.b == nil || off < 0 || n < 0 || off+n > len(m.b) {
		return pathErr("msync", m.name, syscall.EINVAL)
	}
	if n == 0 {
		return nil
	}
	// The pages stored into must have had blocks behind them.
	if aerr := m.fs.allocStoredLocked(m.n, off, n); aerr != nil {
		m.fs.logLocked(&firing{op: OpMsync, path: m.name, kind: KindUnbackedWrite,
			detail: fmt.Sprintf("stores into [%d,+%d) had no space behind them: SIGBUS on Linux", off, n)})
		return pathErr("msync", m.name, syscall.EFAULT)
	}
	if fire != nil && fire.kind == KindTorn {
		persistTorn(m.fs, fire, m.n, int64(off), int64(n))
		return pathErr("msync", m.name, syscall.EIO)
	}
	if fire != nil && fire.kind == KindLostWrite {
		loseLocked(m.fs, fire, m.n, int64(off), int64(n))
		return pathErr("msync", m.name, syscall.EIO)
	}
	node := m.n
	if len(node.durable) != len(node.data) {
		node.durable = resized(node.durable, len(node.data))
	}
	persistLocked(node, int64(off), int64(n))
	node.modTime = m.fs.now()
	return nil
}

func (m *mapping) Unmap() error {
	m.fs.mu.Lock()
	defer m.fs.mu.Unlock()
	if m.b == nil {
		return nil
	}
	m.b = nil
	m.n.mapped--
	return nil
}

// persistLocked makes [off, off+n) of nd durable (nd.durable is as long as
// nd.data), except the pages a KindLostWrite sync left clean and that
// were not written since. REQUIRES fsys.mu.
func persistLocked(nd *node, off, n int64) {
	if len(nd.lost) == 0 {
		copy(nd.durable[off:off+n], nd.data[off:off+n])
		return
	}
	for pg := off / pageBytes; pg*pageBytes < off+n; pg++ {
		lo, hi := max(off, pg*pageBytes), min(off+n, (pg+1)*pageBytes)
		if was, ok := nd.lost[pg]; ok {
			start := pg * pageBytes
			if start+int64(len(was)) <= int64(len(nd.data)) && bytes.Equal(nd.data[start:start+int64(len(was))], was) {
				continue // clean in the cache: the sync writes nothing
			}
			delete(nd.lost, pg) // stored into since: dirty
		}
		copy(nd.durable[lo:hi], nd.data[lo:hi])
	}
}

// loseLocked fails a sync of [off, off+n) of nd as KindLostWrite: its
// pages are recorded clean but not durable (node.lost) and the fault is
// logged. REQUIRES fsys.mu.
func loseLocked(fsys *FS, fire *firing, nd *node, off, n int64) {
	if nd.lost == nil {
		nd.lost = make(map[int64][]byte)
	}
	pages := 0
	for pg := off / pageBytes; pg*pageBytes < off+n; pg++ {
		start := pg * pageBytes
		nd.lost[pg] = append([]byte(nil), nd.data[start:min(start+pageBytes, int64(len(nd.data)))]...)
		pages++
	}
	fire.detail = fmt.Sprintf("%d pages from %d left clean, not durable, then EIO", pages, off)
	fsys.logLocked(fire)
}

// sectorBytes is the unit a device writes atomically: a torn sync keeps
// whole sectors.
const sectorBytes = 512

// persistTorn makes a random prefix of [off, off+n) durable, cut at a
// sector boundary: what a power cut or a device error in the middle of a
// sync leaves.
func persistTorn(fsys *FS, fire *firing, nd *node, off, n int64) {
	// The cut points are off, each sector boundary inside the range, and
	// off+n; one is drawn.
	first := (off/sectorBytes + 1) * sectorBytes
	inner := max((off+n-1)/sectorBytes*sectorBytes-first+sectorBytes, 0) / sectorBytes
	keep := n
	if i := fsys.rng.Int64N(inner + 2); i == 0 {
		keep = 0
	} else if i <= inner {
		keep = first + (i-1)*sectorBytes - off
	}
	if len(nd.durable) < int(off+keep) {
		nd.durable = resized(nd.durable, int(off+keep))
	}
	copy(nd.durable[off:off+keep], nd.data[off:off+keep])
	fire.detail = fmt.Sprintf("%d of %d bytes from %d made durable, then EIO", keep, n, off)
	fsys.logLocked(fire)
}

// resized returns b with length n, zero-filled past its old length.
func resized(b []byte, n int) []byte {
	if n <= len(b) {
		return b[:n]
	}
	return append(b, make([]byte, n-len(b))...)
}
