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
	return &indexFile{name: name, path: path, f: f, m: m, b: m.Bytes(), slots: x.cfg.HashSlots, maxItems: x.cfg.MaxItems}, nil
}

func (f *indexFile) i64(off int) int64 { return int64(binary.BigEndian.Uint64(f.b[off:])) }
func (f *indexFile) i32(off int) int32 { return int32(binary.BigEndian.Uint32(f.b[off:])) }
func (f *indexFile) setI64(off int, v int64) {
	binary.BigEndian.PutUint64(f.b[off:], uint64(v))
}
func (f *indexFile) setI32(off int, v int32) {
	binary.BigEndian.PutUint32(f.b[off:], uint32(v))
}

func (f *indexFile) beginTimestamp() int64 { return f.i64(offBeginTimestamp) }
func (f *indexFile) endTimestamp() int64   { return f.i64(offEndTimestamp) }
func (f *indexFile) endPhyOffset() int64   { return f.i64(offEndPhyOffset) }

// count is indexCount, the next item number, read as 1 when not positive
// and capped at maxItems (a corrupt header must not place items outside
// the file).
func (f *indexFile) count() int32 {
	return min(max(f.i32(offIndexCount), 1), int32(f.maxItems))
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

// slotHead is the newest item number of hash's slot; 0 when the slot is
// empty or points at an item not written yet.
func (f *indexFile) slotHead(hash int32) int32 {
	v := f.i32(f.slotPos(hash))
	if v <= 0 || v >= f.count() {
		return 0
	}
	return v
}

// startAfter sets a new file's begin and end to the previous file's end,
// as Java does when it rolls; the first put replaces the begin values.
func (f *indexFile) startAfter(prevPhy, prevTime int64) {
	if prevPhy > 0 {
		f.setI64(offBeginPhyOffset, prevPhy)
		f.setI64(offEndPhyOffset, prevPhy)
	}
	if prevTime > 0 {
		f.setI64(offBeginTimestamp, prevTime)
		f.setI64(offEndTimestamp, prevTime)
	}
	f.dirty = true
}

// put writes item count() for hash; the caller checked full. Order: item,
// header, slot (package comment, crash safety).
func (f *indexFile) put(hash int32, phys, storeTimestamp int64) {
	n := f.count()
	prev := f.slotHead(hash)
	if n <= 1 {
		f.setI64(offBeginPhyOffset, phys)
		f.setI64(offBeginTimestamp, storeTimestamp)
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

	f.setI32(offHashSlotCount, f.i32(offHashSlotCount)+1)
	f.setI32(offIndexCount, n+1)
	f.setI64(offEndPhyOffset, phys)
	f.setI64(offEndTimestamp, storeTimestamp)

	f.setI32(f.slotPos(hash), n)
	f.dirty = true
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
		p := f.itemPos(n)
		clear(f.b[p : p+ItemBytes])
		removed++
	}
	f.setI32(offIndexCount, n+1)
	f.setI32(offHashSlotCount, max(f.i32(offHashSlotCount)-int32(removed), 0))
	if n >= 1 {
		it := f.readItem(n)
		f.setI64(offEndPhyOffset, it.phys)
		f.setI64(offEndTimestamp, f.beginTimestamp()+int64(max(it.timeDiff, 0))*1000)
	} else {
		f.setI64(offEndPhyOffset, f.i64(offBeginPhyOffset))
		f.setI64(offEndTimestamp, f.beginTimestamp())
	}
	f.dirty = true
	return removed
}

// flush msyncs the whole mapping when it was written (slots are scattered
// over the file, so there is no dirty range worth tracking).
func (f *indexFile) flush() error {
	if !f.dirty {
		return nil
	}
	if err := f.m.Sync(0, len(f.b)); err != nil {
		return fmt.Errorf("index: flush %s: %w", f.path, err)
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
