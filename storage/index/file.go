package index

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/actormq/actormq/storage/vfs"
)

// Header field offsets (package comment).
const (
	offBeginTimestamp = 0
	offEndTimestamp   = 8
	offBeginPhyOffset = 16
	offEndPhyOffset   = 24
	offHashSlotCount  = 32
	offIndexCount     = 36
)

// Item field offsets.
const (
	itemHash     = 0
	itemPhy      = 4
	itemTimeDiff = 12
	itemPrev     = 16
)

// fileNameLayout is yyyyMMddHHmmss; three digits of milliseconds follow.
const (
	fileNameLayout = "20060102150405"
	fileNameDigits = 17
)

// indexFile is one mapped file. Every read of a slot or a chain link is
// bounds-checked against the header, so a corrupt file yields wrong answers,
// never a panic or a loop.
type indexFile struct {
	name     string
	path     string
	f        vfs.File
	m        vfs.Mapping
	b        []byte
	slots    int
	maxItems int
	dirty    bool // written since the last flush
	// h is the header as the index knows it. Items and slots are stored
	// into the mapping as they are put; h only by flush, once the items
	// and slots it counts are durable (flush).
	h header
	// allocated is a bit per allocChunkBytes chunk known to have disk
	// blocks (allocate).
	allocated []uint64
}

// header is the decoded 40-byte file header (package comment).
type header struct {
	beginTimestamp, endTimestamp int64
	beginPhyOffset, endPhyOffset int64
	hashSlotCount, indexCount    int32
}

func (h *header) decode(b []byte) {
	be := binary.BigEndian
	h.beginTimestamp = int64(be.Uint64(b[offBeginTimestamp:]))
	h.endTimestamp = int64(be.Uint64(b[offEndTimestamp:]))
	h.beginPhyOffset = int64(be.Uint64(b[offBeginPhyOffset:]))
	h.endPhyOffset = int64(be.Uint64(b[offEndPhyOffset:]))
	h.hashSlotCount = int32(be.Uint32(b[offHashSlotCount:]))
	h.indexCount = int32(be.Uint32(b[offIndexCount:]))
}

func (h *header) encode(b []byte) {
	be := binary.BigEndian
	be.PutUint64(b[offBeginTimestamp:], uint64(h.beginTimestamp))
	be.PutUint64(b[offEndTimestamp:], uint64(h.endTimestamp))
	be.PutUint64(b[offBeginPhyOffset:], uint64(h.beginPhyOffset))
	be.PutUint64(b[offEndPhyOffset:], uint64(h.endPhyOffset))
	be.PutUint32(b[offHashSlotCount:], uint32(h.hashSlotCount))
	be.PutUint32(b[offIndexCount:], uint32(h.indexCount))
}

// item is one decoded 20-byte item.
type item struct {
	hash     int32
	phys     int64
	timeDiff int32
	prev     int32
}

func formatFileName(t time.Time) string {
	return t.Format(fileNameLayout) + fmt.Sprintf("%03d", t.Nanosecond()/int(time.Millisecond))
}

// parseFileName returns the creation time a file name encodes.
func parseFileName(name string) (time.Time, bool) {
	if len(name) != fileNameDigits {
		return time.Time{}, false
	}
	for i := 0; i < len(name); i++ {
		if name[i] < '0' || name[i] > '9' {
			return time.Time{}, false
		}
	}
	t, err := time.ParseInLocation(fileNameLayout, name[:14], time.Local)
	if err != nil {
		return time.Time{}, false
	}
	ms := int(name[14]-'0')*100 + int(name[15]-'0')*10 + int(name[16]-'0')
	return t.Add(time.Duration(ms) * time.Millisecond), true
}

