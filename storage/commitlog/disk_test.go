package commitlog

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/actormq/actormq/sim/faultfs"
	"github.com/actormq/actormq/wire/message"
)

// The tests in this file run the commit log on sim/faultfs: a full disk,
// failing syncs, torn flushes, crashes at every operation, flipped bits.

const memDir = "/store/commitlog"

// openMem opens the log in memDir on fs and recovers it (abnormal: every
// segment is validated, CRC included).
func openMem(t *testing.T, fs *faultfs.FS, abnormal bool) *CommitLog {
	t.Helper()
	l, err := Open(Config{Dir: memDir, FileSize: testFileSize, FS: fs, CheckCRCOnRecover: true})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if _, err := l.Recover(abnormal, 0); err != nil {
		t.Fatalf("Recover: %v", err)
	}
	return l
}

// scanAll returns every record's offset and bytes (copied).
func scanAll(t *testing.T, l *CommitLog) map[int64][]byte {
	t.Helper()
	out := make(map[int64][]byte)
	if _, err := l.Scan(l.MinOffset(), func(off int64, rec []byte) bool {
		out[off] = append([]byte(nil), rec...)
		return true
	}); err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return out
}

// checkSurvivors checks that after a crash and recovery the log holds a
// prefix of what was appended: every record below the recovered end is
// one of recs, byte for byte, nothing else is there, and every record that
// ends at or below durable (the last successful Flush) survived.
func checkSurvivors(t *testing.T, l *CommitLog, recs []appended, durable int64) {
	t.Helper()
	end := l.WrotePosition()
	if end < durable {
		t.Fatalf("recovered end %d is below the flushed position %d", end, durable)
	}
	found := scanAll(t, l)
	for _, a := range recs {
		rec, ok := found[a.offset]
		switch {
		case endOf(a) <= durable && !ok:
			t.Fatalf("flushed record at %d lost (recovered end %d)", a.offset, end)
		case !ok:
			continue
		}
		want := append([]byte(nil), a.rec...)
		message.PatchStored(want, a.qo, a.offset, a.ts)
		if string(rec) != string(want) {
			t.Fatalf("record at %d differs from what was appended", a.offset)
		}
		delete(found, a.offset)
	}
	for off := range found {
		t.Fatalf("recovered a record at %d that was never appended", off)
	}
}

func TestDiskFullIsReadOnlyUntilProbeFindsSpace(t *testing.T) {
	fs := faultfs.New(1)
	fs.SetCapacity(2 * testFileSize)
	l := openMem(t, fs, false)
	defer l.Close()

	var recs []appended
	var err error
	for seq := 0; err == nil; seq++ {
		if seq > 1000 {
			t.Fatal("the disk never filled")
		}
		rec := testRecord(seq, bodyLenFor(seq))
		var off int64
		if off, err = l.Append(rec, int64(seq), int64(seq)); err == nil {
			recs = append(recs, appended{offset: off, rec: rec, qo: int64(seq), ts: int64(seq)})
		}
	}
	if !errors.Is(err, ErrDiskFull) || !errors.Is(err, ErrNotWritable) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Append on a full disk = %v; want ErrDiskFull, ErrNotWritable and ENOSPC", err)
	}
	if !l.DiskFull() {
		t.Fatal("DiskFull is false")
	}
	// Read-only: appends fail fast without touching the disk, flushes and
	// reads keep working.
	ops := fs.Ops()
	if _, err := l.Append(testRecord(9999, 10), 0, 1); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("second Append = %v", err)
	}
	if fs.Ops() != ops {
		t.Fatalf("a refused Append ran %d file-system operations; only Probe may retry", fs.Ops()-ops)
	}
	if flushed, err := l.Flush(); err != nil || flushed != l.WrotePosition() {
		t.Fatalf("Flush while full = %d, %v", flushed, err)
	}
	checkStored(t, l, recs[len(recs)-1])
	if err := l.Probe(); !errors.Is(err, ErrDiskFull) || !l.DiskFull() {
		t.Fatalf("Probe without space = %v (full %v)", err, l.DiskFull())
	}

	fs.SetCapacity(0)
	if err := l.Probe(); err != nil || l.DiskFull() {
		t.Fatalf("Probe with space = %v (full %v)", err, l.DiskFull())
	}
	recs = append(recs, appendN(t, l, 5000, 3)...)
	if _, err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	// No record lost or half written: a crash now keeps exactly recs.
	durable := l.FlushedPosition()
	l2 := openMem(t, fs.Crash(), true)
	defer l2.Close()
	checkSurvivors(t, l2, recs, durable)
	if n := len(scanAll(t, l2)); n != len(recs) {
		t.Fatalf("%d records after the crash, want %d", n, len(recs))
	}
	for _, e := range fs.Events() {
		if e.Kind == faultfs.KindUnbackedWrite {
			t.Fatalf("a mapped store had no space behind it: %v", e)
		}
	}
}

