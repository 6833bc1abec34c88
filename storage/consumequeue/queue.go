package consumequeue

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/actormq/actormq/storage/vfs"
	"github.com/rs/zerolog"
)

// queue is the implementation behind ConsumeQueue.
//
// Concurrency: the owner goroutine (queue actor) is the only one that writes
// units or changes files; it reads files without a lock. Other goroutines
// read units only below the published maxOffset, which the owner stores
// after writing them, and hold mu shared while they copy units out so that
// the owner cannot unmap a file under them. The owner takes mu exclusively
// to add, remove or clear files.
//
// Layout: the fields a Put in sequence reads and writes come first,
// together (56 bytes: one or two cache lines, as the allocator places the
// object), and tail takes it to its slot without walking files and cqFile:
// with 10,000 queues each Put finds its queue cold, and each pointer it
// followed was one more cache miss in a chain (slotForWrite alone was
// 0.1–0.15 CPU-µs a message in the scale run; the Put's remaining cost is
// the store into a page of one of 10,000 mappings, a TLB and cache miss).
type queue struct {
	closed      atomic.Bool
	maxOffset   atomic.Int64
	minOffset   atomic.Int64
	maxPhysical atomic.Int64
	fileSize    int64
	// tail is the allocated rest of the newest file from queue offset
	// maxOffset on, for the next unit in sequence (put); nil when unknown.
	// Owner only. Set by put after a unit written the long way (which
	// clears it first, so a failure leaves none), cleared where the end
	// moves back (cutLocked); deleteBelow never removes the newest file,
	// and after Close put stops at closed before it could use it.
	tail []byte

	cfg          Config
	fs           vfs.FS
	log          zerolog.Logger
	dir          string
	unitsPerFile int64
	dirExists    bool // the queue directory exists (durable once syncEntries ran)

	mu    sync.RWMutex
	files []*cqFile // contiguous, ascending start

	// flushMu serializes Flush with itself and with changes that move the
	// end backwards. Lock order: flushMu before mu.
	flushMu sync.Mutex
	flushed int64 // queue byte offset known durable; guarded by flushMu
	// started (>= flushed; guarded by flushMu) is the byte offset up to
	// which a round by pages started write-back (startWriteBackLocked):
	// the units below it are on their way to disk, not durable, and the
	// next Flush still msyncs them from flushed on.
	started int64
	// unflushGen counts unflushFrom calls and restarts (guarded by
	// flushMu): EndFlush ignores a FlushMark taken before the latest.
	unflushGen int64
	// flushErr is the first flush failure, sticky (guarded by flushMu;
	// read.go, failLocked).
	flushErr error
	// writeErr is the first failed write of a unit on the owner's side
	// (putFailed: a file that could not be made, the directory fsync a
	// roll runs), sticky like flushErr, which the next flush makes it
	// (stickyLocked). Put refuses every later unit with it: a later unit
	// would leave a gap that the next Put fills with fillers, which the
	// restart's re-dispatch keeps (Repair never rewrites a filler), so the
	// message would be lost from the queue for good.
	writeErr atomic.Pointer[error]

	// Directory entries of new files and directories are made durable by
	// syncEntries, normally on Flush's goroutine (entries.go). createdGen
	// counts creations (owner only writes it); syncedGen is the count a
	// directory fsync has covered; dirEntries lists the entries of the
	// queue directory and its ancestors (ensureDir) while they may wait
	// for a sync.
	createdGen atomic.Int64
	syncedGen  atomic.Int64
	dirEntries atomic.Pointer[[]dirEntry]
	// dirMu serializes the fsyncs of the queue directory (syncEntries), so
	// that one that succeeds after another failed cannot count the
	// failed one's entries durable; dirErr (guarded by dirMu) is the
	// first failure, sticky like Dirs' dirRecord.failed.
	dirMu  sync.Mutex
	dirErr error
}

