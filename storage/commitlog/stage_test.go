package commitlog

import (
	"bytes"
	"errors"
	"syscall"
	"testing"

	"github.com/actormq/actormq/sim/faultfs"
	"github.com/actormq/actormq/storage/vfs"
)

// stageN stages n records numbered from first on, without committing.
func stageN(t *testing.T, l *CommitLog, first, n int) []appended {
	t.Helper()
	return putN(t, first, n, "StageRun", func(rec []byte, qo, ts int64) (int64, error) { return stageOne(t, l, rec, qo, ts) })
}

// TestCommitPublishesStagedRecords: staged records are neither readable nor
// below WrotePosition until Commit has written them to the file; then the
// mapping (what readers use) shows them, on the OS file system (one page
// cache behind the file and the mapping) and on sim/faultfs (whose mapping
// aliases the file's bytes).
func TestCommitPublishesStagedRecords(t *testing.T) {
	for _, tc := range []struct {
		name string
		fs   func() vfs.FS
		dir  func(t *testing.T) string
	}{
		{"os", func() vfs.FS { return vfs.Default }, func(t *testing.T) string { return t.TempDir() }},
		{"faultfs", func() vfs.FS { return faultfs.New(1) }, func(*testing.T) string { return memDir }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := openTest(t, tc.dir(t), tc.fs())
			defer l.Close()
			first := appendN(t, l, 0, 2)
			before := l.WrotePosition()
			recs := stageN(t, l, 2, 3)
			if recs[0].offset != before {
				t.Fatalf("first staged record at %d, want the write position %d", recs[0].offset, before)
			}
			if l.WrotePosition() != before {
				t.Fatalf("WrotePosition %d moved before Commit (was %d)", l.WrotePosition(), before)
			}
			if _, err := l.Read(recs[0].offset, len(recs[0].rec)); !errors.Is(err, ErrOffsetNotFound) {
				t.Fatalf("Read of a staged record = %v, want ErrOffsetNotFound", err)
			}
			if err := l.Commit(); err != nil {
				t.Fatal(err)
			}
			if want := endOf(recs[2]); l.WrotePosition() != want {
				t.Fatalf("WrotePosition %d after Commit, want %d", l.WrotePosition(), want)
			}
			for _, a := range append(first, recs...) {
				checkStored(t, l, a)
			}
			if err := l.Commit(); err != nil { // nothing staged: a no-op
				t.Fatal(err)
			}
		})
	}
}

// TestStageAcrossSegmentEnds: one group staging records over two segment
// ends. Each roll writes what the group staged for the old segment, with
// its filler, and publishes the segment's end; Commit the rest. Recovery
// reads every record back.
func TestStageAcrossSegmentEnds(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, vfs.Default)
	var recs []appended
	for seq := 0; l.WrotePosition() < 2*testFileSize; seq++ {
		recs = append(recs, stageN(t, l, seq, 1)...)
		if seq > 10_000 {
			t.Fatal("no roll")
		}
	}
	if l.WrotePosition() != 2*testFileSize {
		t.Fatalf("WrotePosition %d after two rolls, want the second segment's end %d", l.WrotePosition(), 2*testFileSize)
	}
	last := recs[len(recs)-1]
	if last.offset != 2*testFileSize {
		t.Fatalf("record after the second roll at %d, want %d", last.offset, 2*testFileSize)
	}
	// Each closed segment ends with its last record and the filler.
	for _, seg := range []int64{0, testFileSize} {
		var end int64
		for _, a := range recs {
			if a.offset >= seg && a.offset < seg+testFileSize {
				end = endOf(a)
			}
		}
		b := readFile(t, dir, seg)
		p := end - seg
		if left := testFileSize - p; be32(b[p:]) != int32(left) || uint32(be32(b[p+4:])) != blankMagicBits {
			t.Fatalf("segment %d: filler at %d is %x, want %d bytes left and the blank magic", seg, p, b[p:p+8], left)
		}
	}
	if err := l.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, a := range recs {
		checkStored(t, l, a)
	}
	end := l.WrotePosition()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openTest(t, dir, vfs.Default)
	defer l.Close()
	if l.WrotePosition() != end {
		t.Fatalf("recovered to %d, want %d", l.WrotePosition(), end)
	}
	for _, a := range recs {
		checkStored(t, l, a)
	}
}

