package index

import (
	"bytes"
	"errors"
	"time"
	"unsafe"

	"github.com/actormq/actormq/actors/writer"
	"github.com/actormq/actormq/storage/commitlog"
	storeindex "github.com/actormq/actormq/storage/index"
	"github.com/actormq/actormq/wire/message"
	"github.com/asynkron/protoactor-go/actor"
)

// Messages of the index actor.
type (
	// wakeUp asks for a catch-up step; one shared value.
	wakeUp struct{}
	// flushTick starts a periodic flush. Each armed timer sends its own
	// tick and only the last armed one counts, so a tick queued before a
	// restart cannot start a second timer chain.
	flushTick   struct{}
	deleteBelow struct{ commitLogMin int64 }
)

var theWakeUp = &wakeUp{}

// indexActor owns the Index (x.idx) and the position indexing continues
// from. Goroutine: the actor's, for all methods.
type indexActor struct {
	x       *Indexer
	next    int64 // commit-log offset (a record start) to index from
	failed  bool  // a storage error stopped indexing
	timer   *time.Timer
	pending *flushTick
	// keys holds the keys indexRecord found, put by putKeys when it
	// fills and at the end of each catch-up step (storeindex.PutKeys).
	keys  [keysBatch]storeindex.Key
	nkeys int
	// handoffs holds the writer's IndexBatches that start beyond next
	// (the start-up backlog is being read), in commit-log order; woken
	// says a wakeUp is in the mailbox.
	handoffs []*writer.IndexBatch
	woken    bool
	// startUp is the catch-up recover starts, logged once it reaches the
	// write position.
	startUp struct {
		from    int64
		began   time.Time
		records int
		done    bool
	}
}

func (a *indexActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.recover()
		a.arm(ctx)
		a.wake(ctx)
	case *wakeUp:
		a.woken = false
		if a.step() {
			a.wake(ctx)
		}
	case *writer.IndexBatch:
		if a.handOff(m) {
			a.wake(ctx)
		}
	case *flushTick:
		if m != a.pending {
			return
		}
		a.flush()
		a.arm(ctx)
	case *deleteBelow:
		a.deleteBelow(m.commitLogMin)
	case *queryReq:
		a.query(m)
	case *viewReq:
		a.view(m)
	case *actor.Restarting:
		a.disarm()
	case *actor.Stopping:
		a.disarm()
		a.stop()
	case *actor.Stopped:
		a.x.stopped()
	}
}

// recover runs duty 1 (package comment).
func (a *indexActor) recover() {
	x := a.x
	if x.idx == nil {
		return
	}
	wrote := x.clog.WrotePosition()
	if err := x.idx.TruncateFrom(wrote); err != nil {
		a.fail(err)
		return
	}
	a.next = max(x.idx.EndPhyOffset(), x.clog.MinOffset())
	if a.next < wrote {
		if _, err := x.clog.ReadMessage(a.next); err != nil {
			// endPhyOffset is always a record start; a file that says
			// otherwise is damaged. Re-reading the whole log is safe:
			// Put skips what lies below the end offset.
			x.log.Error().Err(err).Int64("endPhyOffset", a.next).Msg("index end offset is no record; indexing from the oldest segment")
			a.next = x.clog.MinOffset()
		}
	}
	x.log.Info().Int64("from", a.next).Int64("to", wrote).Msg("indexing the commit log")
	a.startUp.from, a.startUp.began = a.next, time.Now()
}

// catchUp indexes up to limit records (limit 0: no limit) from a.next, up
// to the record at or past to (noBound: the write position), but not when
// more than maxBytes (if > 0) wait, and reports whether the commit log
// holds more below to. It then tells the index the last record it went
// past (Advance), keys or not, so that a restart resumes after it.
func (a *indexActor) catchUp(limit int, maxBytes, to int64) bool {
	x := a.x
	if x.idx == nil || a.failed {
		return false
	}
	if a.next >= to {
		return false
	}
	if maxBytes > 0 && x.clog.WrotePosition()-a.next > maxBytes {
		x.log.Warn().Int64("from", a.next).Int64("to", x.clog.WrotePosition()).
			Msg("index backlog left for the next start")
		return false
	}
	var putErr error
	n := 0
	last, lastTime := int64(-1), int64(0) // the last record indexed
	stoppedAt := int64(-1)                // the record at to, not read
	end, err := x.clog.Scan(a.next, func(offset int64, rec []byte) bool {
		if offset >= to {
			stoppedAt = offset
			return false
		}
		n++
		if putErr = a.indexRecord(offset, rec); putErr != nil {
			return false
		}
		last, lastTime = offset, message.RecordStoreTimestamp(rec)
		return limit == 0 || n < limit
	})
	if putErr == nil {
		putErr = a.putKeys()
	}
	if last >= 0 && putErr == nil {
		if err := x.idx.Advance(last, lastTime); err != nil {
			a.fail(err)
			return false
		}
	}
	switch {
	case putErr != nil:
		a.fail(putErr)
		return false
	case errors.Is(err, commitlog.ErrOffsetNotFound) && end < x.clog.MinOffset():
		// Retention deleted segments not indexed yet: their records are gone.
		a.next = x.clog.MinOffset()
		return true
	case err != nil:
		a.fail(err)
		return false
	}
	if stoppedAt >= 0 {
		end = stoppedAt // Scan counts the refused record as visited
	}
	a.next = end
	more := end < min(to, x.clog.WrotePosition())
	if !a.startUp.done {
		a.startUp.records += n
		if !more {
			a.startUp.done = true
			x.log.Info().Int64("from", a.startUp.from).Int64("to", end).Int("records", a.startUp.records).
				Dur("took", time.Since(a.startUp.began)).Msg("index caught up with the commit log")
		}
	}
	return more
}