// mapFile opens (create: creates) the file name in the index directory and
// maps it whole.
func (x *Index) mapFile(name string, create bool) (*indexFile, error) {
	path := filepath.Join(x.cfg.Dir, name)
	size := x.cfg.FileBytes()
	flag := os.O_RDWR
	if create {
		flag |= os.O_CREATE | os.O_EXCL
	}
	f, err := x.cfg.FS.OpenFile(path, flag, 0o644)
	if err != nil {
		return nil, fmt.Errorf("index: open %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("index: stat %s: %w", path, err)
	}
	switch have := st.Size(); {
	case have == int64(size):
	case have == 0:
		if !create {
			x.log.Warn().Str("file", name).Msg("empty index file (crash while creating it) sized")
		}
		// Sized, not allocated: put allocates each chunk before its first
		// store into it (allocate).
		if err := f.Truncate(int64(size)); err != nil {
			f.Close()
			return nil, fmt.Errorf("index: size %s: %w", path, err)
		}
	default:
		f.Close()
		return nil, fmt.Errorf("%w: %s is %d bytes, maxHashSlotNum %d and maxIndexNum %d make %d "+
			"(delete the index directory to rebuild it from the commit log)",
			ErrCorrupt, path, have, x.cfg.HashSlots, x.cfg.MaxItems, size)
	}
	m, err := f.Mmap(size)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("index: map %s: %w", path, err)
	}
	file := &indexFile{name: name, path: path, f: f, m: m, b: m.Bytes(), slots: x.cfg.HashSlots, maxItems: x.cfg.MaxItems,
		allocated: make([]uint64, (size/allocChunkBytes+64)/64)}
	file.h.decode(file.b)
	return file, nil
}

// allocChunkBytes is the unit in which put allocates a file's disk blocks,
// before its first store into a chunk: a store into a page of a sparse file
// on a full disk raises SIGBUS and kills the broker, while fallocate meets
// ENOSPC and returns it. Allocating a whole file (420 MB by default) at
// creation was rejected for the disk it takes before holding anything;
// page by page would be a system call per 204 items. Items fill the file in
// order, so they take a chunk every 3,276; slots are scattered, so their
// 20 MB (default) fill within the first few thousand puts, as a sparse
// file's pages would.
const allocChunkBytes = 64 << 10

// allocate makes sure [pos, pos+n) of the file has disk blocks. The set of
// allocated chunks starts empty for every mapping, also of a file that
// exists: fallocate of an allocated range is cheap and changes nothing.
func (f *indexFile) allocate(pos, n int) error {
	for c := pos / allocChunkBytes; c <= (pos+n-1)/allocChunkBytes; c++ {
		if f.allocated[c/64]&(1<<(c%64)) != 0 {
			continue
		}
		lo := c * allocChunkBytes
		hi := min(lo+allocChunkBytes, len(f.b))
		if err := f.f.Allocate(int64(lo), int64(hi-lo)); err != nil {
			return fmt.Errorf("index: allocate %s [%d,%d): %w", f.path, lo, hi, err)
		}
		f.allocated[c/64] |= 1 << (c % 64)
	}
	return nil
}

func (f *indexFile) i64(off int) int64 { return int64(binary.BigEndian.Uint64(f.b[off:])) }
func (f *indexFile) i32(off int) int32 { return int32(binary.BigEndian.Uint32(f.b[off:])) }
func (f *indexFile) setI64(off int, v int64) {
	binary.BigEndian.PutUint64(f.b[off:], uint64(v))
}
func (f *indexFile) setI32(off int, v int32) {
	binary.BigEndian.PutUint32(f.b[off:], uint32(v))
}

func (f *indexFile) beginTimestamp() int64 { return f.h.beginTimestamp }
func (f *indexFile) endTimestamp() int64   { return f.h.endTimestamp }
func (f *indexFile) endPhyOffset() int64   { return f.h.endPhyOffset }

// count is indexCount, the next item number, read as 1 when not positive
// and capped at maxItems (a corrupt header must not place items outside
// the file).
func (f *indexFile) count() int32 {
	return min(max(f.h.indexCount, 1), int32(f.maxItems))
}

func (f *indexFile) full() bool { return int(f.count()) >= f.maxItems }