// TestCommitWriteErrorIsSticky: a failed write of the staged records leaves
// WrotePosition where it was and makes the log read-only for good.
func TestCommitWriteErrorIsSticky(t *testing.T) {
	fs := faultfs.New(1)
	l := openMem(t, fs, false)
	defer l.Close()
	kept := appendN(t, l, 0, 3)
	before := l.WrotePosition()
	stageN(t, l, 3, 2)
	fs.Inject(faultfs.Rule{Ops: faultfs.OpWrite, Path: memDir, Kind: faultfs.KindEIO, Limit: 1})
	if err := l.Commit(); !errors.Is(err, ErrNotWritable) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("Commit = %v, want EIO wrapped in ErrNotWritable", err)
	}
	if l.WrotePosition() != before {
		t.Fatalf("WrotePosition %d after a failed write, want %d", l.WrotePosition(), before)
	}
	// The rule fired once; the failure stays anyway.
	if _, err := stageOne(t, l, testRecord(9, 10), 0, 1); !errors.Is(err, ErrNotWritable) {
		t.Fatalf("StageRun after a failed write = %v, want ErrNotWritable", err)
	}
	if _, err := l.Flush(); !errors.Is(err, ErrNotWritable) {
		t.Fatalf("Flush after a failed write = %v", err)
	}
	for _, a := range kept {
		checkStored(t, l, a)
	}
}

// TestCrashKeepsFlushedNotCommitted: records committed (written to the
// file) but not flushed are lost by a crash; flushed ones survive.
func TestCrashKeepsFlushedNotCommitted(t *testing.T) {
	fs := faultfs.New(1)
	l := openMem(t, fs, false)
	recs := appendN(t, l, 0, 4)
	durable, err := l.Flush()
	if err != nil {
		t.Fatal(err)
	}
	recs = append(recs, stageN(t, l, 4, 3)...)
	if err := l.Commit(); err != nil {
		t.Fatal(err)
	}
	crashed := fs.Crash()
	l2 := openMem(t, crashed, true)
	defer l2.Close()
	if l2.WrotePosition() != durable {
		t.Fatalf("recovered to %d, want the flushed position %d", l2.WrotePosition(), durable)
	}
	checkSurvivors(t, l2, recs, durable)
}

// TestAppendCommits: Append is StageRun of one record plus Commit.
func TestAppendCommits(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, vfs.Default)
	defer l.Close()
	a := appendN(t, l, 0, 1)[0]
	if l.WrotePosition() != endOf(a) {
		t.Fatalf("WrotePosition %d, want %d", l.WrotePosition(), endOf(a))
	}
	if b := readFile(t, dir, 0); !bytes.Equal(b[:4], a.rec[:4]) {
		t.Fatalf("file starts with %x, want the record's size %x", b[:4], a.rec[:4])
	}
}

// TestCreateAheadFaultsNoPage: CreateAhead creates the next segment before
// the roll, the roll takes it, and no page of either segment is written
// ahead (no write-back).
func TestCreateAheadFaultsNoPage(t *testing.T) {
	dir := t.TempDir()
	l, fs := openPrefault(t, dir)
	defer l.Close()
	next := nextSegmentNearEnd(t, l, l.CreateAhead, "CreateAhead")
	seq := 1000
	for l.WrotePosition() <= prefaultFileSize {
		appendN(t, l, seq, 1)
		seq++
	}
	if l.impl.segs.last() != next || l.impl.pre.next != nil {
		t.Fatal("the roll did not take the segment created ahead")
	}
	if calls := fs.taken(); len(calls) != 0 {
		t.Fatalf("CreateAhead wrote pages back: %+v", calls)
	}
}

