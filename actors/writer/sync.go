package writer

import (
	"runtime"

	"github.com/actormq/actormq/actors/config"
	"github.com/asynkron/protoactor-go/actor"
)

// Group commit at the disk's pace.
//
// The syncer runs CommitLog.Flush (msync of everything written) one at a
// time. On a SYNC_FLUSH broker it starts the next flush as soon as one ends
// while the writer has written past it, instead of waiting for the flush
// actor to answer the last group and ask again: each flushDone goes to the
// flush actor, which answers that group while the disk works on the next.
// Records appended during a flush are covered by the very next one, so a
// waiter waits at most the rest of the running flush plus one more. The
// loop ends when a flush finds nothing newly written; no flush runs for an
// idle log, and nothing sleeps.
//
// Writer.syncBusy says a flushReq is queued or a flush is running (duty 1 of
// the flush actor): whoever sets it from false sends the one flushReq, and
// the syncer clears it before it looks at the write position for the last
// time, so a write it misses finds the flag clear and sends a new request.
//
// Measured (session 6; machine load 8–24, so only shares and back-to-back
// pairs mean much). Broker under mqbench -c 4 -w 64 (temporary histograms):
// 85–90% of the flushes follow the loop, starting p50 106–126 µs after the
// last one ended; the flush is the rest of the cycle (0.4 ms quiet, 1.3–2.2
// ms p50 with the disk shared); the flush actor answers a group (about 125
// sends) in 170–270 µs p50, flushDone reaching it in 9–11 µs p50. Broker
// CPU per message (perf, 8 s of each run): SYNC_FLUSH spends 2.3 times
// ASYNC_FLUSH's kernel time per message; msync alone is 13% of the broker's
// CPU (write-back, page_mkclean with TLB-shootdown IPIs, virtio kicks:
// roughly 0.3 ms of CPU per flush on this VM), and the stores that
// re-dirty cleaned pages fault (ext4_page_mkwrite, 3%). So on this 2-core
// machine a flush costs throughput in CPU, not only in latency: more,
// smaller groups are not free. The writer writes each group with
// pwritev (CommitLog.Commit) instead of storing into the mapping, so the
// pages a flush writes back are not mapped writable: perf
// of the same load showed smp_call_function_many_cond (the IPIs) fall from
// 3.2% to 0.3% of broker CPU and ext4_page_mkwrite from 2.9% to 1.2% (the
// rest is the prefaulter's).
//
// Rejected: the flush actor asking for every flush (the old way; the hops
// and the answering stood between two fsyncs); a second flush in flight:
// measured on this VM (ext4, virtio disk, 40 KiB groups into written
// blocks), two concurrent msync loops reach 1,279 flushes/s against 1,082
// for one, but each takes 691 µs p50 instead of 399 (fdatasync: 3,276/s at
// 297 µs against 2,408/s at 207 µs), so a waiter, which waits for the rest
// of one flush plus the next, waits longer; flushing into written blocks
// (CommitLog.PrefaultWritten, prefault.go) is what shortens the flush.
// Measured again in the broker (session 11: two syncers, flushes claiming
// consecutive ranges, the flushed position published in claim order): a
// record's wait for its flush to start fell from 520–590 µs mean to 40–80,
// but each msync took 1.0–1.2 ms p50 instead of 0.7–0.9 (the VM's disk
// serves one at a time), the flushes got smaller (25% more msyncs per
// message, 15–25% more context switches), and in the two of six pairs at
// equal steal HEAD sent more (87.9k against 63.9k, 71.6k against 63.8k).
// The writer requesting the flush itself when it commits a batch with
// waiters, a hop before the flush actor would: in
// BenchmarkSyncFlushWindow it cut the wait after a loop end (p50 530→400
// µs) and ns/op in four pairs (26.6→19.9, 16.2→11.4, 16.5→11.4,
// 13.6→13.1 µs), but in the broker it made the groups smaller and cost CPU:
// 12.3, 14.3, 14.9 µs per message against 11.2, 12.2, 13.4 in three
// back-to-back pairs (msgs/s lower in two of them). fdatasync (or
// vfs.WriteBacker) of the segment instead of msync: the same pages go to
// disk (on Linux msync MS_SYNC is an fsync of the mapped range of the
// file), and measured interleaved, 40 KiB stored through the mapping into
// written blocks, msync p50 381–578 µs, fdatasync 381–593, sync_file_range
// plus fdatasync 397–598 (with a prefault and mmap loop beside them, 564
// vs 698); what is faster is pwrite+fdatasync (366–463 µs, the copy
// included), whose pages were never mapped dirty, not the call: the
// fdatasync figures above, if from a pwrite loop as prefault.go's are, do
// not carry over to the mapping.
//
// The inode-table write that some acknowledging msyncs add (session 11's
// block trace), traced to its cause in session 12: on this VM's kernel
// (6.18.44, ext4 without a journal) ext4_fsync_nojournal calls
// ext4_write_inode with WB_SYNC_ALL on every fsync, fdatasync and msync,
// datasync or not (Linux commit 1308255bbf84, "ext4: fix fsync(2) for
// nojournal mode"), which writes the inode's 4 KiB inode-table block and
// waits for it whenever that block's buffer is dirty. A pwritev dirties
// it once per clock tick (file_update_time → ext4_dirty_inode copies the
// new mtime into the buffer; HZ=250 here, so every 4 ms), and so does any
// change to the other inodes in the same block. Call chains of the block
// requests (perf record -g -e block:block_rq_issue) show every such 4 KiB
// write coming from __sync_dirty_buffer ← ext4_write_inode ←
// ext4_fsync_nojournal ← __do_sys_msync, after a writeback_mark_inode_dirty
// (I_DIRTY_SYNC) of the segment. A journaled ext4 or a lazytime mount
// (timestamps then only set I_DIRTY_TIME, no buffer is dirtied) has no
// such write. In the broker (SYNC_FLUSH, mqbench -c 4 -w 64, block and
// msync trace) 30% of the msyncs wrote a metadata block, nearly all the
// segment's inode-table block (which also holds the checkpoint's inode),
// p50 545 µs and mean 1,119 against 451 and 588 for the others. Alone
// the extra write is cheap (a C loop of 40 KiB pwrite + msync into written
// blocks: p50 140–146 µs, against 144–149 for sync_file_range of the range
// plus fdatasync of a never-written file); in the broker each extra
// wake-up also waits for a CPU (slice.go).
//
// Session 11's acknowledgment by sync_file_range (WAIT_BEFORE|WRITE|
// WAIT_AFTER of the group's range through the log's descriptor) plus an
// fdatasync of a file nobody writes, for the device cache flush, was tried
// again as an ungated experiment in session 12 (the prefaulter keeping
// the blocks ahead written; both with the short slice): 120.9k against
// 70.6k, 176.7k against 165.2k, 183.6k against 116.3k msgs/s in three
// interleaved pairs, the flush's wall time (sync_file_range + fdatasync)
// 383–551 µs mean against 377–916 for msync. Not built yet, because
// besides the gate it needs (blocks below a mark the prefaulter publishes
// after its own fdatasync, ext4 or xfs only, not ext4 data=journal or a
// file with the journal-data flag) the barrier file needs an inode-table
// block of its own: on this kernel its fdatasync writes that block
// whenever any of the 15 other inodes in it changed, and the file system
// put the barrier's inode next to the index file's (mapped stores, mtime
// every tick): 199 inode-table writes a second, one in six flushes.