// slotPos is the slot of hash. The unsigned modulo keeps a negative hash
// read from a corrupt item inside the slot table; for hashes KeyHash
// returns (never negative) it equals hash % slots.
func (f *indexFile) slotPos(hash int32) int {
	return HeaderBytes + int(uint32(hash)%uint32(f.slots))*SlotBytes
}

func (f *indexFile) itemPos(n int32) int {
	return HeaderBytes + f.slots*SlotBytes + int(n)*ItemBytes
}

func (f *indexFile) readItem(n int32) item {
	p := f.itemPos(n)
	return item{
		hash:     f.i32(p + itemHash),
		phys:     f.i64(p + itemPhy),
		timeDiff: f.i32(p + itemTimeDiff),
		prev:     f.i32(p + itemPrev),
	}
}

// slotHead is the newest item number of hash's slot below indexCount; 0
// when the slot is empty. A slot naming an item at or past indexCount (a
// crash kept the slots of the last flush but not its header; flush writes
// the items before either) is followed down that item's chain, which is
// durable, to the newest counted item: the older items stay reachable.
func (f *indexFile) slotHead(hash int32) int32 {
	v := f.i32(f.slotPos(hash))
	for n := f.count(); v >= n && v < int32(f.maxItems); {
		prev := f.readItem(v).prev
		if prev >= v {
			return 0
		}
		v = prev
	}
	if v <= 0 || v >= f.count() {
		return 0
	}
	return v
}

// startAfter sets a new file's begin and end to the previous file's end,
// as Java does when it rolls; the first put replaces the begin values.
func (f *indexFile) startAfter(prevPhy, prevTime int64) {
	if prevPhy > 0 {
		f.h.beginPhyOffset, f.h.endPhyOffset = prevPhy, prevPhy
	}
	if prevTime > 0 {
		f.h.beginTimestamp, f.h.endTimestamp = prevTime, prevTime
	}
	f.dirty = true
}

// put writes item count() for hash; the caller checked full. Order: item,
// header, slot (package comment, crash safety).
func (f *indexFile) put(hash int32, phys, storeTimestamp int64) error {
	n := f.count()
	if err := f.allocate(f.itemPos(n), ItemBytes); err != nil {
		return err
	}
	if err := f.allocate(f.slotPos(hash), SlotBytes); err != nil {
		return err
	}
	prev := f.slotHead(hash)
	if n <= 1 {
		f.h.beginPhyOffset, f.h.beginTimestamp = phys, storeTimestamp
	}
	var timeDiff int64
	if begin := f.beginTimestamp(); begin > 0 {
		timeDiff = min(max((storeTimestamp-begin)/1000, 0), math.MaxInt32)
	}
	p := f.itemPos(n)
	f.setI32(p+itemHash, hash)
	f.setI64(p+itemPhy, phys)
	f.setI32(p+itemTimeDiff, int32(timeDiff))
	f.setI32(p+itemPrev, prev)

	f.h.hashSlotCount++
	f.h.indexCount = n + 1
	f.h.endPhyOffset, f.h.endTimestamp = phys, storeTimestamp

	f.setI32(f.slotPos(hash), n)
	f.dirty = true
	return nil
}

// advance moves the end to the record at phys stored at storeTimestamp
// when it lies beyond (Index.Advance); like put's, the new end reaches the
// header with the next flush.
func (f *indexFile) advance(phys, storeTimestamp int64) {
	if phys > f.h.endPhyOffset {
		f.h.endPhyOffset, f.h.endTimestamp = phys, storeTimestamp
		f.dirty = true
	}
}

// has reports whether hash's chain holds an item for phys. Chains grow in
// commit-log order, so the walk stops at the first older offset.
func (f *indexFile) has(hash int32, phys int64) bool {
	for n := f.slotHead(hash); n > 0; {
		it := f.readItem(n)
		if it.phys < phys {
			return false
		}
		if it.hash == hash && it.phys == phys {
			return true
		}
		if it.prev <= 0 || it.prev >= n {
			return false
		}
		n = it.prev
	}
	return false
}

