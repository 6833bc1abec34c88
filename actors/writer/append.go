package writer

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/queue"
	"github.com/actormq/actormq/actors/reply"
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
}

// Append is one send request: one record, or a batch of records for one
// queue that take consecutive queue offsets. The topic actor fills the
// exported fields and Submits it; from then on the writer (and the flush
// actor) own it.
type Append struct {
	Conn Conn              // reply target
	Req  *remoting.Command // the request; the response echoes its opaque
	Key  store.QueueKey
	// ReplyQueueID is the queueId the response reports: the queue the
	// producer's message was meant for, which differs from Key.QueueID when
	// the send path diverted it (delay level, half message), as Java answers.
	ReplyQueueID int32
	// Records holds whole encoded records back to back (QUEUEOFFSET,
	// PHYSICALOFFSET and STORETIMESTAMP are patched in the stored copy).
	// The writer returns it to bytebufferpool once appended.
	Records *bytebufferpool.ByteBuffer
	Tags    []int64 // tagsCode per record, for the consume-queue units
	UniqKey string  // UNIQ_KEY of a single message: the transactionId field
	NoWait  bool    // WAIT=false: answer without waiting for SYNC_FLUSH
	// Done, when set, runs once after the response was written (the send
	// side's in-flight accounting).
	Done func()
	// Result, when set, replaces the response: the writer (or flush actor)
	// calls it instead of writing to Conn, and Conn and Req may be nil.
	// Broker-internal appends (Writer.Put) use it.
	Result func(PutResult)

	// Results, written by the writer actor.
	queueOffset int64 // of the first record
	msgID       string
	phys        int64 // commit-log offset of the first record
	end         int64 // commit-log end of the last record
	err         error
	waitSince   time.Time // when it started waiting for a SYNC_FLUSH
}

// batchMarker closes a group-commit batch.
type batchMarker struct{}

var theMarker = &batchMarker{}

// writerActor is the only appender of the commit log.
type writerActor struct {
	w       *Writer
	next    map[store.QueueKey]int64 // next queue offset per queue
	pending []*Append
	marked  bool // a marker is in the mailbox

	units   map[store.QueueKey][]queue.Unit // this batch's units per queue
	order   []store.QueueKey                // queues in first-append order
	idBuf   []byte
	errLogs int
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
	case *Append:
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
	case *actor.Stopping:
		if a.w.stopping.Load() {
			a.commit(ctx) // a graceful Stop: finish what was submitted
			return
		}
		// A failure stop: the state may be inconsistent, store nothing more.
		for _, p := range a.pending {
			p.err = fmt.Errorf("%w: commitlog writer stopped", reply.ErrServiceNotAvailable)
			a.w.answer(p, remoting.RespSuccess)
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
	for _, p := range a.pending {
		a.appendOne(p, now)
	}
	for _, k := range a.order {
		a.w.cfg.Dispatcher.Dispatch(k, a.units[k])
		delete(a.units, k)
	}
	a.order = a.order[:0]

	syncFlush := a.w.cfg.Broker.FlushDiskType == config.FlushSync
	var waiters []*Append
	for _, p := range a.pending {
		if syncFlush && p.err == nil && !p.NoWait {
			waiters = append(waiters, p)
			continue
		}
		a.w.answer(p, remoting.RespSuccess)
	}
	ctx.Send(a.w.flush, &batchDone{end: a.w.deps.log.WrotePosition(), storeTimestamp: now, waiters: waiters})
	clear(a.pending)
	if cap(a.pending) > 4096 {
		a.pending = nil
	} else {
		a.pending = a.pending[:0]
	}
}

// appendOne appends p's records with consecutive queue offsets and records
// their units. On an append error the records already stored stay stored and
// dispatched (the offset table must match the commit log), and p is answered
// with the error.
func (a *writerActor) appendOne(p *Append, now int64) {
	log := a.w.deps.log
	recs := p.Records.B
	// Every record of p goes to p.Key: look the queue up once per request,
	// not per record (the key hashes a topic string).
	qo := a.next[p.Key]
	units, inBatch := a.units[p.Key]
	p.queueOffset = qo
	a.idBuf = a.idBuf[:0]
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
			break
		}
		if n == 0 {
			p.phys = phys
		}
		units = append(units, queue.Unit{
			QueueOffset: qo, PhysOffset: phys, Size: int32(size), TagsCode: p.Tags[n], StoreTimestamp: now,
		})
		if n > 0 {
			a.idBuf = append(a.idBuf, ',')
		}
		a.idBuf = message.AppendOffsetMsgID(a.idBuf, a.w.storeHost, phys)
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
	p.msgID = string(a.idBuf)
	bytebufferpool.Put(p.Records)
	p.Records = nil
	if p.err != nil {
		a.errLogs++
		ev := a.w.log.Debug()
		if a.errLogs <= 10 {
			ev = a.w.log.Error()
		}
		ev.Err(p.err).Str("topic", p.Key.Topic).Int32("queueId", p.Key.QueueID).Int("stored", n).Msg("append failed")
	}
}

// successFrame encodes the SendMessageResponseHeader of a stored send
// straight into a pooled buffer: no Command, map or number strings per send.
func (w *Writer) successFrame(p *Append, code int32) *bytebufferpool.ByteBuffer {
	remark := ""
	if code == remoting.RespFlushDiskTimeout {
		remark = "flush disk timeout"
	}
	resp := remoting.Command{
		Code: code, Language: remoting.LanguageGo, Version: remoting.Version,
		Opaque: p.Req.Opaque, Flag: remoting.FlagResponse, Remark: remark,
	}
	var fields [6]remoting.ExtField
	ext := append(fields[:0],
		remoting.ExtField{Key: "msgId", Str: p.msgID},
		remoting.ExtField{Key: "queueId", Int: int64(p.ReplyQueueID), IsInt: true},
		remoting.ExtField{Key: "queueOffset", Int: p.queueOffset, IsInt: true})
	if p.UniqKey != "" {
		ext = append(ext, remoting.ExtField{Key: "transactionId", Str: p.UniqKey})
	}
	ext = append(ext,
		remoting.ExtField{Key: "MSG_REGION", Str: w.cfg.Broker.RegionID},
		remoting.ExtField{Key: "TRACE_ON", Str: w.traceOn})
	buf := bytebufferpool.Get()
	buf.B = remoting.AppendFrameExt(buf.B[:0], &resp, ext)
	return buf
}

// answer writes p's response and runs p.Done. code is the success code to
// use when p has no error (SUCCESS or FLUSH_DISK_TIMEOUT). Writer or flush
// actor.
func (w *Writer) answer(p *Append, code int32) {
	if p.Result != nil {
		p.Result(PutResult{
			Err: p.err, FlushTimeout: code == remoting.RespFlushDiskTimeout,
			MsgID: p.msgID, QueueOffset: p.queueOffset, PhysOffset: p.phys,
		})
		if p.Done != nil {
			p.Done()
		}
		return
	}
	var err error
	if p.err != nil {
		err = p.Conn.Write(w.ErrorResponse(p.Req, p.err))
	} else {
		err = p.Conn.WriteFrame(w.successFrame(p, code))
	}
	if err != nil {
		w.log.Debug().Err(err).Msg("send response not written")
	}
	if p.Done != nil {
		p.Done()
	}
}
