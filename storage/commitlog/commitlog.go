// Package commitlog owns the CommitLog: one append-only log of message records
// in fixed-size mapped segment files named by their 20-digit start offset
// (storage-format.md §2, §3, §7.3, §9, §11).
//
// Directory (FileSize = F, default 1 GiB):
//
//	<Dir>/00000000000000000000   global offsets [0, F)
//	<Dir>/00000000001073741824   global offsets [F, 2F)
//	...                          always contiguous; the oldest is deleted first
//
// The byte at global offset o lives in the segment starting at o/F*F, at
// position o%F. Every segment file is created at its full size and mapped
// whole, read-write and shared.
//
// Inside a segment, records (codec in wire/message) sit back to back. A record
// never spans segments: when recordLen + 8 > bytes left, the segment is closed
// with a blank filler and the record goes to the start of the next segment:
//
//	+---------+---------+------+------------+---------+--------------------+
//	| record  | record  | ...  | bytesLeft  | BLANK   | unused (zeros)     |
//	|         |         |      | int32 BE   | int32 BE|                    |
//	+---------+---------+------+------------+---------+--------------------+
//	                           ^ filler: bytesLeft = F - position, BLANK =
//	                             -875286124 (0xCBD43194)
//
// Record header fields this package reads or writes (big-endian):
//
//	offset size field
//	0      4    TOTALSIZE   whole record length; 0 marks the end of data
//	4      4    MAGICCODE   V1 -626843481, V2 -626843477, BLANK as above
//	20     8    QUEUEOFFSET     patched by Append
//	28     8    PHYSICALOFFSET  patched by Append = the record's global offset
//	56/68  8    STORETIMESTAMP  patched by Append (68 with an IPv6 born host)
//
// Positions: WrotePosition is the end of the last committed record (published
// atomically after its bytes are written to the segment file, so any
// goroutine that reads it may read everything below it through the mapping:
// Linux's page cache backs both); FlushedPosition is the end of msynced
// data; MinOffset is the start of the oldest segment.
//
// Writes: the writer stages a group's records where they are, in its own
// buffers (StageRun, which patches them there), and Commit writes the group
// to the segment file with pwritev (one call per 8 buffers); nothing
// stores into the mapping.
// Why: a store into a mapped page makes it writable-mapped, so each
// write-back (every SYNC_FLUSH flush) write-protects it again
// (page_mkclean, with TLB-shootdown IPIs to the other CPUs) and the next
// store re-faults it (ext4_page_mkwrite).
// Pages written by pwrite are never mapped writable: the flush writes them
// back without touching page tables. RocketMQ's transientStorePoolEnable
// also writes through the file channel, but from a pool of off-heap
// buffers committed asynchronously, with reads of uncommitted data served
// from the pool; here Commit is synchronous per group and reads always go
// to the mapping, so no config key selects it.
//
// Lifecycle, in order:
//  1. Open maps the existing segments.
//  2. Recover validates the tail, truncates a torn one, after a crash syncs
//     what it keeps, and sets the positions.
//  3. Scan re-reads records for re-dispatch (store package).
//  4. StageRun/Commit or Append (one writer) and Flush (one flusher) run concurrently; Read,
//     Scan and DeleteExpiredFiles may run on any goroutine; CreateAhead or
//     PrefaultWritten (one goroutine) creates the next segment before the
//     roll needs it, the latter also writing zeros over the pages ahead of
//     the write position and writing them back (prefault.go).
//  5. Close commits what is staged, flushes and unmaps.
package commitlog

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/actormq/actormq/storage/vfs"
)

