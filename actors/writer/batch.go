package writer

import (
	"sync"
	"time"

	"github.com/actormq/actormq/internal/sizeclass"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/valyala/bytebufferpool"
)

// Append is one send request: one record, or the records of a batch
// message, for one queue, taking consecutive queue offsets. Its records
// travel in a Batch. The submitter (a topic actor, or Put) gets it from
// NewAppend, fills the exported fields and adds it to a Batch; from Submit on
// the writer (and the flush actor) own it, and once it is answered and Done
// ran it goes back to the pool: nobody may touch it after Submit.
type Append struct {
	Conn Conn              // reply target
	Req  *remoting.Command // the request; the response echoes its opaque
	Key  store.QueueKey
	// Ref, when set, is the sender's handle of Key's queue (QueueRef): it
	// spares appendOne its lookup of Key. Optional.
	Ref *QueueRef
	// ReplyQueueID is the queueId the response reports: the queue the
	// producer's message was meant for, which differs from Key.QueueID when
	// the send path diverted it (delay level, half message), as Java answers.
	ReplyQueueID int32
	// Tags holds the tagsCode of each record, for the consume-queue units;
	// the append has len(Tags) records (NewAppend sizes it).
	Tags    []int64
	UniqKey string // UNIQ_KEY of a single message: the transactionId field
	NoWait  bool   // WAIT=false: answer without waiting for SYNC_FLUSH
	// Done, when set, runs once after the response was written (the send
	// side's in-flight accounting).
	Done func()
	// Result, when set, replaces the response: the writer (or flush actor)
	// calls it instead of writing to Conn, and Conn and Req may be nil.
	// Broker-internal appends (Writer.Put) use it.
	Result func(PutResult)
	// Indexed says IndexKeys holds the index keys of all the records, in
	// record order (indexkeys.go); without it the index reads the records.
	Indexed   bool
	IndexKeys []IndexKey

	tags   [1]int64 // backing array of Tags for one record
	more   []int64  // backing array of Tags for more, kept across reuse
	recEnd int      // end of its records in the Batch's buffer (Batch.Add)
	// keys backs IndexKeys while it fits.
	keys [indexKeysInline]IndexKey

	// Results, written by the writer actor.
	queueOffset int64 // of the first record
	phys        int64 // commit-log offset of the first record
	end         int64 // commit-log end of the last record
	// ids are the comma-joined offset msg ids of a multi-record append
	// (len(Tags) > 1). The array stays with the Append across reuse, like
	// more: from bytebufferpool, a batch's ~1.5 KB of ids was dropped and
	// regrown after a run of small answers had calibrated the pool down.
	ids       []byte
	err       error
	waitSince time.Time // when it started waiting for a SYNC_FLUSH
}

// tagsPooledMax keeps a Tags array grown for a huge batch message out of
// the pool.
const tagsPooledMax = 4096

// idsPooledMax keeps an ids array grown for a huge batch message out of the
// pool (~300 ids).
const idsPooledMax = 16 << 10

var appends = sync.Pool{New: func() any { return new(Append) }}

// NewAppend returns an empty Append (from a pool) whose Tags has room for
// records tags codes. Any goroutine.
func NewAppend(records int) *Append {
	a := appends.Get().(*Append)
	if a.IndexKeys == nil {
		a.IndexKeys = a.keys[:0]
	}
	switch {
	case records == 1:
		a.Tags = a.tags[:]
	case cap(a.more) >= records:
		a.Tags = a.more[:records]
	default:
		a.more = make([]int64, records)
		a.Tags = a.more
	}
	return a
}

// Discard gives up an Append that was never added to a Batch: it goes back
// to the pool. Its submitter's goroutine.
func (a *Append) Discard() { a.release() }

// release returns a, answered or discarded, to the pool.
func (a *Append) release() {
	more, ids, keys := a.more, a.ids, a.IndexKeys
	if cap(more) > tagsPooledMax {
		more = nil
	}
	if cap(ids) > idsPooledMax {
		ids = nil
	}
	if cap(keys) > indexKeysPooledMax {
		keys = nil
	}
	*a = Append{more: more[:0], ids: ids[:0], IndexKeys: keys[:0]}
	appends.Put(a)
}

// Batch is what one Submit hands the writer: Appends in order, their records
// back to back in Records (those of Appends[0] first). A topic actor
// submits everything it encoded in one turn as one Batch, so the writer gets
// one message for many sends.
//
// Ownership: the submitter gets it from NewBatch (or NewBatchFor), appends
// each Append's records to Records.B and then calls Add; Submit passes the
// Batch, its buffer and its Appends to the writer, which returns the Batch
// (with its buffer) to the pool once appended and answered. A Batch given up
// before Submit is handed back with Release.
//
// The buffer stays with its Batch across reuse rather than going back to
// bytebufferpool, whose size calibration is driven by the many small
// answer frames and would drop a turn's tens of KiB at every Put. Batches
// are pooled by the capacity of their buffer (powers of two, 4 KiB to
// 4 MiB), so that a turn of 1 MiB takes a buffer that holds it: from one
// pool of any capacity, a turn larger than the Batch it got regrew the
// buffer (and dropped the old one) whenever turns of different sizes
// alternated, the garbage that still made GC run in 32 × 1 KiB batch runs.
type Batch struct {
	Records *bytebufferpool.ByteBuffer
	Appends []*Append
}

// Pool bounds: a slice grown for a burst is dropped, not kept.
const batchAppendsPooledMax = 4096

// Records size classes, 4 KiB to 4 MiB: batchPools[c] holds Batches whose
// Records.B has a capacity of at least batchClasses.Size(c) bytes; a buffer
// above the largest class is not pooled.
var (
	batchClasses = sizeclass.Classes{MinShift: 12, Count: 11}
	batchPools   [11]sync.Pool
)

// NewBatch returns an empty Batch. Any goroutine.
func NewBatch() *Batch { return NewBatchFor(0) }

// NewBatchFor returns an empty Batch whose Records.B has room for n bytes
// (a Batch above 4 MiB is not pooled). Any goroutine.
func NewBatchFor(n int) *Batch {
	c := batchClasses.For(n)
	if c < 0 {
		return &Batch{Records: &bytebufferpool.ByteBuffer{B: make([]byte, 0, n)}}
	}
	b, _ := batchPools[c].Get().(*Batch)
	if b == nil {
		b = &Batch{Records: &bytebufferpool.ByteBuffer{B: make([]byte, 0, batchClasses.Size(c))}}
	}
	b.Records.B = b.Records.B[:0]
	return b
}

// Add appends a, whose records the caller has just appended to Records.B.
func (b *Batch) Add(a *Append) {
	a.recEnd = len(b.Records.B)
	b.Appends = append(b.Appends, a)
}

// Release gives up a Batch that is not submitted: its buffer and its Appends
// (which the caller answered or no longer needs) go back to their pools.
func (b *Batch) Release() {
	for _, a := range b.Appends {
		a.release()
	}
	b.recycle()
}

// recycle returns the Batch and its buffer (not its Appends) to the pool of
// its buffer's class (the largest class its capacity fills); a Batch whose
// buffer grew past the largest class, or was replaced by one below the
// smallest class, is dropped.
func (b *Batch) recycle() {
	c := batchClasses.Holding(cap(b.Records.B))
	if c < 0 {
		return
	}
	b.Records.B = b.Records.B[:0]
	clear(b.Appends)
	if cap(b.Appends) > batchAppendsPooledMax {
		b.Appends = nil
	}
	b.Appends = b.Appends[:0]
	batchPools[c].Put(b)
}
