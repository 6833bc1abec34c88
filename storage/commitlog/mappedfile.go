package commitlog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/actormq/actormq/storage/vfs"
)

// segmentNameLen is the width of a segment file name: the zero-padded decimal
// start offset.
const segmentNameLen = 20

// segment is one mapped segment file covering global offsets [start, end).
//
// Lifetime: refs starts at 1, the reference of the segment queue. Readers
// (Read, Scan, Flush) take one more with acquire while they use buf. Whoever
// drops the last reference unmaps and closes the file, so deleting a segment
// never pulls the mapping away from a reader that still holds a Slice; the
// rejected alternative, unmapping at delete time, turns a late read into a
// SIGSEGV.
type segment struct {
	start, end int64
	path       string
	file       vfs.File
	mapping    vfs.Mapping
	buf        []byte // mapping.Bytes(); valid while refs > 0
	refs       atomic.Int32
	log        *zerolog.Logger
	// allocated: the whole file has disk blocks (createSegment, or
	// Recover for the segment appends continue in). Writer only.
	allocated bool
}

// segmentName formats a start offset as a file name.
func segmentName(start int64) string {
	return fmt.Sprintf("%0*d", segmentNameLen, start)
}

// parseSegmentName returns the start offset a file name encodes, or false
// for files that are not segments.
func parseSegmentName(name string) (int64, bool) {
	if len(name) != segmentNameLen {
		return 0, false
	}
	for i := 0; i < len(name); i++ {
		if name[i] < '0' || name[i] > '9' {
			return 0, false
		}
	}
	start, err := strconv.ParseInt(name, 10, 64)
	return start, err == nil
}

// createSegment creates (or resets) the segment file starting at start,
// allocates its size on disk and maps it. The file is zero-filled, so stale
// bytes of an earlier file of the same name can never look like records.
//
// Allocating (fallocate) rather than only sizing is what makes a full disk
// an error here: a sparse segment would take its blocks when each page is
// first written, so on a full disk Commit's pwrite would fail mid-group
// (a sticky failure instead of the read-only state Probe ends), and a store
// into the mapping would raise SIGBUS instead of returning anything
// (guardFault catches it in recovery only). Java leaves the file sparse
// unless warmMapedFileEnable writes it whole.
func createSegment(fs vfs.FS, dir string, start, size int64, log *zerolog.Logger) (*segment, error) {
	path := filepath.Join(dir, segmentName(start))
	f, err := fs.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("commitlog: create segment: %w", err)
	}
	if err := f.Allocate(0, size); err != nil {
		f.Close()
		fs.Remove(path)
		return nil, fmt.Errorf("commitlog: allocate segment %s: %w", path, err)
	}
	s, err := mapSegment(f, path, start, size, log)
	if err != nil {
		fs.Remove(path)
		return nil, err
	}
	s.allocated = true
	// The new directory entry must survive a crash before any record in it
	// is reported durable.
	if err := fs.SyncDir(dir); err != nil {
		s.release()
		fs.Remove(path)
		return nil, fmt.Errorf("commitlog: sync dir %s: %w", dir, err)
	}
	return s, nil
}

// openSegment maps an existing segment file, which must be exactly size bytes.
func openSegment(fs vfs.FS, path string, start, size int64, log *zerolog.Logger) (*segment, error) {
	f, err := fs.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("commitlog: open segment: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("commitlog: stat segment %s: %w", path, err)
	}
	if fi.Size() != size {
		f.Close()
		return nil, fmt.Errorf("%w: segment %s is %d bytes, FileSize is %d", ErrCorrupt, path, fi.Size(), size)
	}
	return mapSegment(f, path, start, size, log)
}

// mapSegment maps f; on failure it closes f.
func mapSegment(f vfs.File, path string, start, size int64, log *zerolog.Logger) (*segment, error) {
	m, err := f.Mmap(int(size))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("commitlog: map segment: %w", err)
	}
	s := &segment{start: start, end: start + size, path: path, file: f, mapping: m, buf: m.Bytes(), log: log}
	if int64(len(s.buf)) != size {
		m.Unmap()
		f.Close()
		return nil, fmt.Errorf("commitlog: mapping of %s is %d bytes, want %d", path, len(s.buf), size)
	}
	s.refs.Store(1)
	return s, nil
}

// acquire takes a reader reference; false means the segment is already
// being destroyed and must not be touched.
func (s *segment) acquire() bool {
	for {
		n := s.refs.Load()
		if n <= 0 {
			return false
		}
		if s.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// release drops one reference; the last one unmaps and closes the file and
// returns what failed doing so (also logged, since a Slice's Release cannot
// report it).
func (s *segment) release() error {
	n := s.refs.Add(-1)
	if n > 0 {
		return nil
	}
	if n < 0 {
		// A double Release is a caller bug; never unmap twice.
		s.log.Error().Str("segment", s.path).Msg("segment released more often than acquired")
		return nil
	}
	err := errors.Join(s.mapping.Unmap(), s.file.Close())
	if err != nil {
		err = fmt.Errorf("commitlog: unmap segment %s: %w", s.path, err)
		s.log.Warn().Err(err).Msg("segment destroy failed")
	}
	return err
}

// modTime is the file's last modification time (cleanup uses it, not record
// timestamps, as RocketMQ does).
func (s *segment) modTime() (time.Time, error) {
	fi, err := s.file.Stat()
	if err != nil {
		return time.Time{}, fmt.Errorf("commitlog: stat segment %s: %w", s.path, err)
	}
	return fi.ModTime(), nil
}

// guardFault runs fn, which touches mapped memory, and turns a memory fault
// (SIGBUS when the file system cannot back a page) into an error instead of
// crashing the process. Segments are allocated when created, so this is a
// backstop: for a file truncated under the broker, a device error, or a
// copy-on-write file system that needs new blocks even for allocated ones.
// Other panics are bugs and propagate.
func guardFault(fn func()) (err error) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			if _, ok := r.(interface{ Addr() uintptr }); !ok {
				panic(r)
			}
			err = fmt.Errorf("memory fault in mapped segment (disk full?): %v", r)
		}
	}()
	fn()
	return nil
}
