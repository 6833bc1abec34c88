// Package index owns the IndexFiles under <storePathRootDir>/index/: hash
// indexes from "topic#key" to commit-log offsets, byte-compatible with
// RocketMQ's (storage-format.md §5), used by QUERY_MESSAGE.
//
// One file, named by its creation time yyyyMMddHHmmssSSS (local time), is
// 40 + HashSlots×4 + MaxItems×20 bytes (defaults: 420,000,040), created at
// full size (sparse; disk blocks are allocated a 64 KiB chunk at a time
// before the first store into it, so a full disk is an error, not a SIGBUS)
// and mapped whole:
//
//	+----------------------+-----------------------+--------------------------+
//	| header (40 bytes)    | HashSlots int32 slots | MaxItems items, 20 bytes |
//	+----------------------+-----------------------+--------------------------+
//
// Header (big-endian):
//
//	+--------+------+-------------------------------------------------------+
//	| offset | size | field                                                 |
//	+--------+------+-------------------------------------------------------+
//	|      0 |    8 | beginTimestamp: store time of the first item          |
//	|      8 |    8 | endTimestamp: store time of the record at             |
//	|        |      | endPhyOffset                                          |
//	|     16 |    8 | beginPhyOffset: commit-log offset of the first item   |
//	|     24 |    8 | endPhyOffset: commit-log offset of the newest item,   |
//	|        |      | or of a newer record indexed without keys (Advance)   |
//	|     32 |    4 | hashSlotCount: items ever put (Java counts every put) |
//	|     36 |    4 | indexCount: next item number; starts at 1 (0 or less  |
//	|        |      | on disk reads as 1), item 0 is never used             |
//	+--------+------+-------------------------------------------------------+
//
// Slot s holds the number of the newest item whose keyHash % HashSlots = s
// (0 = none). Item n sits at 40 + HashSlots×4 + n×20:
//
//	+--------+------+-------------------------------------------------------+
//	| offset | size | field                                                 |
//	+--------+------+-------------------------------------------------------+
//	|      0 |    4 | keyHash: |Java String.hashCode(key)| (0 for MinInt32)  |
//	|      4 |    8 | commit-log offset of the record                       |
//	|     12 |    4 | timeDiff: (storeTime − beginTimestamp) / 1000 seconds |
//	|     16 |    4 | previous item number in the same slot (0 = none)      |
//	+--------+------+-------------------------------------------------------+
//
// A file is full when indexCount reaches MaxItems; the next file starts with
// begin = end = the full file's end. Items are put in commit-log order, so
// within a file offsets and times only grow along every chain.
//
// Crash safety: put stores the item, then the slot, into the mapping; the
// header's new counts and end stay in memory until flush has made those
// items and slots durable, and only then is the header stored and synced.
// So whatever a crash keeps (kill -9: every store into the mapping; a power
// cut: what the flushes made durable, a torn flush included), the durable
// header never names an end past items it counts (nor past records Advance
// was told are indexed): re-indexing starts at endPhyOffset, Put skips
// only keys already reachable for that offset, and
// a slot naming an item past indexCount is followed down that item's chain.
// At every start the caller truncates the index to the recovered commit
// log (TruncateFrom), for what a power loss took from the log and for a
// file a crash left just after a roll.
package index

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"time"

	"github.com/actormq/actormq/storage/vfs"
	"github.com/rs/zerolog"
)

// Format sizes and RocketMQ's defaults.
const (
	HeaderBytes      = 40
	SlotBytes        = 4
	ItemBytes        = 20
	HashSlotsDefault = 5_000_000  // maxHashSlotNum
	MaxItemsDefault  = 20_000_000 // maxIndexNum
)

// Sentinel errors.
var (
	// ErrConfig rejects sizes that cannot make a file.
	ErrConfig = errors.New("index: invalid config")
	// ErrCorrupt reports an index file whose size does not match the
	// configured slot and item counts.
	ErrCorrupt = errors.New("index: corrupt index file")
	// ErrClosed is returned by calls after Close.
	ErrClosed = errors.New("index: closed")
)

// Config configures Open.
type Config struct {
	Dir       string // <storePathRootDir>/index
	HashSlots int    // maxHashSlotNum; 0 means HashSlotsDefault
	MaxItems  int    // maxIndexNum; 0 means MaxItemsDefault
	FS        vfs.FS // default vfs.Default
	// Now names new files; nil means time.Now.
	Now    func() time.Time
	Logger zerolog.Logger
}

