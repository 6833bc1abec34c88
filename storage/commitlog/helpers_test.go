package commitlog

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/actormq/actormq/storage/vfs"
	"github.com/actormq/actormq/wire/message"
)

// testFileSize is small so that a few dozen records cross several segment
// ends (and so write fillers).
const testFileSize = 4096

var (
	testBornHost  = netip.MustParseAddrPort("127.0.0.1:40000")
	testStoreHost = netip.MustParseAddrPort("127.0.0.1:10911")
)

// testRecord encodes a record whose body is bodyLen bytes derived from seq,
// so every record has distinct content and a valid CRC.
func testRecord(seq, bodyLen int) []byte {
	body := make([]byte, bodyLen)
	for i := range body {
		body[i] = byte(seq*31 + i)
	}
	m := message.Message{
		QueueID:        int32(seq % 4),
		BornTimestamp:  1_700_000_000_000 + int64(seq),
		BornHost:       testBornHost,
		StoreHost:      testStoreHost,
		Body:           body,
		Topic:          "TopicTest",
		Properties:     fmt.Sprintf("KEYS\x01k%d\x02", seq),
		PhysicalOffset: -1, // overwritten by Append
	}
	return message.AppendRecord(nil, &m)
}

// bodyLenFor varies record sizes so segment ends fall at varied positions.
func bodyLenFor(seq int) int { return 40 + (seq*97)%400 }

type appended struct {
	offset int64
	rec    []byte // as passed to Append (which patches it in place)
	qo, ts int64
}

// openTest opens dir with small segments and recovers it normally.
func openTest(t testing.TB, dir string, fs vfs.FS) *CommitLog {
	t.Helper()
	return openConfig(t, Config{Dir: dir, FileSize: testFileSize, FS: fs, CheckCRCOnRecover: true})
}

// openConfig opens cfg's log and recovers it normally.
func openConfig(t testing.TB, cfg Config) *CommitLog {
	t.Helper()
	l, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if _, err := l.Recover(false, 0); err != nil {
		t.Fatalf("Recover: %v", err)
	}
	return l
}

// recoverCrashed opens cfg's log, recovers it as after a crash, and checks
// that it ends at end and holds every one of recs. The log is closed at
// the test's end.
func recoverCrashed(t testing.TB, cfg Config, end int64, recs []appended) *CommitLog {
	t.Helper()
	l, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	if got, err := l.Recover(true, 0); err != nil || got != end {
		t.Fatalf("Recover = %d, %v; want %d", got, err, end)
	}
	for _, a := range recs {
		checkStored(t, l, a)
	}
	return l
}

// appendN appends n records numbered from first on.
func appendN(t testing.TB, l *CommitLog, first, n int) []appended {
	t.Helper()
	return putN(t, first, n, "Append", l.Append)
}

// putN puts n records numbered from first on with put (Append or Stage).
func putN(t testing.TB, first, n int, what string, put func(rec []byte, queueOffset, storeTimestamp int64) (int64, error)) []appended {
	t.Helper()
	out := make([]appended, 0, n)
	for seq := first; seq < first+n; seq++ {
		rec := testRecord(seq, bodyLenFor(seq))
		qo, ts := int64(seq*10), int64(1_800_000_000_000+seq)
		off, err := put(rec, qo, ts)
		if err != nil {
			t.Fatalf("%s #%d: %v", what, seq, err)
		}
		out = append(out, appended{offset: off, rec: rec, qo: qo, ts: ts})
	}
	return out
}

// checkStored reads a back and checks it is rec with the patched fields.
func checkStored(t testing.TB, l *CommitLog, a appended) {
	t.Helper()
	s, err := l.Read(a.offset, len(a.rec))
	if err != nil {
		t.Fatalf("Read(%d, %d): %v", a.offset, len(a.rec), err)
	}
	defer s.Release()
	m, n, err := message.DecodeRecord(s.B, true)
	if err != nil || n != len(a.rec) {
		t.Fatalf("DecodeRecord at %d: n=%d err=%v", a.offset, n, err)
	}
	if m.PhysicalOffset != a.offset || m.QueueOffset != a.qo || m.StoreTimestamp != a.ts {
		t.Fatalf("record at %d: phys %d queueOffset %d storeTs %d, want %d %d %d",
			a.offset, m.PhysicalOffset, m.QueueOffset, m.StoreTimestamp, a.offset, a.qo, a.ts)
	}
	want := append([]byte(nil), a.rec...)
	message.PatchStored(want, a.qo, a.offset, a.ts)
	if string(s.B) != string(want) {
		t.Fatalf("record at %d differs from the patched input", a.offset)
	}
}

// segPath is the file of the segment holding offset.
func segPath(dir string, offset int64) string {
	return filepath.Join(dir, segmentName(offset/testFileSize*testFileSize))
}

// writeAt overwrites bytes of the log file holding global offset off.
func writeAt(t testing.TB, dir string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(segPath(dir, off), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off%testFileSize); err != nil {
		t.Fatal(err)
	}
}

// readFile returns the whole segment file holding offset.
func readFile(t testing.TB, dir string, off int64) []byte {
	t.Helper()
	b, err := os.ReadFile(segPath(dir, off))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func be32(b []byte) int32 { return int32(binary.BigEndian.Uint32(b)) }

// faultFS wraps the OS file system to inject errors and count mapping calls.
type faultFS struct {
	vfs.FS
	syncErr  atomic.Bool // Mapping.Sync returns EIO
	syncs    atomic.Int32
	unmaps   atomic.Int32
	skipSync bool // Mapping.Sync does nothing (noSyncFS)
}

func newFaultFS() *faultFS { return &faultFS{FS: vfs.Default} }

// noSyncFS is the OS file system minus the syncs, for the fuzz target, which
// checks parsing, not durability, and must run many inputs per second.
type noSyncFS struct{ faultFS }

func newNoSyncFS() *noSyncFS {
	fs := &noSyncFS{faultFS{FS: vfs.Default}}
	fs.skipSync = true
	return fs
}

func (*noSyncFS) SyncDir(string) error { return nil }

func (f *faultFS) OpenFile(name string, flag int, perm os.FileMode) (vfs.File, error) {
	file, err := f.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f}, nil
}

type faultFile struct {
	vfs.File
	fs *faultFS
}

func (f *faultFile) Mmap(length int) (vfs.Mapping, error) {
	m, err := f.File.Mmap(length)
	if err != nil {
		return nil, err
	}
	return &faultMapping{Mapping: m, fs: f.fs}, nil
}

type faultMapping struct {
	vfs.Mapping
	fs *faultFS
}

func (m *faultMapping) Sync(off, n int) error {
	m.fs.syncs.Add(1)
	if m.fs.syncErr.Load() {
		return syscall.EIO
	}
	if m.fs.skipSync {
		return nil
	}
	return m.Mapping.Sync(off, n)
}

func (m *faultMapping) Unmap() error {
	m.fs.unmaps.Add(1)
	return m.Mapping.Unmap()
}

// stageOne stages rec, one whole record, with StageRun and returns its
// physical offset; a call that staged anything but all of rec fails t.
func stageOne(t testing.TB, l *CommitLog, rec []byte, queueOffset, storeTimestamp int64) (int64, error) {
	t.Helper()
	off, n, err := l.StageRun(rec, queueOffset, storeTimestamp)
	if err == nil && n != len(rec) {
		t.Fatalf("StageRun of one %d-byte record staged %d bytes", len(rec), n)
	}
	return off, err
}