// Sentinel errors; every error this package returns wraps one of them or an
// error of the file system.
var (
	// ErrNotWritable is returned by Append after a write or flush failure made
	// the log read-only (sticky), and when the disk is full.
	ErrNotWritable = errors.New("commitlog: not writable")
	// ErrDiskFull is wrapped (with ErrNotWritable) by Append's error while
	// the log is read-only for lack of space: not sticky, Probe ends it.
	ErrDiskFull = errors.New("commitlog: disk full")
	// ErrOffsetNotFound: a read below MinOffset (deleted), at or beyond the
	// write position, or across a segment end.
	ErrOffsetNotFound = errors.New("commitlog: offset not found")
	// ErrRecordTooLarge: the record plus the 8-byte filler reserve does not fit
	// in an empty segment.
	ErrRecordTooLarge = errors.New("commitlog: record larger than a segment")
	// ErrInvalidRecord: Append got bytes that are not one encoded record.
	ErrInvalidRecord = errors.New("commitlog: invalid record")
	// ErrCorrupt: the directory or the stored bytes break the format (segment
	// gap, wrong file size, broken framing met by Scan).
	ErrCorrupt = errors.New("commitlog: corrupt")
	// ErrClosed: the log was closed.
	ErrClosed = errors.New("commitlog: closed")
)

// FileSizeDefault is RocketMQ's mappedFileSizeCommitLog default (1 GiB).
const FileSizeDefault int64 = 1 << 30

// fileSizeMin keeps room for at least one minimal record plus the filler;
// tests use small segments to cross segment ends often.
const fileSizeMin int64 = 256

// Config configures a CommitLog. It is not changed after Open.
type Config struct {
	Dir               string
	FileSize          int64 // mapedFileSizeCommitLog; 0 means FileSizeDefault
	FS                vfs.FS
	CheckCRCOnRecover bool
	Logger            zerolog.Logger // zero value: no logging
}

// Validate fills defaults and rejects impossible settings.
func (c *Config) Validate() error {
	if c.Dir == "" {
		return errors.New("commitlog: Config.Dir is empty")
	}
	if c.FileSize == 0 {
		c.FileSize = FileSizeDefault
	}
	// The filler stores bytesLeft as an int32, so a segment is at most 2 GiB-1.
	if c.FileSize < fileSizeMin || c.FileSize > math.MaxInt32 {
		return fmt.Errorf("commitlog: FileSize %d outside [%d, %d]", c.FileSize, fileSizeMin, math.MaxInt32)
	}
	if c.FS == nil {
		c.FS = vfs.Default
	}
	return nil
}

// CommitLog is the log. Goroutine contract: StageRun/Commit/Append/Recover/
// Close from the single writer (the commitlog-writer actor); Flush from one
// flusher at a time; CreateAhead/PrefaultWritten from one prefaulter at a
// time (calls serialize); Read/Scan/
// WrotePosition/FlushedPosition/MinOffset/DeleteExpiredFiles from any
// goroutine.
type CommitLog struct{ impl *commitLog }

type commitLog struct {
	cfg  Config
	log  zerolog.Logger
	segs segmentQueue

	wrote   atomic.Int64 // end of committed data; stored after the bytes
	flushed atomic.Int64 // end of msynced data
	// failed holds the sticky write/flush error; once set it never clears
	// (never retry an fsync: the kernel may have dropped the dirty pages).
	failed atomic.Pointer[error]
	// full holds the error of the roll (or allocation) that found no space;
	// while set, Append refuses records and Probe retries. Written by the
	// writer only.
	full   atomic.Pointer[error]
	closed atomic.Bool

	recovered     bool       // writer-only: Append refuses to run before Recover
	recoveredFrom int64      // writer-only: start of the segment Recover validated from
	flushMu       sync.Mutex // one Flush at a time, also against Close's flush
	pre           prefaultState
	stage         stageState // writer only (append.go)
}

// Open maps the existing segment files; call Recover before appending.
func Open(cfg Config) (*CommitLog, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	l := &commitLog{cfg: cfg, log: cfg.Logger.With().Str("component", "commitlog").Logger()}
	l.segs.fileSize = cfg.FileSize
	if err := l.loadSegments(); err != nil {
		return nil, err
	}
	return &CommitLog{impl: l}, nil
}