func TestRecoveryAllocatesTheSegmentItAppendsTo(t *testing.T) {
	const fileSize = 4 * testFileSize // pages to leave unallocated
	fs := faultfs.New(1)
	open := func() *CommitLog {
		l, err := Open(Config{Dir: memDir, FileSize: fileSize, FS: fs})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Recover(false, 0); err != nil {
			t.Fatal(err)
		}
		return l
	}
	l := open()
	recs := appendN(t, l, 0, 3)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// Make the segment sparse again, as an older version left it: copy its
	// records into a fresh file that is only sized.
	name := memDir + "/" + segmentName(0)
	data := make([]byte, endOf(recs[2]))
	f, err := fs.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadAt(data, 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := fs.Remove(name); err != nil {
		t.Fatal(err)
	}
	f, err = fs.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(fileSize); err != nil {
		t.Fatal(err)
	}
	f.Close()
	fs.SetCapacity(fs.Used())

	l = open()
	defer l.Close()
	if !l.DiskFull() {
		t.Fatal("a sparse segment on a full disk did not make the log read-only")
	}
	if _, err := l.Append(testRecord(3, 10), 0, 1); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("Append = %v", err)
	}
	checkStored(t, l, recs[1])
	fs.SetCapacity(0)
	if err := l.Probe(); err != nil {
		t.Fatal(err)
	}
	if more := appendN(t, l, 3, 1); more[0].offset != endOf(recs[2]) {
		t.Fatalf("append after Probe at %d, want %d", more[0].offset, endOf(recs[2]))
	}
}

func TestSegmentCreateErrorIsSticky(t *testing.T) {
	fs := faultfs.New(1)
	l := openMem(t, fs, false)
	defer l.Close()
	appendN(t, l, 0, 1)
	fs.Inject(faultfs.Rule{Ops: faultfs.OpCreate, Path: memDir, Kind: faultfs.KindEIO})
	var err error
	for seq := 1; err == nil; seq++ {
		if seq > 100 {
			t.Fatal("never needed a new segment")
		}
		_, err = l.Append(testRecord(seq, 300), 0, 1)
	}
	if !errors.Is(err, ErrNotWritable) || !errors.Is(err, syscall.EIO) || errors.Is(err, ErrDiskFull) {
		t.Fatalf("Append needing a segment = %v; want a sticky ErrNotWritable wrapping EIO", err)
	}
	fs.ClearRules()
	if err := l.Probe(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Probe after a sticky failure = %v", err)
	}
	if _, err := l.Append(testRecord(0, 10), 0, 1); !errors.Is(err, ErrNotWritable) {
		t.Fatalf("Append after failure = %v", err)
	}
	if _, err := l.Flush(); !errors.Is(err, ErrNotWritable) {
		t.Fatalf("Flush after failure = %v", err)
	}
}

// workload appends 40 records, flushing after every 5, then closes; it
// stops at the first error. It returns what it appended, the flushed
// position the last successful Flush reported and the first error.
func workload(fs *faultfs.FS) (recs []appended, durable int64, err error) {
	l, err := Open(Config{Dir: memDir, FileSize: testFileSize, FS: fs, CheckCRCOnRecover: true})
	if err != nil {
		return nil, 0, err
	}
	defer func() {
		if cerr := l.Close(); err == nil {
			err = cerr
		}
	}()
	if _, err := l.Recover(true, 0); err != nil {
		return nil, 0, err
	}
	for seq := range 40 {
		rec := testRecord(seq, bodyLenFor(seq))
		off, err := l.Append(rec, int64(seq), int64(seq))
		if err != nil {
			return recs, durable, err
		}
		recs = append(recs, appended{offset: off, rec: rec, qo: int64(seq), ts: int64(seq)})
		if seq%5 == 4 {
			flushed, err := l.Flush()
			if err != nil {
				return recs, durable, err
			}
			durable = flushed
		}
	}
	return recs, durable, nil
}

// A crash at every mutating operation of the workload in turn: recovery
// always keeps every flushed record and only records that were appended.
func TestCrashAtEveryOperation(t *testing.T) {
	for n := int64(1); ; n++ {
		fs := faultfs.New(uint64(n))
		fs.Inject(faultfs.Rule{Ops: faultfs.OpsMutating, Nth: n, Kind: faultfs.KindCrash})
		recs, durable, err := workload(fs)
		if len(fs.Events()) == 0 {
			if err != nil {
				t.Fatalf("run without a crash failed: %v", err)
			}
			if n < 10 {
				t.Fatalf("the workload ran only %d mutating operations", n-1)
			}
			break
		}
		if !errors.Is(err, faultfs.ErrCrashed) {
			t.Fatalf("crash at op %d surfaced as %v", n, err)
		}
		t.Run(fmt.Sprintf("op%d", n), func(t *testing.T) {
			l := openMem(t, fs.Crash(), true)
			defer l.Close()
			checkSurvivors(t, l, recs, durable)
		})
	}
}

