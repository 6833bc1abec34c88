package consumequeue

// Flushing many queues with one syncfs.
//
// A thorough flush round makes every queue's units durable before the
// checkpoint advances. With 10,000 queues, msyncing each (Flush) cost ~210
// CPU-µs a queue on this VM (the page write, a synchronous inode write and
// a device cache flush per call): 10,000 one after another, ~12% of the
// broker's CPU samples while the round ran in the 10,000-queue benchmark.
// BeginFlush on every queue, one syncfs of their file system (the store's
// SyncQueuesFS) and EndFlush on every queue make the same units durable
// with one device cache flush and the kernel's own batching of the page and
// inode writes. Starting write-back per queue first
// (StartWriteBack) was rejected: syncfs writes every dirty page anyway, and
// it would be a syscall per queue again.

// FlushMark is the part of a queue BeginFlush read: EndFlush counts it
// durable once the caller made the file system durable after BeginFlush.
type FlushMark struct {
	end int64 // queue byte offset; the units below it are covered
	gen int64 // q.unflushGen when read: a rewrite since voids the mark
}

// BeginFlush makes the directory entries of new files durable (entries.go:
// rule 1 holds for units below the mark) and returns the end of the units
// written so far. A syncfs that begins after it returns makes those units
// durable; EndFlush then records them flushed. A queue whose flush failed
// returns its sticky error (read.go, failLocked): a syncfs that succeeds
// later cannot vouch for pages whose write-back error was reported
// already (to the syncfs, or to the queue's own msync) and which the
// kernel then left clean. Any goroutine.
func (q *ConsumeQueue) BeginFlush() (FlushMark, error) {
	impl := q.impl
	if impl.closed.Load() {
		return FlushMark{}, ErrClosed
	}
	impl.flushMu.Lock()
	defer impl.flushMu.Unlock()
	if err := impl.stickyLocked(); err != nil {
		return FlushMark{}, err
	}
	end := impl.maxOffset.Load() * UnitBytes // before syncEntries: entries.go
	if err := impl.syncEntries(); err != nil {
		return FlushMark{}, impl.failLocked(err)
	}
	return FlushMark{end: end, gen: impl.unflushGen}, nil
}

// EndFlush records the units below m flushed, after a syncfs that began
// after BeginFlush returned m succeeded, so that the next Flush (Close, a
// later thorough round) starts from there. A mark taken before units below
// it were rewritten (unflushFrom) is dropped: the next Flush msyncs them.
// So is any mark once a flush of the queue failed (a Flush between the two
// halves). Any goroutine.
func (q *ConsumeQueue) EndFlush(m FlushMark) {
	impl := q.impl
	impl.flushMu.Lock()
	defer impl.flushMu.Unlock()
	if impl.unflushGen != m.gen || impl.stickyLocked() != nil {
		return
	}
	impl.flushed = max(impl.flushed, m.end)
	impl.started = max(impl.started, impl.flushed)
}