// TestRollWriteErrorFailsCommit: when the roll inside a StageRun fails to
// write the records staged before it, the Commit that follows reports the
// failure, so that their appends are not answered as stored.
func TestRollWriteErrorFailsCommit(t *testing.T) {
	fs := faultfs.New(1)
	l := openMem(t, fs, false)
	defer l.Close()
	stageN(t, l, 0, 1)
	fs.Inject(faultfs.Rule{Ops: faultfs.OpWrite, Path: memDir, Kind: faultfs.KindEIO, Limit: 1})
	var err error
	for seq := 1; err == nil; seq++ {
		if seq > 1000 {
			t.Fatal("no roll")
		}
		_, err = stageOne(t, l, testRecord(seq, bodyLenFor(seq)), 0, 1)
	}
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("StageRun across the roll = %v, want EIO", err)
	}
	if err := l.Commit(); !errors.Is(err, ErrNotWritable) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("Commit after the failed roll = %v, want the sticky EIO", err)
	}
	if l.WrotePosition() != 0 {
		t.Fatalf("WrotePosition %d, want 0", l.WrotePosition())
	}
}

// TestCloseCommitsStaged: Close writes what was staged and not committed,
// so a reopened log recovers those records too.
func TestCloseCommitsStaged(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, vfs.Default)
	recs := appendN(t, l, 0, 2)
	recs = append(recs, stageN(t, l, 2, 3)...)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openTest(t, dir, vfs.Default)
	defer l.Close()
	if want := endOf(recs[len(recs)-1]); l.WrotePosition() != want {
		t.Fatalf("recovered to %d, want the staged records' end %d", l.WrotePosition(), want)
	}
	for _, a := range recs {
		checkStored(t, l, a)
	}
}