// Recover validates records (normal: from the third-last file; abnormal: from
// the newest file whose first record is older than minTimestamp), truncates
// the torn tail and returns the end of the last valid record, which becomes
// the write and flushed position. After a crash (abnormal) it also msyncs
// the records it validated and keeps: they may be only in the page cache,
// and appends must not be flushed and acknowledged after records that a
// power cut would still lose. A failing sync fails Recover (and the log is
// not writable). Called once by the writer before Append.
func (l *CommitLog) Recover(abnormal bool, minTimestamp int64) (int64, error) {
	return l.impl.recover(abnormal, minTimestamp)
}

// RecoveryStart is the start offset of the segment Recover began validating
// at: the third-last segment for a normal recovery, for an abnormal one the
// newest segment whose first record was stored at or before minTimestamp
// (else the oldest); 0 for an empty log. The store re-dispatches an abnormal
// recovery from there, so both walk the same records. Call it after Recover,
// on the goroutine that called Recover.
func (l *CommitLog) RecoveryStart() int64 { return l.impl.recoveredFrom }

// Append is StageRun of one record followed by Commit: the record patched
// (in rec), written and published. Writer goroutine only.
func (l *CommitLog) Append(rec []byte, queueOffset, storeTimestamp int64) (int64, error) {
	pos, err := l.impl.append(rec, queueOffset, storeTimestamp)
	if err != nil {
		return pos, err
	}
	return pos, l.impl.commit(0)
}

// StageRun adds the whole encoded records back to back at the start of
// recs (one record, or the records of a batch message) to the staged group
// at the next write position, with queue offsets queueOffset,
// queueOffset+1, ..., patching those, the physical offsets and
// storeTimestamp into the records themselves. It returns the first
// record's physical offset and the bytes staged: at least the first
// record, and as many of the following as pass the same checks and fit
// the first one's segment (the records are contiguous in the log, so each
// one's offset is the first's plus the sizes before it). The caller stages
// the rest with more calls; one that cannot stage its first record returns
// the error and stages nothing. Per record after the first only TOTALSIZE
// and MAGICCODE are checked and the stored fields patched: the state
// checks and the staging run once per call.
//
// The log keeps the records, without copying them, until the next Commit
// (or the commit inside a later call, or Close) has written them: the
// caller must not change or reuse their bytes before then. Records staged
// back to back in one buffer are written as one piece. They reach their
// segment file, and WrotePosition, at the next Commit; until then no
// reader sees them. A first record that does not fit in the segment closes
// it with a blank filler and goes to the next one: the roll writes and
// publishes what was staged for the old segment first, as does staging
// more than stageMax bytes. Writer goroutine only.
func (l *CommitLog) StageRun(recs []byte, queueOffset, storeTimestamp int64) (int64, int, error) {
	return l.impl.appendRun(recs, queueOffset, storeTimestamp)
}

// Commit writes the staged records to their segment file (pwritev) and
// then publishes their end as WrotePosition. A failed write is sticky, as a
// failed flush is: the records staged are lost and the log refuses
// appends. Commit also returns the sticky error when nothing was left to
// write: a StageRun that rolled may have failed writing the records staged
// before it, which its caller may already count as stored. Writer
// goroutine only.
func (l *CommitLog) Commit() error {
	if err := l.impl.commit(0); err != nil {
		return err
	}
	return l.impl.stickyErr()
}

// Flush makes everything appended so far durable (msync) and returns the
// flushed offset. A failure is sticky: the log stops accepting appends and
// later Flush calls return the same error without syncing again. One flusher
// goroutine at a time, concurrent with Append.
func (l *CommitLog) Flush() (int64, error) { return l.impl.flush() }

// DiskFull reports whether the log is read-only for lack of space: Append
// then fails at once with an error wrapping ErrDiskFull and ErrNotWritable
// until Probe finds space. Any goroutine.
func (l *CommitLog) DiskFull() bool { return l.impl.full.Load() != nil }

