package writer

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/queue"
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/internal/crashpoint"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
)

// logWriter is the part of *commitlog.CommitLog the actors use; tests
// substitute fakes. StageRun and Commit only from the writer actor, Flush
// only from the syncer (or the flush actor once the syncer stopped).
type logWriter interface {
	StageRun(recs []byte, queueOffset, storeTimestamp int64) (int64, int, error)
	Commit() error
	Flush() (int64, error)
	WrotePosition() int64
	FlushedPosition() int64
}

// storeDeps is what the actors take from the store.
type storeDeps struct {
	log          logWriter
	queueOffsets map[store.QueueKey]int64
	checkpoint   func(physicMsgTimestamp, logicsMsgTimestamp int64) error
	probe        func() error // CommitLog.Probe (diskfull.go); nil: never full
	// afterFunc arms the probe timer (diskfull.go); nil: time.AfterFunc.
	// Tests count the timers with it.
	afterFunc func(time.Duration, func())
	// prefault is CommitLog.CreateAhead, or PrefaultWritten for SYNC_FLUSH
	// (prefault.go); nil: no prefaulter.
	prefault func(ahead int64) (int64, error)
}

// batchMarker closes a group-commit batch.
type batchMarker struct{}

var theMarker = &batchMarker{}

// writerActor is the only appender of the commit log.
type writerActor struct {
	w       *Writer
	queues  map[store.QueueKey]*queueState // per queue appended to since start
	pending []*Batch
	marked  bool // a marker is in the mailbox

	order   []*queueState // queues with units in this batch, in first-append order
	errLogs int
	// targets is the Dispatcher's handle side (dispatch.go); nil when it
	// has none.
	targets TargetDispatcher
	// index is the commit's IndexBatch while commit runs (indexkeys.go),
	// nil without the writer's indexer.
	index *IndexBatch

	prefaultAsked bool  // a prefault was requested (prefault.go)
	prefaultAt    int64 // the write position of the last request
}

// queueState is the writer's state of one queue: one map lookup per append
// finds both (a map of offsets beside a map of units was two lookups, each
// hashing the topic string).
type queueState struct {
	key  store.QueueKey
	next int64 // next queue offset
	// units are this batch's units of the queue, from queue.NewUnits; nil
	// when the queue has none in the batch. Dispatch takes them over.
	units []queue.Unit
	// to is the queue's dispatch handle (dispatch.go); nil until the
	// queue's first dispatch, or when the Dispatcher has no handles.
	to *queue.DispatchTarget
	// lastUnits is how many units the queue's last dispatch carried: the
	// size its next group's slice is asked for (units slices come in
	// classes, queue.NewUnits; growing from a single send's 4 units to a
	// busy queue's 32 would take the pool three times per group).
	lastUnits int32
	// forgotten: forget dropped it from queues; a QueueRef still pointing
	// at it must look the key up again (the topic's queues restart at 0).
	forgotten bool
}

// QueueRef is a sender's handle of one queue's writer state, carried by its
// Appends (Append.Ref) so that appendOne skips its map lookup: with 10,000
// queues hashing the key and comparing it in a 10,000-entry map was 3.4% of
// the broker's CPU in the scale run (cache misses, ~0.3 µs a message). The
// sender makes one per queue it sends to (a topic actor per queue id) and
// never reads it; only the writer actor reads and sets its field, so the
// field needs no lock (the Append's hand-off through the writer's mailbox
// orders a new ref's zero value before the writer's use). Rejected: the
// writer handing its queueState out through a future (control plane on the
// send path) or in the answer (the sender never sees the Append again).
type QueueRef struct {
	q *queueState // writer actor only; nil until the first append
}

// queueFor returns p.Key's state, made if needed: from p.Ref when it points
// at a live state of the same key, else from the map (and p.Ref learns it).
func (a *writerActor) queueFor(p *Append) *queueState {
	r := p.Ref
	if r != nil {
		if q := r.q; q != nil && !q.forgotten && q.key == p.Key {
			return q
		}
	}
	q := a.queues[p.Key]
	if q == nil {
		q = &queueState{key: p.Key}
		a.queues[p.Key] = q
	}
	if r != nil {
		r.q = q
	}
	return q
}