// timeMatched reports whether [begin, end] overlaps the file's time range
// (Java's isTimeMatched).
func (f *indexFile) timeMatched(begin, end int64) bool {
	fb, fe := f.beginTimestamp(), f.endTimestamp()
	return (begin < fb && end > fe) || (begin >= fb && begin <= fe) || (end >= fb && end <= fe)
}

// selectOffsets appends to out, until it holds maxNum, the offsets of
// hash's chain whose time lies in [begin, end]; the walk stops at the
// chain's end or at the first item older than begin.
func (f *indexFile) selectOffsets(out []int64, hash int32, maxNum int, begin, end int64) []int64 {
	fileBegin := f.beginTimestamp()
	for n := f.slotHead(hash); n > 0 && len(out) < maxNum; {
		it := f.readItem(n)
		if it.timeDiff < 0 {
			break
		}
		t := fileBegin + int64(it.timeDiff)*1000
		if it.hash == hash && t >= begin && t <= end {
			out = append(out, it.phys)
		}
		// prev must name an older item: that bounds the walk on any bytes.
		if it.prev <= 0 || it.prev >= n || t < begin {
			break
		}
		n = it.prev
	}
	return out
}

// truncateFrom removes the newest items pointing at or beyond phys (each
// slot that names a removed item gets that item's predecessor back) and
// sets the header's end to the newest remaining item. It returns how many
// items went.
func (f *indexFile) truncateFrom(phys int64) int {
	n := f.count() - 1
	removed := 0
	for ; n >= 1; n-- {
		it := f.readItem(n)
		if it.phys < phys {
			break
		}
		if sp := f.slotPos(it.hash); f.i32(sp) == n {
			prev := it.prev
			if prev < 0 || prev >= n {
				prev = 0
			}
			f.setI32(sp, prev)
		}
		// A zero item (a hole a crash left) is not stored into: that
		// would take a block, which a full disk may not have.
		if p := f.itemPos(n); it != (item{}) {
			clear(f.b[p : p+ItemBytes])
		}
		removed++
	}
	f.h.indexCount = n + 1
	f.h.hashSlotCount = max(f.h.hashSlotCount-int32(removed), 0)
	if n >= 1 {
		it := f.readItem(n)
		f.h.endPhyOffset = it.phys
		f.h.endTimestamp = f.h.beginTimestamp + int64(max(it.timeDiff, 0))*1000
	} else {
		f.h.endPhyOffset, f.h.endTimestamp = f.h.beginPhyOffset, f.h.beginTimestamp
	}
	f.dirty = true
	return removed
}

// flush makes the file durable when it was written, in order (slots are
// scattered over the file, so there is no dirty range worth tracking):
//  1. msync the items and the slots: everything but the header, whose
//     bytes in the mapping are still those of the last flush;
//  2. store the header (h) into the mapping and msync it.
//
// A crash or an error before step 2 leaves the old header durable: it
// names an end the items below it reach, so re-indexing starts early
// enough, and a durable slot naming an item past the old indexCount is
// followed down its chain (slotHead). Storing the header with each put, as
// Java does, lets a crash keep a header whose items or slots were lost,
// and the records between would never be indexed again. The header is 40
// bytes inside one sector, which a device writes whole.
func (f *indexFile) flush() error {
	if !f.dirty {
		return nil
	}
	if err := f.m.Sync(HeaderBytes, len(f.b)-HeaderBytes); err != nil {
		return fmt.Errorf("index: flush %s: %w", f.path, err)
	}
	if err := f.allocate(0, HeaderBytes); err != nil {
		return err
	}
	f.h.encode(f.b)
	if err := f.m.Sync(0, HeaderBytes); err != nil {
		return fmt.Errorf("index: flush header of %s: %w", f.path, err)
	}
	f.dirty = false
	return nil
}

// release unmaps and closes the file, keeping it on disk.
func (f *indexFile) release() error {
	err := f.m.Unmap()
	f.b = nil
	if cerr := f.f.Close(); err == nil {
		err = cerr
	}
	return err
}
