package vfs

import (
	"bytes"
	"errors"
	"io"

	"golang.org/x/sys/unix"
)

// zeroChunkBytes is the granularity at which ZeroTail looks for non-zero
// bytes: writing zeros over an already-zero page would still dirty it (and
// give blocks to a hole), so only chunks holding data are cleared.
const zeroChunkBytes = 4096

var zeroChunk [zeroChunkBytes]byte

// DataRegions returns the byte ranges of f in [from, size) that may hold
// non-zero bytes, ascending: its data regions when the file system reports
// them (lseek SEEK_DATA and SEEK_HOLE, for a File that is an io.Seeker, as
// Default's are through *os.File; pages written but not yet on disk count as
// data), else [from, size). Holes (never written, or allocated and unwritten)
// read as zeros. It moves f's file offset, so only the goroutine that owns
// f may call it, and only while nothing reads or writes f at its offset
// (the store reads and writes its mapped files through mappings and
// ReadAt/WriteAt).
func DataRegions(f File, from, size int64) [][2]int64 {
	whole := [][2]int64{{from, size}}
	ds, ok := f.(io.Seeker)
	if !ok || from >= size {
		return whole
	}
	var out [][2]int64
	for off := from; off < size; {
		d, err := ds.Seek(off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			break // no data after off
		}
		if err != nil {
			return append(out, [2]int64{off, size}) // not supported here: check the rest
		}
		h, err := ds.Seek(d, unix.SEEK_HOLE)
		if err != nil {
			return append(out, [2]int64{d, size})
		}
		if d >= size {
			break
		}
		out = append(out, [2]int64{d, min(h, size)})
		off = h
	}
	return out
}

// ZeroTail clears b[from:], where b is a shared mapping of f from offset 0,
// and returns the range [lo, hi) it changed (lo == hi when the tail was zero
// already), for the caller to msync. It reads only f's data regions
// (DataRegions) and writes only the 4 KiB chunks in them that hold a
// non-zero byte: checking a whole tail through the mapping would fault every
// page of it in (with readahead), which for a mostly empty 1 GiB segment or
// 10,000 consume-queue files took seconds to minutes at start. Same
// goroutine rules as DataRegions; nothing else may write b meanwhile.
func ZeroTail(f File, b []byte, from int) (lo, hi int) {
	lo, hi = -1, -1
	for _, r := range DataRegions(f, int64(from), int64(len(b))) {
		for off := int(r[0]); off < int(r[1]); {
			end := min((off/zeroChunkBytes+1)*zeroChunkBytes, int(r[1]))
			if chunk := b[off:end]; !bytes.Equal(chunk, zeroChunk[:len(chunk)]) {
				clear(chunk)
				if lo < 0 {
					lo = off
				}
				hi = end
			}
			off = end
		}
	}
	if lo < 0 {
		return 0, 0
	}
	return lo, hi
}
