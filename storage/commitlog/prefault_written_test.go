package commitlog

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A process killed (kill -9) while PrefaultWritten had written zeros ahead
// of the write position, into the newest segment and into the next one
// created ahead of the roll, recovers exactly: the log ends after the last
// record (flushed or only in the page cache, as a killed process leaves
// them), a torn record after it is cleared, the next segment is deleted,
// and appends go on from there. The killed log is left open, unclosed, as
// the dead process's page cache would be; a second log recovers the same
// files.
func TestCrashWithWrittenZerosAheadRecoversExactly(t *testing.T) {
	for _, torn := range []bool{false, true} {
		name := "clean tail"
		if torn {
			name = "torn record after the last"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := Config{Dir: dir, FileSize: prefaultFileSize, CheckCRCOnRecover: true}
			dead, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := dead.Recover(false, 0); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { dead.Close() }) // after the survivor; errors expected

			recs := appendN(t, dead, 0, 20)
			if _, err := dead.Flush(); err != nil {
				t.Fatal(err)
			}
			// Past the newest segment's end: the next one is created and
			// its start written too.
			ahead := int64(prefaultFileSize + prefaultFileSize/4)
			if _, err := dead.PrefaultWritten(ahead); err != nil {
				t.Fatal(err)
			}
			if dead.impl.pre.next == nil {
				t.Fatal("PrefaultWritten did not create the next segment")
			}
			recs = append(recs, appendN(t, dead, 20, 30)...) // not flushed
			end := dead.WrotePosition()
			if end >= prefaultFileSize {
				t.Fatalf("records reached the next segment (end %d): the test wants them in the first", end)
			}
			seg := filepath.Join(dir, segmentName(0))
			if torn {
				// Half a record's header, as a kill during a store leaves.
				f, err := os.OpenFile(seg, os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				_, err = f.WriteAt(testRecord(99, 100)[:24], end)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			checkWrittenAhead(t, seg, end)

			l := recoverCrashed(t, cfg, end, recs)
			if _, err := os.Stat(filepath.Join(dir, segmentName(prefaultFileSize))); !os.IsNotExist(err) {
				t.Fatalf("segment created ahead survived recovery: %v", err)
			}
			seg0, err := os.ReadFile(seg)
			if err != nil {
				t.Fatal(err)
			}
			tail := seg0[end:]
			if i := bytes.IndexFunc(tail, func(r rune) bool { return r != 0 }); i >= 0 {
				t.Fatalf("non-zero byte at %d after the recovered end %d", end+int64(i), end)
			}
			more := appendN(t, l, 50, 10)
			if more[0].offset != end {
				t.Fatalf("append after recovery at %d, want %d", more[0].offset, end)
			}
			if _, err := l.Flush(); err != nil {
				t.Fatal(err)
			}
			for _, a := range append(recs, more...) {
				checkStored(t, l, a)
			}
		})
	}
}

// checkWrittenAhead fails if a block of the file at path past end (from its
// next page on) is still allocated but unwritten (FIEMAP: ext4 and xfs
// report such extents with FIEMAP_EXTENT_UNWRITTEN), the state
// PrefaultWritten exists to end. File systems without FIEMAP skip the check.
func checkWrittenAhead(t *testing.T, path string, end int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	page := int64(os.Getpagesize())
	from := (end + page - 1) / page * page
	const (
		fsIocFiemap      = 0xC020660B // _IOWR('f', 11, struct fiemap)
		extentUnwritten  = 0x800
		maxExtents       = 64
		fiemapHeader     = 32
		fiemapExtentSize = 56
	)
	buf := make([]byte, fiemapHeader+maxExtents*fiemapExtentSize)
	le := binary.LittleEndian
	le.PutUint64(buf[0:], uint64(from))
	le.PutUint64(buf[8:], uint64(prefaultFileSize-from))
	le.PutUint32(buf[24:], maxExtents) // fm_extent_count
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), fsIocFiemap, uintptr(unsafe.Pointer(&buf[0]))); errno != 0 {
		t.Logf("FIEMAP on %s: %v; not checking the blocks ahead", path, errno)
		return
	}
	n := int(le.Uint32(buf[20:])) // fm_mapped_extents
	covered := from
	for i := range n {
		e := buf[fiemapHeader+i*fiemapExtentSize:]
		logical, length, flags := int64(le.Uint64(e[0:])), int64(le.Uint64(e[16:])), le.Uint32(e[40:])
		if flags&extentUnwritten != 0 {
			t.Fatalf("%s: extent [%d, %d) past the write position %d is unwritten after PrefaultWritten", path, logical, logical+length, end)
		}
		covered = max(covered, logical+length)
	}
	if covered < prefaultFileSize {
		t.Fatalf("%s: extents past %d reach %d only, want %d", path, from, covered, prefaultFileSize)
	}
}