// indexRecord puts the record's keys as Java's buildIndex does: topic#
// UNIQ_KEY, then topic#k for each non-empty entry of the space-separated
// KEYS (a later duplicate property wins, as in the properties map);
// ROLLBACK-typed records are skipped. It reads the header fields and the
// properties in place and hashes topic and key without joining them, so
// it allocates nothing (TestIndexRecordAllocatesNothing): the strings
// alias rec and do not outlive the call; only the keys' hashes are kept,
// in a.keys, put a batch at a time: the caller calls putKeys after its
// last record. A record too short for its fields is skipped: the writer
// and recovery validated it, so it changed since, and only it is lost to
// the index.
func (a *indexActor) indexRecord(offset int64, rec []byte) error {
	topicBytes, props := message.RecordTopicProperties(rec)
	_, _, sysFlag, ok := message.RecordQueue(rec)
	if topicBytes == nil || !ok {
		a.x.log.Error().Int64("offset", offset).Msg("undecodable record not indexed")
		return nil
	}
	if message.TransactionType(sysFlag) == message.TransactionRollback {
		return nil
	}
	// Both keys indexed contain "KEY": properties without it (a batch
	// item's, CLUSTER alone) need no walk. One SIMD substring search is
	// cheaper than splitting every entry.
	if !bytes.Contains(props, keyMark) {
		return nil
	}
	uniq, keys := message.IndexedKeys(view(props))
	if uniq == "" && keys == "" {
		return nil
	}
	storeTime := message.RecordStoreTimestamp(rec)
	var err error
	storeindex.EachKeyHash(view(topicBytes), uniq, keys, func(hash int32) {
		if err == nil {
			err = a.addKey(hash, offset, storeTime)
		}
	})
	return err
}

// keysBatch is how many keys putKeys puts at once: enough slot reads in
// flight to overlap their misses, few enough that the lines they bring
// stay in L1 until the puts (BenchmarkPutKeys: 8 and 32 alike, 128 worse).
const keysBatch = 32

// addKey adds a key's hash to a.keys, putting the batch when it is full.
func (a *indexActor) addKey(hash int32, offset, storeTime int64) error {
	a.keys[a.nkeys] = storeindex.Key{Hash: hash, Phys: offset, StoreTimestamp: storeTime}
	if a.nkeys++; a.nkeys == len(a.keys) {
		return a.putKeys()
	}
	return nil
}

// putKeys puts the keys in a.keys into the index and empties it.
func (a *indexActor) putKeys() error {
	keys := a.keys[:a.nkeys]
	a.nkeys = 0
	_, err := a.x.idx.PutKeys(keys)
	return err
}

// keyMark is in the names of both properties indexRecord indexes.
var keyMark = []byte("KEY")

// view is b as a string without a copy, for reading a mapped record in
// place: b must not change while the string is in use, and the string must
// not outlive the caller's hold on b.
func view(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// fail stops indexing after a storage error (duty 2).
func (a *indexActor) fail(err error) {
	a.failed = true
	a.x.log.Error().Err(err).Int64("offset", a.next).Msg("indexing stopped; queries answer from what is indexed")
}

func (a *indexActor) flush() {
	if err := a.x.idx.Flush(); err != nil {
		a.x.log.Error().Err(err).Msg("index flush failed")
	}
}

func (a *indexActor) deleteBelow(commitLogMin int64) {
	if a.x.idx == nil {
		return
	}
	if _, err := a.x.idx.DeleteBelow(commitLogMin); err != nil {
		a.x.log.Error().Err(err).Msg("index file deletion failed")
	}
}

// stop runs duty 5 on a Stop; after a failure (supervision gave up) it only
// closes the files, since indexing more may fail the same way.
func (a *indexActor) stop() {
	x := a.x
	if x.idx == nil {
		return
	}
	if x.stopping.Load() {
		a.catchUp(0, stopCatchUpBytes, noBound)
	}
	a.dropHandoffs()
	if err := x.idx.Close(); err != nil {
		x.log.Error().Err(err).Msg("index close failed")
	}
}

// arm schedules the next flush with a one-shot runtime timer that Sends a
// tick; a periodic ticker could pile ticks up behind a slow msync.
func (a *indexActor) arm(ctx actor.Context) {
	if a.x.idx == nil {
		return
	}
	root, self, t := ctx.ActorSystem().Root, ctx.Self(), &flushTick{}
	a.pending = t
	a.timer = time.AfterFunc(a.x.cfg.FlushInterval, func() { root.Send(self, t) })
}

func (a *indexActor) disarm() {
	if a.timer != nil {
		a.timer.Stop()
		a.timer = nil
	}
	a.pending = nil
}
