package writer

import (
	"fmt"

	"github.com/actormq/actormq/actors/reply"
	storeindex "github.com/actormq/actormq/storage/index"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/message"
)

// PutResult is the outcome of a Put.
type PutResult struct {
	// Err is nil when the record is stored. Its reply code (reply.CodeOf)
	// is what a producer would have been answered.
	Err error
	// FlushTimeout: stored, but the SYNC_FLUSH fsync did not finish within
	// syncFlushTimeout (a producer would get FLUSH_DISK_TIMEOUT).
	FlushTimeout bool
	MsgID        string // offsetMsgId of the record
	QueueOffset  int64
	PhysOffset   int64 // commit-log offset of the record
}

// Put appends one broker-built message (a retry, a delayed message coming
// due, a transaction commit or op record, a DLQ copy, ...) to m.Topic queue
// m.QueueID, exactly as given: no topic checks, no delay or transaction
// diversion — the caller decides where the message goes. m.StoreHost is set
// to this broker when zero; tagsCode is the consume-queue unit's tagsCode.
//
// done runs exactly once, on the writer or flush actor (or at once on the
// caller's goroutine when the writer is closed or m does not fit the record
// format), so it must not block: actors pass a function that Sends the
// result to themselves. With noWait it runs right after the append;
// otherwise, under SYNC_FLUSH, after the fsync that covers the record.
// Any goroutine.
func (w *Writer) Put(m *message.Message, tagsCode int64, noWait bool, done func(PutResult)) {
	if !m.StoreHost.IsValid() {
		m.StoreHost = w.storeHost
	}
	if err := message.CheckLimits(m); err != nil {
		done(PutResult{Err: fmt.Errorf("%w: %w", reply.ErrMessageIllegal, err)})
		return
	}
	if w.Closed() {
		done(PutResult{Err: fmt.Errorf("%w: commitlog writer closed", reply.ErrServiceNotAvailable)})
		return
	}
	if err := w.WriteError(); err != nil {
		done(PutResult{Err: err})
		return
	}
	a := NewAppend(1)
	a.Tags[0] = tagsCode
	a.Key = store.QueueKey{Topic: m.Topic, QueueID: m.QueueID}
	a.NoWait = noWait
	a.Result = done
	if w.indexer != nil {
		putIndexKeys(a, m)
	}
	b := NewBatch()
	b.Records.B = message.AppendRecord(b.Records.B, m)
	b.Add(a)
	w.Submit(b)
}

// putIndexKeys gives a Put's Append the index keys of m, as the topic
// actors do for sends (writer.IndexBatch), so that a group commit holding a
// broker-built message (a delayed message coming due, a retry, a
// transaction's end) is still indexed without reading the commit log. A
// ROLLBACK-typed record gets none: the index never indexes those.
func putIndexKeys(a *Append, m *message.Message) {
	a.Indexed = true
	if message.TransactionType(m.SysFlag) == message.TransactionRollback {
		return
	}
	uniq, keys := message.IndexedKeys(m.Properties)
	storeindex.EachKeyHash(m.Topic, uniq, keys, func(hash int32) {
		a.IndexKeys = append(a.IndexKeys, IndexKey{Hash: hash})
	})
}