func openQueue(cfg Config) (*queue, error) {
	if cfg.FileSize == 0 {
		cfg.FileSize = FileSizeDefault
	}
	if cfg.FileSize < 0 || cfg.FileSize%UnitBytes != 0 {
		return nil, fmt.Errorf("consumequeue: file size %d is not a positive multiple of %d", cfg.FileSize, UnitBytes)
	}
	if cfg.FS == nil {
		cfg.FS = vfs.Default
	}
	if cfg.Dirs == nil {
		cfg.Dirs = NewDirs()
	}
	// The topic becomes a directory name: refuse anything that would leave
	// the queue's own directory. A negative queue id would make a directory
	// that the store's scan of queue directories skips.
	if cfg.Topic == "" || cfg.Topic == "." || cfg.Topic == ".." || strings.ContainsAny(cfg.Topic, `/\`+"\x00") {
		return nil, fmt.Errorf("%w: %q", ErrBadName, cfg.Topic)
	}
	if cfg.QueueID < 0 {
		return nil, fmt.Errorf("%w: queue id %d", ErrBadName, cfg.QueueID)
	}
	q := &queue{
		cfg:          cfg,
		fs:           cfg.FS,
		log:          cfg.Logger.With().Str("topic", cfg.Topic).Int32("queue", cfg.QueueID).Logger(),
		dir:          filepath.Join(cfg.RootDir, cfg.Topic, strconv.FormatInt(int64(cfg.QueueID), 10)),
		fileSize:     cfg.FileSize,
		unitsPerFile: cfg.FileSize / UnitBytes,
	}
	if err := q.load(); err != nil {
		for _, cf := range q.files {
			cf.release()
		}
		return nil, err
	}
	return q, nil
}

// load maps the queue's files and recovers its end.
func (q *queue) load() error {
	entries, err := q.fs.ReadDir(q.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("consumequeue: list %s: %w", q.dir, err)
	}
	q.dirExists = true
	var starts []int64
	for _, e := range entries {
		start, ok := parseFileName(e.Name())
		if e.IsDir() || !ok {
			q.log.Warn().Str("file", e.Name()).Msg("ignoring foreign file in consume queue directory")
			continue
		}
		if start%q.fileSize != 0 {
			return fmt.Errorf("%w: %s/%s is not at a file boundary of size %d", ErrCorrupt, q.dir, e.Name(), q.fileSize)
		}
		if n := len(starts); n > 0 && start != starts[n-1]+q.fileSize {
			return fmt.Errorf("%w: %s: file %s does not follow %s", ErrCorrupt, q.dir, e.Name(), fileName(starts[n-1]))
		}
		starts = append(starts, start)
	}
	for _, start := range starts {
		cf, err := q.mapFile(start, false)
		if err != nil {
			return err
		}
		q.files = append(q.files, cf)
	}
	return q.recover()
}

// recover finds the end of the valid units (§7.2: scan from the third-last
// file; the first unit with offset < 0 or size <= 0 ends the queue), clears
// everything after it and derives the published offsets.
func (q *queue) recover() error {
	if len(q.files) == 0 {
		return nil
	}
	end := q.files[len(q.files)-1].start + q.fileSize
scan:
	for _, cf := range q.files[max(0, len(q.files)-3):] {
		for p := int64(0); p < q.fileSize; p += UnitBytes {
			if !validUnit(readUnit(cf.b[p:])) {
				end = cf.start + p
				break scan
			}
		}
	}
	if err := q.cutLocked(end); err != nil {
		return err
	}
	n := end / UnitBytes
	q.maxOffset.Store(n)
	q.maxPhysical.Store(q.lastPhysical(n))
	q.minOffset.Store(q.firstMessage(q.files[0].start/UnitBytes, n, 0))
	q.flushed, q.started = end, end
	q.log.Debug().Int64("min", q.minOffset.Load()).Int64("max", n).Int64("maxPhysical", q.maxPhysical.Load()).Msg("consume queue recovered")
	return nil
}

// slot returns the 20 bytes of queue offset off, or nil when no file holds
// it. REQUIRES the owner goroutine or q.mu held (shared is enough).
func (q *queue) slot(off int64) []byte {
	if len(q.files) == 0 {
		return nil
	}
	pos := off*UnitBytes - q.files[0].start
	if pos < 0 {
		return nil
	}
	i := pos / q.fileSize
	if i >= int64(len(q.files)) {
		return nil
	}
	p := pos % q.fileSize
	return q.files[i].b[p : p+UnitBytes]
}

// lastPhysical is the commit-log end of the newest message unit below n.
// REQUIRES the owner goroutine.
func (q *queue) lastPhysical(n int64) int64 {
	if len(q.files) == 0 {
		return 0
	}
	for off := n - 1; off >= q.files[0].start/UnitBytes; off-- {
		if u := readUnit(q.slot(off)); !u.IsFiller() {
			return u.CommitLogOffset + int64(u.Size)
		}
	}
	return 0
}

// firstMessage is the offset of the first non-filler unit in [from, n)
// pointing at or above commitLogMin; n when there is none.
// REQUIRES the owner goroutine.
func (q *queue) firstMessage(from, n, commitLogMin int64) int64 {
	for off := from; off < n; off++ {
		b := q.slot(off)
		if b == nil {
			continue
		}
		if u := readUnit(b); !u.IsFiller() && u.CommitLogOffset >= commitLogMin {
			return off
		}
	}
	return n
}

// cutLocked makes byte offset end the end of the queue: files starting at or
// after it are deleted (the first file is always kept, so the queue keeps its
// offsets even when it ends up empty), and the rest of the file holding end
// is cleared. REQUIRES the owner goroutine and q.mu held exclusively (or no
// other goroutine knowing q yet).
func (q *queue) cutLocked(end int64) error {
	keep := len(q.files)
	for keep > 1 && q.files[keep-1].start >= end {
		keep--
	}
	var errs []error
	for _, cf := range q.files[keep:] {
		errs = append(errs, q.removeFile(cf))
	}
	removed := len(q.files) > keep
	q.files = q.files[:keep]
	q.tail = nil // the end moves: put finds its slot the long way
	last := q.files[keep-1]
	if pos := end - last.start; pos < q.fileSize {
		errs = append(errs, last.zeroTail(int(max(pos, 0))))
	}
	if removed {
		if err := q.fs.SyncDir(q.dir); err != nil {
			errs = append(errs, fmt.Errorf("consumequeue: sync %s: %w", q.dir, err))
		}
	}
	return errors.Join(errs...)
}

// removeFile unmaps, closes and deletes cf.
func (q *queue) removeFile(cf *cqFile) error {
	err := cf.release()
	path := filepath.Join(q.dir, fileName(cf.start))
	if rerr := q.fs.Remove(path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		err = errors.Join(err, fmt.Errorf("consumequeue: remove %s: %w", path, rerr))
	}
	return err
}