// An EIO at every mutating operation in turn: the error surfaces, and
// what was reported durable before it survives a crash.
func TestEIOAtEveryOperation(t *testing.T) {
	for n := int64(1); ; n++ {
		fs := faultfs.New(uint64(n))
		fs.Inject(faultfs.Rule{Ops: faultfs.OpsMutating, Nth: n, Kind: faultfs.KindEIO})
		recs, durable, err := workload(fs)
		if len(fs.Events()) == 0 {
			break
		}
		if !errors.Is(err, syscall.EIO) {
			t.Fatalf("EIO at op %d (%v) did not surface: %v", n, fs.Events()[0], err)
		}
		l := openMem(t, fs.Crash(), true)
		checkSurvivors(t, l, recs, durable)
		l.Close()
	}
}

// A flush torn by a device error: the sync fails (sticky), and after a
// crash recovery cuts the log at the last whole record, so the torn one is
// never served.
func TestTornFlushIsTruncatedOnRecovery(t *testing.T) {
	for seed := range uint64(30) {
		fs := faultfs.New(seed)
		l := openMem(t, fs, false)
		recs := appendN(t, l, 0, 10)
		if _, err := l.Flush(); err != nil {
			t.Fatal(err)
		}
		durable := l.FlushedPosition()
		recs = append(recs, appendN(t, l, 10, 10)...)
		fs.Inject(faultfs.Rule{Ops: faultfs.OpMsync, Kind: faultfs.KindTorn})
		if _, err := l.Flush(); !errors.Is(err, syscall.EIO) || !errors.Is(err, ErrNotWritable) {
			t.Fatalf("torn Flush = %v", err)
		}
		if l.FlushedPosition() != durable {
			t.Fatal("a torn flush moved the flushed position")
		}
		l2 := openMem(t, fs.Crash(), true)
		checkSurvivors(t, l2, recs, durable)
		l2.Close()
	}
}

// A bit flipped in a flushed record in the middle of the log: recovery
// after a crash stops at that record, as RocketMQ's does, and cuts the log
// there. (A flip in the topic or the properties is not detectable: the
// format's CRC covers the body only.)
func TestCorruptRecordStopsRecovery(t *testing.T) {
	for _, where := range []struct {
		name string
		off  func(a appended) int64
	}{
		{"body", func(a appended) int64 {
			m, _, _ := message.DecodeRecord(a.rec, false)
			return a.offset + int64(cap(a.rec)-cap(m.Body)) + int64(len(m.Body))/2
		}},
		{"magic", func(a appended) int64 { return a.offset + 5 }},
		{"size", func(a appended) int64 { return a.offset + 1 }},
	} {
		t.Run(where.name, func(t *testing.T) {
			fs := faultfs.New(1)
			l := openMem(t, fs, false)
			recs := appendN(t, l, 0, 30)
			if _, err := l.Flush(); err != nil {
				t.Fatal(err)
			}
			victim := recs[12]
			after := fs.Crash()
			seg := memDir + "/" + segmentName(victim.offset/testFileSize*testFileSize)
			if err := after.FlipBit(seg, where.off(victim)%testFileSize, 3); err != nil {
				t.Fatal(err)
			}
			l2 := openMem(t, after, true)
			defer l2.Close()
			if l2.WrotePosition() != victim.offset {
				t.Fatalf("recovered end %d, want the corrupt record's offset %d", l2.WrotePosition(), victim.offset)
			}
			checkSurvivors(t, l2, recs, victim.offset)
			if _, _, err := l2.ReadRecord(victim.offset, true); err == nil {
				t.Fatal("the corrupt record is still served")
			}
		})
	}
}

// A newest segment a crash left half created (a failed fallocate grew it
// part of the way) holds no record: Open removes it. One that is short but
// holds data is refused, not deleted.
func TestHalfCreatedSegmentIsRemoved(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content []byte
		removed bool
	}{
		{"zeros", make([]byte, 1000), true},
		{"data", []byte("not a segment of this FileSize"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := faultfs.New(1)
			l := openMem(t, fs, false)
			recs := appendN(t, l, 0, 3)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			next := memDir + "/" + segmentName(testFileSize)
			f, err := fs.OpenFile(next, os.O_RDWR|os.O_CREATE, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteAt(tc.content, 0); err != nil {
				t.Fatal(err)
			}
			f.Close()
			l, err = Open(Config{Dir: memDir, FileSize: testFileSize, FS: fs})
			if !tc.removed {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("Open = %v, want ErrCorrupt", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if _, err := l.Recover(false, 0); err != nil {
				t.Fatal(err)
			}
			if _, err := fs.Stat(next); err == nil {
				t.Fatal("the half created segment is still there")
			}
			checkStored(t, l, recs[2])
		})
	}
}
