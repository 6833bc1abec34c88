package queue

import (
	"errors"

	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/storage/consumequeue"
)

// fsFlusher is the part of *consumequeue.ConsumeQueue a thorough round uses
// to make every queue durable with one syncfs (consumequeue/syncfs.go);
// test fakes without it are flushed one by one.
type fsFlusher interface {
	BeginFlush() (consumequeue.FlushMark, error)
	EndFlush(consumequeue.FlushMark)
}

// flushFailed reports a queue's failed flush, or a failed Put. A failure
// wrapping consumequeue.ErrNotWritable is the queue's sticky error: the
// first one makes the store not writable (WriteError), since the
// checkpoint can no longer advance and every unit dispatched from now on
// would wait for a restart to become durable. That is stricter than Java
// for a flush (MappedFile.flush logs a failed force and moves on) and
// Java's own rule for a unit that cannot be written (RunningFlags.
// WRITE_LOGICS_QUEUE_ERROR_BIT). The queue logged it when it failed, so
// its repeats, one per round, are Debug. Any goroutine (the flusher's,
// Stop's, a queue actor's).
func (r *Registry) flushFailed(e *entry, err error) {
	if !errors.Is(err, consumequeue.ErrNotWritable) {
		r.log.Error().Err(err).Str("topic", e.key.Topic).Int32("queueId", e.key.QueueID).Msg("consume queue flush failed")
		return
	}
	if r.writeErr.CompareAndSwap(nil, &err) {
		r.log.Error().Err(err).Str("topic", e.key.Topic).Int32("queueId", e.key.QueueID).
			Msg("consume queue not writable: refusing sends until a restart, which re-dispatches from the checkpoint")
		return
	}
	r.log.Debug().Err(err).Str("topic", e.key.Topic).Int32("queueId", e.key.QueueID).Msg("consume queue flush failed")
}

// putFailed reports a failed Put: one that made the queue not writable
// (the unit could not be written: consumequeue.ErrNotWritable) is the
// queue's sticky failure, which refuses sends from now on (flushFailed);
// the caller logs the others. Queue actor.
func (r *Registry) putFailed(e *entry, err error) {
	if errors.Is(err, consumequeue.ErrNotWritable) {
		r.flushFailed(e, err)
	}
}

// WriteError is errNotWritable once a queue failed for good (flushFailed),
// nil before. The writer refuses sends and Puts with it
// (writer.Config.QueuesError); it is never cleared. Lock-free; any
// goroutine.
func (r *Registry) WriteError() error {
	if r.writeErr.Load() != nil {
		return errNotWritable
	}
	return nil
}

// errNotWritable is what a send is refused with after a consume queue
// failed: SERVICE_NOT_AVAILABLE (it wraps consumequeue.ErrNotWritable) with
// a remark in the words of Java's, not the failure itself, which names
// files of the store and is in the log (flushFailed).
var errNotWritable = reply.Errorf(consumequeue.ErrNotWritable,
	"the message store is not writable (consume queue write error); restart the broker")

// markedQueue is a queue a thorough round began to flush.
type markedQueue struct {
	q fsFlusher
	m consumequeue.FlushMark
}

// flushAllBySyncFS is the thorough round as one syncfs: BeginFlush on every
// queue, one syncfs of their file system (the store's SyncQueuesFS, through
// a descriptor the store opened before anything was written, so it reports
// every write-back error since), EndFlush on every queue. With 10,000
// queues the round was 10,000 msyncs one after another, each a page write,
// an inode write and a device cache flush (~210 CPU-µs on this VM, 1.5–1.6
// CPU-s a round); the syncfs writes the same pages and inodes with one
// cache flush. It reports whether it did the round, and whether a queue
// failed; when it did not (no syncfs, a queue without BeginFlush, a kernel
// or file system whose syncfs is not trusted, or the syncfs failed — each
// file's msync then reports its own write-back error), the caller msyncs
// queue by queue. Flusher goroutine (or Stop's).
func (r *Registry) flushAllBySyncFS() (done, failed bool) {
	if r.deps.syncFS == nil {
		return false, false
	}
	marks := r.flushMarks[:0]
	defer func() {
		clear(marks)
		r.flushMarks = marks[:0]
	}()
	usable := true
	r.entries.Range(func(_, v any) bool {
		e := v.(*entry)
		q, ok := e.cq.(fsFlusher)
		if !ok {
			usable = false
			return false
		}
		m, err := q.BeginFlush()
		if err != nil {
			failed = true
			r.flushFailed(e, err)
			return true
		}
		marks = append(marks, markedQueue{q: q, m: m})
		return true
	})
	if !usable || len(marks) == 0 {
		return false, false
	}
	if err := r.deps.syncFS(); err != nil {
		if !errors.Is(err, errors.ErrUnsupported) {
			r.log.Error().Err(err).Msg("consume queue syncfs failed; msyncing queue by queue")
		}
		return false, false
	}
	for _, mq := range marks {
		mq.q.EndFlush(mq.m)
	}
	return true, failed
}