func newWriterActor(w *Writer) *writerActor {
	queues := make(map[store.QueueKey]*queueState, len(w.deps.queueOffsets))
	for k, v := range w.deps.queueOffsets {
		queues[k] = &queueState{key: k, next: v}
	}
	targets, _ := w.cfg.Dispatcher.(TargetDispatcher)
	return &writerActor{w: w, queues: queues, targets: targets}
}

func (a *writerActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.maybePrefault(ctx) // the next segment (and on SYNC_FLUSH the blocks ahead) before the first send
	case *Batch:
		a.pending = append(a.pending, m)
		if !a.marked {
			a.marked = true
			ctx.Send(ctx.Self(), theMarker)
		}
	case *batchMarker:
		a.marked = false
		a.commit(ctx)
	case *forgetTopic:
		a.forget(ctx, m)
	case *probeTick:
		a.probe()
	case *actor.Stopping:
		if a.w.stopping.Load() {
			a.commit(ctx) // a graceful Stop: finish what was submitted
			return
		}
		// A failure stop: the state may be inconsistent, store nothing more.
		for _, b := range a.pending {
			for _, p := range b.Appends {
				p.err = fmt.Errorf("%w: commitlog writer stopped", reply.ErrServiceNotAvailable)
				a.w.answer(p, remoting.RespSuccess)
			}
			// Not recycled: records of b may still be staged in the
			// commit log (CommitLog.StageRun keeps them in b's buffer until
			// a Commit, which Close runs), so no one may reuse it.
		}
		a.pending = nil
	case *actor.Stopped:
		close(a.w.writerDone)
	}
}

// commit appends the pending batch, dispatches its units and answers or
// hands over every request (package comment, steps 2 and 3).
func (a *writerActor) commit(ctx actor.Context) {
	if len(a.pending) == 0 {
		return
	}
	now := time.Now().UnixMilli()
	if a.w.indexer != nil {
		a.index = newIndexBatch(a.w.deps.log.WrotePosition())
	}
	for _, b := range a.pending {
		recs, start := b.Records.B, 0
		for _, p := range b.Appends {
			if p.recEnd < start || p.recEnd > len(recs) {
				p.err = fmt.Errorf("%w: records end at %d, before %d or past the batch's %d bytes", ErrBadAppend, p.recEnd, start, len(recs))
				a.logAppendError(p, 0)
				continue
			}
			a.appendOne(p, recs[start:p.recEnd], now)
			start = p.recEnd
		}
	}
	a.commitLog()
	crashpoint.Hit(crashpoint.WriterMidGroupCommit)
	a.dispatch()
	if b := a.index; b != nil {
		a.index = nil
		b.To = a.w.deps.log.WrotePosition()
		a.w.indexer.Index(b)
	}

	syncFlush := a.w.cfg.Broker.FlushDiskType == config.FlushSync
	done := newBatchDone() // the flush actor's from the Send on; it recycles it
	for _, b := range a.pending {
		for _, p := range b.Appends {
			if syncFlush && p.err == nil && !p.NoWait {
				done.waiters = append(done.waiters, p)
				continue
			}
			a.w.answer(p, remoting.RespSuccess)
		}
		b.recycle()
	}
	done.end, done.storeTimestamp = a.w.deps.log.WrotePosition(), now
	ctx.Send(a.w.flush, done)
	a.maybePrefault(ctx)
	clear(a.pending)
	if cap(a.pending) > 4096 {
		a.pending = nil
	} else {
		a.pending = a.pending[:0]
	}
}

// commitLog writes the batch's staged records to the commit log file and
// publishes them (CommitLog.Commit), before any unit is dispatched or the
// write position read for the flush actor. A failed write (sticky in the
// commit log) fails every request of the batch that had not failed yet: its
// records never reached the file. Their units are still dispatched, as the
// queue offsets were taken; they lie past the write position, so reads of
// them fail, and recovery drops them with the rest of the torn tail.
func (a *writerActor) commitLog() {
	err := a.w.deps.log.Commit()
	if err == nil {
		return
	}
	err = fmt.Errorf("append to commit log: %w", err)
	a.noteAppendError(err)
	if a.index != nil {
		a.index.Complete = false
	}
	for _, b := range a.pending {
		for _, p := range b.Appends {
			if p.err == nil {
				p.err = err
				a.logAppendError(p, 0)
			}
		}
	}
}