// flushReq asks the syncer to flush (at most one is queued: syncBusy).
type flushReq struct{}

var theFlushReq = &flushReq{}

// requestFlush makes the syncer flush unless a flush is queued or running,
// which then covers or is followed by one covering what is written now.
// Any goroutine.
func (w *Writer) requestFlush() {
	if w.syncBusy.CompareAndSwap(false, true) {
		w.root.Send(w.syncer, theFlushReq)
	}
}

// syncer runs the fsyncs (CommitLog.Flush) off the flush actor, which stays
// free to answer and time waiters out while a slow disk blocks.
type syncer struct {
	w *Writer
	// again: flush on while the writer writes (SYNC_FLUSH); an ASYNC_FLUSH
	// broker flushes once per request (the flush actor's schedule).
	again bool
	// hint lends the flushing thread a short scheduler slice (slice.go);
	// SYNC_FLUSH only.
	hint sliceHint
}

func (s *syncer) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *actor.Started:
		s.again = s.w.cfg.Broker.FlushDiskType == config.FlushSync
	case *flushReq:
		log := s.w.deps.log
		if s.again {
			if err := s.hint.begin(); err != nil {
				s.w.log.Info().Err(err).Msg("flushes run without the short scheduler slice: the kernel refused it")
			}
		}
		flushed, err := log.Flush()
		s.hint.end()
		ctx.Send(s.w.flush, &flushDone{flushed: flushed, err: err})
		s.w.syncBusy.Store(false)
		// A failed log stays failed (sticky): no retry here; each later
		// batch's request gets the error at once.
		if s.again && err == nil && log.WrotePosition() > flushed {
			// Through the mailbox rather than a loop here, so that a stop
			// (poison) is not held off while the writer keeps writing.
			if s.w.syncBusy.CompareAndSwap(false, true) {
				ctx.Send(ctx.Self(), theFlushReq)
				// The flushDone Send readied the flush actor's goroutine
				// on this P, which the next msync would block until
				// sysmon retakes the P (measured: 150 µs median from
				// flushDone sent to received, 7 µs when the syncer idles
				// after it). Yield first, so the answers go out while the
				// disk works; another P picks the syncer up. Measured
				// again in session 6 (BenchmarkSyncFlushWindow): without
				// it the next flush starts 12 µs p50 after the last
				// instead of 180, but flushDone waits 117–127 µs p50
				// instead of 21–31 and a waiter 1.7–1.9 ms instead of
				// 0.9–1.0.
				runtime.Gosched()
			}
		}
	case *actor.Stopped:
		close(s.w.syncerDone)
	}
}
