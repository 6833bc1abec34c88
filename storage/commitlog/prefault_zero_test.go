package commitlog

import (
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actormq/actormq/storage/vfs"
)

// zeroRaceFS is the OS file system whose files opened while armed (the
// descriptor PrefaultWritten opens to write zeros and write back) hold
// their first write until records were appended, or a bounded while: a
// writer the zeroing protocol lets through commits under that write.
type zeroRaceFS struct {
	vfs.FS
	armed    atomic.Bool
	held     atomic.Bool
	zeroing  chan struct{} // closed when the held write starts
	appended chan struct{} // closed by the test once its appends returned
}

func (z *zeroRaceFS) OpenFile(name string, flag int, perm os.FileMode) (vfs.File, error) {
	f, err := z.FS.OpenFile(name, flag, perm)
	if err != nil || !z.armed.Load() {
		return f, err
	}
	return &zeroRaceFile{File: f, wb: f.(vfs.WriteBacker), fs: z}, nil
}

type zeroRaceFile struct {
	vfs.File
	wb vfs.WriteBacker
	fs *zeroRaceFS
}

func (f *zeroRaceFile) WriteAt(b []byte, off int64) (int, error) {
	if !f.fs.held.Swap(true) {
		close(f.fs.zeroing)
		// With the protocol the appends wait for this write (zeroMu), so
		// the bound runs out and the test passes either way; without it
		// they commit here and the zeros below land on their records.
		select {
		case <-f.fs.appended:
		case <-time.After(500 * time.Millisecond):
		}
	}
	return f.File.WriteAt(b, off)
}

func (f *zeroRaceFile) WriteBack(off, n int64) error { return f.wb.WriteBack(off, n) }

// TestPrefaultWrittenZerosNeverOverwriteCommits: PrefaultWritten writes
// zeros from the write position on; records committed while it writes
// (here: appended while its first pwrite of zeros is held) read back
// intact, in memory and after a recovery from the files.
func TestPrefaultWrittenZerosNeverOverwriteCommits(t *testing.T) {
	dir := t.TempDir()
	fs := &zeroRaceFS{FS: vfs.Default, zeroing: make(chan struct{}), appended: make(chan struct{})}
	cfg := Config{Dir: dir, FileSize: prefaultFileSize, FS: fs, CheckCRCOnRecover: true}
	l := openConfig(t, cfg)
	recs := appendN(t, l, 0, 3)
	fs.armed.Store(true)
	during := make(chan []appended, 1)
	go func() {
		<-fs.zeroing
		during <- appendN(t, l, 3, 10) // t.Fatalf here is a test bug: appends do not fail
		close(fs.appended)
	}()
	if _, err := l.PrefaultWritten(prefaultFileSize / 2); err != nil {
		t.Fatal(err)
	}
	if !fs.held.Load() {
		t.Fatal("PrefaultWritten wrote no zeros")
	}
	recs = append(recs, <-during...)
	if end := l.WrotePosition(); end >= prefaultFileSize/2 {
		t.Fatalf("records end at %d, past the zeroed range: the test wants them inside", end)
	}
	for _, a := range recs {
		checkStored(t, l, a)
	}
	end := l.WrotePosition()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	recoverCrashed(t, Config{Dir: dir, FileSize: prefaultFileSize, CheckCRCOnRecover: true}, end, recs)
}