// Validate fills defaults and rejects sizes Java could not map either (a
// file is at most MaxInt32 bytes).
func (c *Config) Validate() error {
	if c.Dir == "" {
		return fmt.Errorf("%w: Dir is empty", ErrConfig)
	}
	if c.HashSlots == 0 {
		c.HashSlots = HashSlotsDefault
	}
	if c.MaxItems == 0 {
		c.MaxItems = MaxItemsDefault
	}
	if c.HashSlots < 1 || c.MaxItems < 2 {
		return fmt.Errorf("%w: maxHashSlotNum %d must be >= 1 and maxIndexNum %d >= 2", ErrConfig, c.HashSlots, c.MaxItems)
	}
	if size := int64(HeaderBytes) + int64(c.HashSlots)*SlotBytes + int64(c.MaxItems)*ItemBytes; size > math.MaxInt32 {
		return fmt.Errorf("%w: maxHashSlotNum %d and maxIndexNum %d make %d-byte files, above %d",
			ErrConfig, c.HashSlots, c.MaxItems, size, math.MaxInt32)
	}
	if c.FS == nil {
		c.FS = vfs.Default
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// FileBytes is the size of one file.
func (c *Config) FileBytes() int { return HeaderBytes + c.HashSlots*SlotBytes + c.MaxItems*ItemBytes }

// Index is the ordered set of index files. Goroutine contract: every method
// from one goroutine at a time (the index actor owns it).
type Index struct {
	cfg      Config
	log      zerolog.Logger
	files    []*indexFile // ascending creation time; the last one is written
	dirMade  bool
	lastName time.Time // creation time of the newest file name
	closed   bool
	touched  byte // PutKeys' sum of the slots it read ahead; never used
}

// Open loads the files in cfg.Dir (none yet is fine). Names that are not 17
// digits are ignored; a file of the wrong size is refused (the slot and item
// counts changed, so every position in it would be misread), except an
// empty one, left by a crash while it was being created, which is sized.
func Open(cfg Config) (*Index, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	x := &Index{cfg: cfg, log: cfg.Logger.With().Str("component", "index").Logger()}
	entries, err := cfg.FS.ReadDir(cfg.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return x, nil
	}
	if err != nil {
		return nil, fmt.Errorf("index: list %s: %w", cfg.Dir, err)
	}
	x.dirMade = true
	var names []string
	for _, e := range entries {
		if _, ok := parseFileName(e.Name()); e.IsDir() || !ok {
			x.log.Warn().Str("file", e.Name()).Msg("ignoring foreign file in index directory")
			continue
		}
		names = append(names, e.Name())
	}
	slices.Sort(names)
	for _, name := range names {
		f, err := x.mapFile(name, false)
		if err != nil {
			x.releaseAll()
			return nil, err
		}
		x.files = append(x.files, f)
		created, _ := parseFileName(name)
		x.lastName = created
	}
	return x, nil
}

// Put indexes topic#key for the record at phys stored at storeTimestamp
// and reports whether an item was written. Records below the newest file's
// endPhyOffset are skipped, and so is a key already reachable for the
// record at endPhyOffset: re-indexing after a restart starts there. A full
// file is flushed and a new one started. topic and key are only read
// during the call (they may alias a mapped record).
func (x *Index) Put(topic, key string, phys, storeTimestamp int64) (bool, error) {
	if x.closed {
		return false, ErrClosed
	}
	return x.putHash(KeyHash(topic, key), phys, storeTimestamp)
}

// Key is one key to index: the KeyHash of topic#key, and the commit-log
// offset and store time of its record.
type Key struct {
	Hash                 int32
	Phys, StoreTimestamp int64
}

// PutKeys indexes keys in order, each as Put would, and returns how many
// items it wrote. Its first pass only reads the slot of every key, so that
// their cache and TLB misses overlap (the loads do not depend on each
// other) instead of each put waiting for its own: the slot table is 20 MB
// (default) read at random, and in a file in use a put's slot read was
// most of its cost (BenchmarkPutKeys: 290–380 CPU-ns a key one at a time,
// 80–220 in batches of 8 or 32). Prefetch instructions, the alternative,
// Go does not offer. Reading a slot needs no disk block (a hole reads as
// zeros); put allocates before it stores, as for Put.
func (x *Index) PutKeys(keys []Key) (int, error) {
	if x.closed {
		return 0, ErrClosed
	}
	if n := len(x.files); n > 0 {
		f := x.files[n-1]
		var sum byte
		for _, k := range keys {
			sum += f.b[f.slotPos(k.Hash)]
		}
		x.touched += sum // keeps the loads
	}
	wrote := 0
	for _, k := range keys {
		ok, err := x.putHash(k.Hash, k.Phys, k.StoreTimestamp)
		if err != nil {
			return wrote, err
		}
		if ok {
			wrote++
		}
	}
	return wrote, nil
}

// putHash is Put of a key whose hash is known.
func (x *Index) putHash(hash int32, phys, storeTimestamp int64) (bool, error) {
	var f *indexFile
	if n := len(x.files); n > 0 {
		f = x.files[n-1]
		end := f.endPhyOffset()
		if phys < end || (phys == end && x.hasAtEnd(hash, phys)) {
			return false, nil
		}
	}
	if f == nil || f.full() {
		var prevPhy, prevTime int64
		if f != nil {
			if err := f.flush(); err != nil {
				return false, err
			}
			prevPhy, prevTime = f.endPhyOffset(), f.endTimestamp()
		}
		var err error
		if f, err = x.createFile(prevPhy, prevTime); err != nil {
			return false, err
		}
	}
	if err := f.put(hash, phys, storeTimestamp); err != nil {
		return false, err
	}
	return true, nil
}

// hasAtEnd reports whether a file holds hash's item for phys, the newest
// file's end offset. The record's keys may straddle a roll (the first in
// the file that filled, the rest in the new one, which starts at that end):
// so the files before the newest are asked too while their end is phys.
// Asking the newest file alone put such a key again when the record was
// read twice (a restart resumes at the end offset; the index actor's
// start-up scan can stop within a group commit whose IndexBatch follows).
func (x *Index) hasAtEnd(hash int32, phys int64) bool {
	for i := len(x.files) - 1; i >= 0 && x.files[i].endPhyOffset() == phys; i-- {
		if x.files[i].has(hash, phys) {
			return true
		}
	}
	return false
}

// Advance records that the record at phys, stored at storeTimestamp, and
// every record before it are indexed, whether they had keys or not: it
// moves the newest file's end (endPhyOffset, endTimestamp) to that record
// if it lies beyond, creating the first file when there is none (as Java
// does at the first record it dispatches). phys must be a record start.
// The new end is durable after the next Flush, like the items before it.
//
// Without it the end moves only with an item, so a commit log whose
// newest records carry no keys (batches, whose items get no UNIQ_KEY) was
// read again from the newest item at every start, or from 0 without any:
// after a kill -9 with 4 GiB of batches, all 4 GiB. Java keeps no such
// position: after a crash it deletes every index file newer than the
// checkpoint's indexMsgTimestamp, stored when a file fills, and re-indexes
// only what the commit log's recovery re-dispatches (the segments from the
// checkpoint's older timestamp, minus 3 s, on), so keys of the deleted
// files' older records are lost unless messageIndexSafe. Keeping the
// position in the header keeps the files as Java writes them: readers use
// endPhyOffset only as "indexed up to here" (Java skips records below it;
// QUERY_MESSAGE reports it).
func (x *Index) Advance(phys, storeTimestamp int64) error {
	if x.closed {
		return ErrClosed
	}
	if n := len(x.files); n > 0 {
		x.files[n-1].advance(phys, storeTimestamp)
		return nil
	}
	f, err := x.createFile(0, 0)
	if err != nil {
		return err
	}
	f.advance(phys, storeTimestamp)
	return nil
}

// Query returns up to maxNum commit-log offsets, ascending and distinct,
// of items whose hash equals topic#key's and whose time (second precision)
// lies in [begin, end]. Files are walked newest first (§5). Hash collisions
// are possible: callers check the records' keys.
func (x *Index) Query(topic, key string, maxNum int, begin, end int64) []int64 {
	if x.closed || maxNum <= 0 {
		return nil
	}
	hash := KeyHash(topic, key)
	var out []int64
	for i := len(x.files) - 1; i >= 0; i-- {
		f := x.files[i]
		if f.timeMatched(begin, end) {
			out = f.selectOffsets(out, hash, maxNum, begin, end)
		}
		if f.beginTimestamp() < begin || len(out) >= maxNum {
			break
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// LastUpdate is the newest file's endTimestamp and endPhyOffset (QUERY_MESSAGE's
// indexLastUpdateTimestamp/indexLastUpdatePhyoffset); zeros without files.
func (x *Index) LastUpdate() (timestamp, phyOffset int64) {
	if x.closed || len(x.files) == 0 {
		return 0, 0
	}
	f := x.files[len(x.files)-1]
	return f.endTimestamp(), f.endPhyOffset()
}

// EndPhyOffset is the commit-log offset indexing resumes from: the newest
// file's endPhyOffset (a record start), 0 without files.
func (x *Index) EndPhyOffset() int64 {
	_, phy := x.LastUpdate()
	return phy
}

// TruncateFrom drops every item pointing at or beyond phys, newest first,
// restoring the slots they headed, moves an end at or beyond phys back to
// the newest item left, and deletes the newest files that hold no item
// and no end of their own. The owner calls it at start with the recovered
// commit-log end: after a power loss the index may hold records the commit
// log lost, and its endPhyOffset would otherwise make Put skip the records
// written there next. An itemless newest file is also what a crash right
// after a roll leaves (its header possibly still zero); dropping it makes
// the end offset that of the file before, instead of 0, which would index
// the whole commit log again. An itemless file whose end lies below phys
// and beyond the file before's end (Advance's, flushed) is kept: that end
// is where indexing resumes.
func (x *Index) TruncateFrom(phys int64) error {
	if x.closed {
		return ErrClosed
	}
	for len(x.files) > 0 {
		f := x.files[len(x.files)-1]
		kept := f.endPhyOffset() < phys
		if !kept {
			if removed := f.truncateFrom(phys); removed > 0 {
				x.log.Warn().Str("file", f.name).Int("items", removed).Int64("from", phys).
					Msg("index items beyond the commit log dropped")
			}
		}
		var prevEnd int64
		if n := len(x.files); n > 1 {
			prevEnd = x.files[n-2].endPhyOffset()
		}
		if f.count() > 1 || (kept && f.endPhyOffset() > prevEnd) {
			return nil
		}
		if err := x.removeFile(len(x.files) - 1); err != nil {
			return err
		}
	}
	return nil
}

// DeleteBelow deletes the oldest files whose endPhyOffset is below
// commitLogMin (their records were deleted by retention, §11), never the
// newest file, and returns how many went.
func (x *Index) DeleteBelow(commitLogMin int64) (int, error) {
	if x.closed {
		return 0, ErrClosed
	}
	deleted := 0
	for len(x.files) > 1 && x.files[0].endPhyOffset() < commitLogMin {
		if err := x.removeFile(0); err != nil {
			return deleted, err
		}
		deleted++
	}
	if deleted > 0 {
		x.log.Info().Int("deleted", deleted).Int64("commitLogMin", commitLogMin).Msg("deleted expired index files")
	}
	return deleted, nil
}

// Flush msyncs every file written since the last Flush.
func (x *Index) Flush() error {
	if x.closed {
		return ErrClosed
	}
	var errs []error
	for _, f := range x.files {
		errs = append(errs, f.flush())
	}
	return errors.Join(errs...)
}

// Close flushes and unmaps every file. Later calls return nil.
func (x *Index) Close() error {
	if x.closed {
		return nil
	}
	err := x.Flush()
	x.closed = true
	return errors.Join(err, x.releaseAll())
}

func (x *Index) releaseAll() error {
	var errs []error
	for _, f := range x.files {
		errs = append(errs, f.release())
	}
	x.files = nil
	return errors.Join(errs...)
}

// createFile makes the next file, its begin and end set to the previous
// file's end (Java's roll), and appends it to x.files.
func (x *Index) createFile(prevPhy, prevTime int64) (*indexFile, error) {
	if !x.dirMade {
		if err := vfs.MkdirAllSynced(x.cfg.FS, x.cfg.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("index: create %s: %w", x.cfg.Dir, err)
		}
		x.dirMade = true
	}
	f, err := x.mapFile(x.nextName(), true)
	if err != nil {
		return nil, err
	}
	if err := x.cfg.FS.SyncDir(x.cfg.Dir); err != nil {
		f.release()
		return nil, fmt.Errorf("index: sync %s: %w", x.cfg.Dir, err)
	}
	f.startAfter(prevPhy, prevTime)
	x.files = append(x.files, f)
	x.log.Info().Str("file", f.name).Int64("beginPhyOffset", prevPhy).Msg("index file created")
	return f, nil
}

// nextName names a new file by the current time, moved one millisecond past
// the newest file's name if needed so names stay unique and ascending.
func (x *Index) nextName() string {
	t := x.cfg.Now().Truncate(time.Millisecond)
	if !t.After(x.lastName) {
		t = x.lastName.Add(time.Millisecond)
	}
	x.lastName = t
	return formatFileName(t)
}

// removeFile unmaps and deletes x.files[i].
func (x *Index) removeFile(i int) error {
	f := x.files[i]
	x.files = slices.Delete(x.files, i, i+1)
	err := f.release()
	if rerr := x.cfg.FS.Remove(f.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		err = errors.Join(err, fmt.Errorf("index: remove %s: %w", f.path, rerr))
	}
	if serr := x.cfg.FS.SyncDir(x.cfg.Dir); serr != nil {
		err = errors.Join(err, fmt.Errorf("index: sync %s: %w", x.cfg.Dir, serr))
	}
	return err
}