// appendOne appends p's records, recs, with consecutive queue offsets and
// records their units. On an append error the records already stored stay
// stored and dispatched (the offset table must match the commit log), and p
// is answered with the error.
func (a *writerActor) appendOne(p *Append, recs []byte, now int64) {
	log := a.w.deps.log
	// Every record of p goes to p.Key: find the queue once per request,
	// not per record (the key hashes a topic string).
	q := a.queueFor(p)
	qo, units := q.next, q.units
	inBatch := units != nil
	switch {
	case !inBatch:
		// A recycled slice (units.go), with room for p's records and for as
		// many as the queue's last group had.
		units = queue.NewUnits(max(len(p.Tags), int(q.lastUnits)))
	case cap(units)-len(units) < len(p.Tags):
		// Another batch message for a queue this group holds: a pooled
		// slice with room for both, the outgrown one back to the pool.
		// Grown by append, each outgrown slice was garbage (64×128 B
		// batches, 8 queues: broker allocation 23 → 6–8 MB per 20 s).
		bigger := append(queue.NewUnits(max(2*cap(units), len(units)+len(p.Tags))), units...)
		queue.ReleaseUnits(units)
		units = bigger
	}
	p.queueOffset = qo
	multi := len(p.Tags) > 1
	p.ids = p.ids[:0]
	// The commit log stages the well-formed records in runs (StageRun: its
	// per-call work once per batch message, not per record); a malformed
	// one fails p after the records before it are stored, as it would
	// record by record.
	valid, badErr := wellFormed(recs, len(p.Tags))
	n := 0
	for rest := recs[:valid]; len(rest) > 0; {
		phys, staged, err := log.StageRun(rest, qo, now)
		if err != nil {
			p.err = fmt.Errorf("append to commit log: %w", err)
			a.noteAppendError(err)
			break
		}
		if n == 0 {
			p.phys = phys
		}
		for run := rest[:staged]; len(run) > 0; {
			size := int(binary.BigEndian.Uint32(run))
			units = append(units, queue.Unit{
				QueueOffset: qo, PhysOffset: phys, Size: int32(size), TagsCode: p.Tags[n], StoreTimestamp: now,
			})
			if multi {
				// A batch message answers every id; a single one's id is
				// written from phys straight into its response (answer.go).
				if n > 0 {
					p.ids = append(p.ids, ',')
				}
				p.ids = a.w.idPrefix.Append(p.ids, phys)
			}
			phys += int64(size)
			qo++
			n++
			run = run[size:]
		}
		p.end = phys
		rest = rest[staged:]
	}
	if p.err == nil {
		p.err = badErr
	}
	if n > 0 {
		a.indexAppend(p, units[len(units)-n:], now)
		if !inBatch {
			a.order = append(a.order, q)
		}
		q.units = units
		q.next = qo
	} else if !inBatch {
		queue.ReleaseUnits(units) // nothing stored: the slice is still ours
	}
	if n == 0 && p.err == nil {
		p.err = fmt.Errorf("%w: no records", ErrBadAppend)
	}
	if p.err != nil {
		a.logAppendError(p, n)
	}
}

// wellFormed returns the length of the longest prefix of recs that is
// whole records (TOTALSIZE at least message.RecordBytesMin and within
// recs), at most tags of them, and an ErrBadAppend error for the record
// after it, nil when that prefix is all of recs.
func wellFormed(recs []byte, tags int) (int, error) {
	at := 0
	for n := 0; at < len(recs); n++ {
		left := recs[at:]
		size := 0
		if len(left) >= 4 {
			size = int(binary.BigEndian.Uint32(left))
		}
		if size < message.RecordBytesMin || size > len(left) || n >= tags {
			return at, fmt.Errorf("%w: record %d: size %d of %d bytes left, %d tags", ErrBadAppend, n, size, len(left), tags)
		}
		at += size
	}
	return at, nil
}

// logAppendError logs a failed append: the first ten at Error, then Debug,
// so that a not-writable log does not flood the output.
func (a *writerActor) logAppendError(p *Append, stored int) {
	a.errLogs++
	ev := a.w.log.Debug()
	if a.errLogs <= 10 {
		ev = a.w.log.Error()
	}
	ev.Err(p.err).Str("topic", p.Key.Topic).Int32("queueId", p.Key.QueueID).Int("stored", stored).Msg("append failed")
}
