package writer

import (
	"sync"

	"github.com/actormq/actormq/actors/queue"
	storeindex "github.com/actormq/actormq/storage/index"
)

// IndexKey is one index key of an Append's record, computed by the
// submitter (the topic actor, which walks the properties anyway): the
// hash of topic#key (storeindex.EachKeyHash) and the record's position in
// the Append (0 for a single message).
type IndexKey struct {
	Hash   int32
	Record int32
}

// indexKeysInline is how many keys an Append holds without a heap array:
// a single message's UNIQ_KEY and a few KEYS entries.
const indexKeysInline = 4

// indexKeysPooledMax keeps a keys array grown for a huge batch message out
// of the pool.
const indexKeysPooledMax = 4096

// IndexBatch is what the writer hands the message index after each group
// commit: the commit-log range [From, To) the commit wrote and, when
// Complete, the index keys of every record in it, in commit-log order, so
// that the index reads no record (actors/index). Without it the index read
// each new record through the commit log's mapping, and its first touch of
// each page was a page fault: 67% of the broker's faults and ~1 CPU-µs a
// 1 KiB message (session 9). Complete is false when a record came without
// keys (a submitter that sets no Indexed; Put sets it) or the commit failed:
// the index then reads [From, To) itself.
//
// Ownership: the writer fills it and passes it to Indexer.Index; from
// there the receiver owns it and returns it with Release exactly once.
type IndexBatch struct {
	From, To int64
	Complete bool
	Keys     []storeindex.Key // sorted by Phys, in put order
	// Last is the commit-log offset of the last record, -1 when none was
	// stored; LastTimestamp is its store timestamp.
	Last, LastTimestamp int64
}

// Indexer receives the writer's IndexBatches; the index's feed
// (actors/index Feed) implements it beside Dispatcher. Writer actor only.
type Indexer interface {
	Index(b *IndexBatch)
}

var indexBatches = sync.Pool{New: func() any { return new(IndexBatch) }}

// newIndexBatch returns an empty, Complete IndexBatch from the pool.
func newIndexBatch(from int64) *IndexBatch {
	b := indexBatches.Get().(*IndexBatch)
	b.From, b.To, b.Complete, b.Last, b.LastTimestamp = from, from, true, -1, 0
	b.Keys = b.Keys[:0]
	return b
}

// Release returns b to the pool. Its owner's goroutine, once.
func (b *IndexBatch) Release() {
	if cap(b.Keys) > indexKeysPooledMax {
		b.Keys = nil
	}
	indexBatches.Put(b)
}

// indexAppend adds the keys of p, whose first n records were just stored
// (their units are units, in record order) at now, to a.index (nil when
// there is no Indexer). Once per Append, not per record: a 64-item batch
// is one call.
func (a *writerActor) indexAppend(p *Append, units []queue.Unit, now int64) {
	b := a.index
	if b == nil || len(units) == 0 {
		return
	}
	b.Last, b.LastTimestamp = units[len(units)-1].PhysOffset, now
	if !b.Complete {
		return
	}
	if !p.Indexed {
		b.Complete = false
		return
	}
	for _, k := range p.IndexKeys { // in record order
		if int(k.Record) >= len(units) {
			break // records not stored (an append error)
		}
		b.Keys = append(b.Keys, storeindex.Key{Hash: k.Hash, Phys: units[k.Record].PhysOffset, StoreTimestamp: now})
	}
}