// TestStageMaxCommits: StageRun commits by itself once stageMax bytes are
// staged, so the staging buffer stays bounded however large the group.
func TestStageMaxCommits(t *testing.T) {
	l, err := Open(Config{Dir: t.TempDir(), FileSize: 4 * stageMax, FS: vfs.Default})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Recover(false, 0); err != nil {
		t.Fatal(err)
	}
	const bodyLen = 60 << 10
	var staged int64
	for seq := 0; staged < stageMax; seq++ {
		if l.WrotePosition() != 0 {
			t.Fatalf("WrotePosition %d with %d bytes staged, below stageMax", l.WrotePosition(), staged)
		}
		rec := testRecord(seq, bodyLen)
		off, err := stageOne(t, l, rec, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		staged = off + int64(len(rec))
	}
	if l.WrotePosition() != staged {
		t.Fatalf("WrotePosition %d after staging %d bytes (stageMax %d), want them committed", l.WrotePosition(), staged, stageMax)
	}
}

// TestStageKeepsCallerBuffers: records staged back to back in one buffer
// are kept there as one slice (one piece of the pwritev), a record from
// another buffer as a slice of its own, and Commit writes them patched, as
// pwritev (OS files) and as one joined WriteAt (faultfs, no VectorWriter).
func TestStageKeepsCallerBuffers(t *testing.T) {
	for name, open := range map[string]func() *CommitLog{
		"os":      func() *CommitLog { return openTest(t, t.TempDir(), vfs.Default) },
		"faultfs": func() *CommitLog { return openMem(t, faultfs.New(1), false) },
	} {
		t.Run(name, func(t *testing.T) {
			l := open()
			defer l.Close()
			// Spare room after the group, as a Batch buffer has: the
			// separate record must not be taken for its continuation.
			group := make([]byte, 0, 4096)
			var ends []int
			for seq := range 3 {
				group = append(group, testRecord(seq, 100+seq)...)
				ends = append(ends, len(group))
			}
			var recs []appended
			start := 0
			for i, end := range ends {
				off, err := stageOne(t, l, group[start:end], int64(i), int64(100+i))
				if err != nil {
					t.Fatal(err)
				}
				recs = append(recs, appended{offset: off, rec: group[start:end], qo: int64(i), ts: int64(100 + i)})
				start = end
			}
			recs = append(recs, stageN(t, l, 3, 1)...)
			if n := len(l.impl.stage.recs); n != 2 {
				t.Fatalf("%d staged slices, want 2 (the group's buffer and the separate record)", n)
			}
			if err := l.Commit(); err != nil {
				t.Fatal(err)
			}
			if len(l.impl.stage.recs) != 0 || l.impl.stage.n != 0 {
				t.Fatal("Commit left records staged")
			}
			for _, a := range recs {
				checkStored(t, l, a)
			}
		})
	}
}

// TestStageRunMatchesStage: staging a run of records with StageRun (calls
// until all are staged, runs crossing segment ends) leaves the same segment
// files, offsets and stored fields as staging them one record a call;
// a run stops before a malformed record, and a run starting at one fails
// as a single record's call does and stages nothing.
func TestStageRunMatchesStage(t *testing.T) {
	const count, qo0, ts = 60, 1000, 1_800_000_000_000
	var joined []byte
	var sizes []int
	for seq := range count {
		rec := testRecord(seq, bodyLenFor(seq))
		joined = append(joined, rec...)
		sizes = append(sizes, len(rec))
	}
	oneDir, runDir := t.TempDir(), t.TempDir()
	one, run := openTest(t, oneDir, vfs.Default), openTest(t, runDir, vfs.Default)
	defer one.Close()
	defer run.Close()

	var want []int64
	for i, at := 0, 0; i < count; i++ {
		rec := bytes.Clone(joined[at : at+sizes[i]])
		off, err := stageOne(t, one, rec, qo0+int64(i), ts)
		if err != nil {
			t.Fatalf("StageRun of record #%d alone: %v", i, err)
		}
		want = append(want, off)
		at += sizes[i]
	}
	if err := one.Commit(); err != nil {
		t.Fatal(err)
	}

	runs, i := 0, 0
	for rest := joined; len(rest) > 0; runs++ {
		off, n, err := run.StageRun(rest, qo0+int64(i), ts)
		if err != nil {
			t.Fatalf("StageRun at record %d: %v", i, err)
		}
		if off != want[i] {
			t.Fatalf("run %d: first record %d at %d, staged alone it went to %d", runs, i, off, want[i])
		}
		for staged := 0; staged < n; i++ {
			staged += sizes[i]
		}
		rest = rest[n:]
	}
	if err := run.Commit(); err != nil {
		t.Fatal(err)
	}
	if runs < 3 || runs >= count {
		t.Fatalf("%d runs for %d records in %d-byte segments: want a few, crossing segment ends", runs, count, testFileSize)
	}
	if one.WrotePosition() != run.WrotePosition() {
		t.Fatalf("WrotePosition %d after runs, %d after one record a call", run.WrotePosition(), one.WrotePosition())
	}
	for off := int64(0); off < one.WrotePosition(); off += testFileSize {
		if !bytes.Equal(readFile(t, runDir, off), readFile(t, oneDir, off)) {
			t.Fatalf("segment at %d differs between StageRun and Stage", off)
		}
	}

	// A malformed record (TOTALSIZE off by one) ends the run before it.
	bad := append(testRecord(1, 10), testRecord(2, 10)...)
	second := len(bad) / 2
	bad[second+3]++
	if _, n, err := run.StageRun(bad, 0, ts); err != nil || n != second {
		t.Fatalf("StageRun before a malformed record = %d bytes, %v; want %d, nil", n, err, second)
	}
	if _, n, err := run.StageRun(bad[second:], 1, ts); !errors.Is(err, ErrInvalidRecord) || n != 0 {
		t.Fatalf("StageRun at a malformed record = %d bytes, %v; want 0, ErrInvalidRecord", n, err)
	}
	// So does a record with a wrong MAGICCODE: the run checks each record's.
	good := testRecord(3, 10)
	bad = append(bytes.Clone(good), testRecord(4, 10)...)
	bad[len(good)+4] ^= 0xff
	if _, n, err := run.StageRun(bad, 2, ts); err != nil || n != len(good) {
		t.Fatalf("StageRun before a record with a bad magic = %d bytes, %v; want %d, nil", n, err, len(good))
	}
}