// Probe retries what found no space (creating the next segment, or
// allocating the one appends continue in) and returns nil once the log is
// writable again; an error wrapping ErrDiskFull while space is still
// lacking; the sticky error if the retry failed otherwise (or the log had
// failed before). A no-op returning nil when the disk is not full. Writer
// goroutine, on a timer: never per record, so that a full disk costs one
// file creation per probe, not one per send.
func (l *CommitLog) Probe() error { return l.impl.probe() }

// WrotePosition is the end offset of appended data. Any goroutine.
func (l *CommitLog) WrotePosition() int64 { return l.impl.wrote.Load() }

// FlushedPosition is the end offset of durable data. Any goroutine.
func (l *CommitLog) FlushedPosition() int64 { return l.impl.flushed.Load() }

// MinOffset is the start offset of the oldest segment (the write position
// when there is none). Any goroutine.
func (l *CommitLog) MinOffset() int64 {
	return l.impl.minOffset()
}

// Close commits what is staged, flushes and unmaps everything (segments
// still held by a Slice are unmapped on their last Release). It returns the sticky error if the log
// failed, so the caller knows the shutdown was not clean. Writer goroutine,
// after the flusher stopped; idempotent.
func (l *CommitLog) Close() error { return l.impl.close() }

// fail records err as the sticky failure (the first one wins) and returns the
// error callers see, which wraps ErrNotWritable and err.
func (l *commitLog) fail(err error) error {
	wrapped := fmt.Errorf("%w: %w", ErrNotWritable, err)
	if l.failed.CompareAndSwap(nil, &wrapped) {
		l.log.Error().Err(err).Msg("commitlog is no longer writable")
		return wrapped
	}
	return *l.failed.Load()
}

// growFailed classifies a failure to make room for records: lack of space
// (ENOSPC, EDQUOT) makes the log read-only until Probe succeeds; anything
// else is sticky.
func (l *commitLog) growFailed(err error) error {
	if !errors.Is(err, syscall.ENOSPC) && !errors.Is(err, syscall.EDQUOT) {
		return l.fail(err)
	}
	wrapped := fmt.Errorf("%w: %w: %w", ErrNotWritable, ErrDiskFull, err)
	if l.full.Swap(&wrapped) == nil {
		l.log.Warn().Err(err).Msg("commitlog read-only: no space for the next segment")
	}
	return wrapped
}

func (l *commitLog) probe() error {
	if err := l.stickyErr(); err != nil {
		return err
	}
	if l.full.Load() == nil {
		return nil
	}
	if l.closed.Load() {
		return ErrClosed
	}
	pos := l.wrote.Load()
	if seg := l.segs.last(); seg != nil && pos < seg.end {
		if err := l.allocate(seg); err != nil {
			return err
		}
	} else if _, err := l.roll(pos); err != nil {
		return err
	}
	l.full.Store(nil)
	l.log.Info().Int64("wrotePosition", pos).Msg("commitlog writable again")
	return nil
}

// allocate gives seg, which appends continue in, its disk blocks (see
// createSegment). Writer only.
func (l *commitLog) allocate(seg *segment) error {
	if seg.allocated {
		return nil
	}
	if err := seg.file.Allocate(0, seg.end-seg.start); err != nil {
		return l.growFailed(fmt.Errorf("commitlog: allocate segment %s: %w", seg.path, err))
	}
	seg.allocated = true
	return nil
}

// stickyErr returns the sticky failure or nil.
func (l *commitLog) stickyErr() error {
	if p := l.failed.Load(); p != nil {
		return *p
	}
	return nil
}

func (l *commitLog) close() error {
	if !l.closed.CompareAndSwap(false, true) {
		return nil
	}
	cerr := l.commit(0) // what a writer staged and did not Commit
	_, err := l.flush()
	errs := []error{cerr, err, l.dropNext()}
	for _, s := range l.segs.removeAll() {
		errs = append(errs, s.release())
	}
	return errors.Join(errs...)
}
