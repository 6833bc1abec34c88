package consumequeue

import (
	"fmt"
	"syscall"
	"testing"

	"github.com/actormq/actormq/storage/vfs"
)

// openBench opens an empty queue with the default file size in a fresh temp dir.
func openBench(b *testing.B) *ConsumeQueue {
	b.Helper()
	q, err := Open(Config{RootDir: b.TempDir(), Topic: "BenchTopic", QueueID: 0, FS: vfs.Default})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { q.Close() })
	return q
}

// benchUnit is the unit of the i-th 128-byte-body record laid out back to
// back (a Go-client record with 128 B body is about 300 bytes).
func benchUnit(i int64) Unit { return Unit{CommitLogOffset: i * 300, Size: 300, TagsCode: 2598919} }

// BenchmarkPut measures the queue actor's cost per dispatched unit; file
// creation (one per 300000 units) is amortized in. faults/op counts the
// process's page faults per unit, minor and major (a first touch of a page of
// a fallocated ext4 file counts as major: it misses the page cache, though
// it reads nothing): a fresh page every 204.8 units, 0.0049/op. Faults
// taken inside a system call count too, so
// this counts pages faulted in; `perf stat -e page-faults` counts traps.
func BenchmarkPut(b *testing.B) {
	q := openBench(b)
	b.ReportAllocs()
	b.SetBytes(UnitBytes)
	before := pageFaults(b)
	var i int64
	for b.Loop() {
		if err := q.Put(i, benchUnit(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(pageFaults(b)-before)/float64(i), "faults/op")
}

// pageFaults is the process's page-fault count (minor and major) so far.
func pageFaults(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Minflt + ru.Majflt
}

// BenchmarkGet measures the pull path's lookup: the units from a queue
// offset into a reused slice, one unit (a consumer that keeps up) and 32
// units (the Go client's default pullBatchSize).
func BenchmarkGet(b *testing.B) {
	const units = 100000
	q := openBench(b)
	for i := int64(0); i < units; i++ {
		if err := q.Put(i, benchUnit(i)); err != nil {
			b.Fatal(err)
		}
	}
	for _, n := range []int{1, 32} {
		b.Run(fmt.Sprintf("units=%d", n), func(b *testing.B) {
			dst := make([]Unit, 0, n)
			b.ReportAllocs()
			b.SetBytes(int64(n * UnitBytes))
			var off int64
			for b.Loop() {
				got, err := q.Get(off, dst)
				if err != nil || len(got) != n {
					b.Fatalf("Get(%d): %d units, %v", off, len(got), err)
				}
				off = (off + int64(n)) % (units - int64(n))
			}
		})
	}
}

// BenchmarkPutFlushPages measures the scale run's consume-queue pattern per
// unit: 200 queues on the OS file system filled round-robin, each looked at
// by FlushPages(2) (the flusher's round by pages) whenever its end changes
// page, as Registry.flushAll does. faults/op counts page faults per unit,
// the write faults after an msync included; msyncs/op the flushes that
// wrote pages.
func BenchmarkPutFlushPages(b *testing.B) {
	const queues = 200
	root := b.TempDir()
	qs := make([]*ConsumeQueue, queues)
	for i := range qs {
		q, err := Open(Config{RootDir: root, Topic: "BenchTopic", QueueID: int32(i), FS: vfs.Default})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { q.Close() })
		qs[i] = q
	}
	b.SetBytes(UnitBytes)
	before := pageFaults(b)
	var n, msyncs int64
	for b.Loop() {
		q := qs[n%queues]
		off := q.MaxOffset()
		if err := q.Put(off, benchUnit(n)); err != nil {
			b.Fatal(err)
		}
		if q.FlushPage(off) != q.FlushPage(off+1) {
			flushed := q.impl.flushed
			if err := q.FlushPages(2); err != nil {
				b.Fatal(err)
			}
			if q.impl.flushed != flushed {
				msyncs++
			}
		}
		n++
	}
	b.ReportMetric(float64(pageFaults(b)-before)/float64(n), "faults/op")
	b.ReportMetric(float64(msyncs)/float64(n), "msyncs/op")
}

// BenchmarkPut10kQueues puts one unit at a time round 10,000 queues of
// 1,000 topics, as the queue actors do in the scale run (about one unit per
// queue per writer group): each Put finds its queue and its page cold, so
// this measures the cache and TLB misses that BenchmarkPut, with one hot
// queue, does not. The queues' first units (file creation, first page) are
// put before the timer starts. On this VM, in pairs: 77–133 ns/op walking
// files and cqFile to the slot, 62–83 with queue.tail. It runs alone, so
// its caches stay warmer than the broker's, where the same Put was 0.3–0.6
// CPU-µs (the scale run's other traffic evicts a queue's lines between its
// units).
func BenchmarkPut10kQueues(b *testing.B) {
	const topics, perTopic = 1000, 10
	root, dirs := b.TempDir(), NewDirs()
	qs := make([]*ConsumeQueue, 0, topics*perTopic)
	for t := range topics {
		for id := range int32(perTopic) {
			q, err := Open(Config{RootDir: root, Topic: fmt.Sprintf("BenchScale-%d", t), QueueID: id, FS: vfs.Default, Dirs: dirs})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { q.Close() })
			if err := q.Put(0, benchUnit(int64(len(qs)))); err != nil {
				b.Fatal(err)
			}
			qs = append(qs, q)
		}
	}
	b.ReportAllocs()
	n := int64(len(qs))
	i := n
	for b.Loop() {
		if err := qs[i%n].Put(i/n, benchUnit(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
