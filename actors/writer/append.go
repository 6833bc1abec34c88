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
	"github.com/valyala/bytebufferpool"
)

// logWriter is the part of *commitlog.CommitLog the actors use; tests
// substitute fakes. Append only from the writer actor, Flush only from the
// syncer (or the flush actor once the syncer stopped).
type logWriter interface {
	Append(rec []byte, queueOffset, storeTimestamp int64) (int64, error)
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
	// prefault is CommitLog.Prefault (prefault.go); nil: no prefaulter.
	prefault func(ahead int64) (int64, error)
}

// batchMarker closes a group-commit batch.
type batchMarker struct{}

var theMarker = &batchMarker{}

// writerActor is the only appender of the commit log.
type writerActor struct {
	w       *Writer
	next    map[store.QueueKey]int64 // next queue offset per queue
	pending []*Batch
	marked  bool // a marker is in the mailbox

	units   map[store.QueueKey][]queue.Unit // this batch's units per queue
	order   []store.QueueKey                // queues in first-append order
	errLogs int

	prefaultAsked bool  // a prefault was requested (prefault.go)
	prefaultAt    int64 // the write position of the last request
}

func newWriterActor(w *Writer) *writerActor {
	next := make(map[store.QueueKey]int64, len(w.deps.queueOffsets))
	for k, v := range w.deps.queueOffsets {
		next[k] = v
	}
	return &writerActor{w: w, next: next, units: make(map[store.QueueKey][]queue.Unit)}
}

func (a *writerActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.maybePrefault(ctx) // warm the first pages before the first send
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
			b.recycle()
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
	crashpoint.Hit(crashpoint.WriterMidGroupCommit)
	for _, k := range a.order {
		a.w.cfg.Dispatcher.Dispatch(k, a.units[k])
		delete(a.units, k)
	}
	a.order = a.order[:0]

	syncFlush := a.w.cfg.Broker.FlushDiskType == config.FlushSync
	var waiters []*Append // the flush actor's from here on
	for _, b := range a.pending {
		for _, p := range b.Appends {
			if syncFlush && p.err == nil && !p.NoWait {
				waiters = append(waiters, p)
				continue
			}
			a.w.answer(p, remoting.RespSuccess)
		}
		b.recycle()
	}
	ctx.Send(a.w.flush, &batchDone{end: a.w.deps.log.WrotePosition(), storeTimestamp: now, waiters: waiters})
	a.maybePrefault(ctx)
	clear(a.pending)
	if cap(a.pending) > 4096 {
		a.pending = nil
	} else {
		a.pending = a.pending[:0]
	}
}

// appendOne appends p's records, recs, with consecutive queue offsets and
// records their units. On an append error the records already stored stay
// stored and dispatched (the offset table must match the commit log), and p
// is answered with the error.
func (a *writerActor) appendOne(p *Append, recs []byte, now int64) {
	log := a.w.deps.log
	// Every record of p goes to p.Key: look the queue up once per request,
	// not per record (the key hashes a topic string).
	qo := a.next[p.Key]
	units, inBatch := a.units[p.Key]
	if units == nil {
		// Room for p's records at once, not a regrowth at 1, 2, 4, … units.
		units = make([]queue.Unit, 0, len(p.Tags))
	}
	p.queueOffset = qo
	multi := len(p.Tags) > 1
	if multi {
		p.ids = bytebufferpool.Get()
		p.ids.B = p.ids.B[:0]
	}
	n := 0
	for len(recs) > 0 {
		size := 0
		if len(recs) >= 4 {
			size = int(binary.BigEndian.Uint32(recs))
		}
		if size < message.RecordBytesMin || size > len(recs) || n >= len(p.Tags) {
			p.err = fmt.Errorf("%w: record %d: size %d of %d bytes left, %d tags", ErrBadAppend, n, size, len(recs), len(p.Tags))
			break
		}
		phys, err := log.Append(recs[:size], qo, now)
		if err != nil {
			p.err = fmt.Errorf("append to commit log: %w", err)
			a.noteAppendError(err)
			break
		}
		if n == 0 {
			p.phys = phys
		}
		units = append(units, queue.Unit{
			QueueOffset: qo, PhysOffset: phys, Size: int32(size), TagsCode: p.Tags[n], StoreTimestamp: now,
		})
		if multi {
			// A batch message answers every id; a single one's id is
			// written from phys straight into its response (answer.go).
			if n > 0 {
				p.ids.B = append(p.ids.B, ',')
			}
			p.ids.B = message.AppendOffsetMsgID(p.ids.B, a.w.storeHost, phys)
		}
		p.end = phys + int64(size)
		qo++
		n++
		recs = recs[size:]
	}
	if n > 0 {
		if !inBatch {
			a.order = append(a.order, p.Key)
		}
		a.units[p.Key] = units
		a.next[p.Key] = qo
	} else if p.err == nil {
		p.err = fmt.Errorf("%w: no records", ErrBadAppend)
	}
	if p.err != nil {
		a.logAppendError(p, n)
	}
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
