package index

import (
	"errors"
	"strings"
	"time"

	"github.com/actormq/actormq/storage/commitlog"
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
}

func (a *indexActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.recover()
		a.arm(ctx)
		ctx.Send(ctx.Self(), theWakeUp)
	case *wakeUp:
		a.x.woken.Store(false)
		if a.catchUp(scanChunkRecords, 0) {
			ctx.Send(ctx.Self(), theWakeUp)
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
}

// catchUp indexes up to limit records (limit 0: no limit) from a.next, but
// not beyond a.next+maxBytes when maxBytes > 0, and reports whether the
// commit log holds more.
func (a *indexActor) catchUp(limit int, maxBytes int64) bool {
	x := a.x
	if x.idx == nil || a.failed {
		return false
	}
	if maxBytes > 0 && x.clog.WrotePosition()-a.next > maxBytes {
		x.log.Warn().Int64("from", a.next).Int64("to", x.clog.WrotePosition()).
			Msg("index backlog left for the next start")
		return false
	}
	var putErr error
	n := 0
	end, err := x.clog.Scan(a.next, func(offset int64, rec []byte) bool {
		putErr = a.indexRecord(offset, rec)
		n++
		return putErr == nil && (limit == 0 || n < limit)
	})
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
	a.next = end
	return end < x.clog.WrotePosition()
}

// indexRecord puts the record's keys. A record that does not decode is
// skipped: the writer and recovery validated it, so it changed since, and
// only it is lost to the index.
func (a *indexActor) indexRecord(offset int64, rec []byte) error {
	m, _, err := message.DecodeRecord(rec, false)
	if err != nil {
		a.x.log.Error().Err(err).Int64("offset", offset).Msg("undecodable record not indexed")
		return nil
	}
	if message.TransactionType(m.SysFlag) == message.TransactionRollback {
		return nil
	}
	if uniq, ok := message.PropertyValue(m.Properties, message.PropertyUniqKey); ok {
		if _, err := a.x.idx.Put(m.Topic+"#"+uniq, offset, m.StoreTimestamp); err != nil {
			return err
		}
	}
	keys, _ := message.PropertyValue(m.Properties, message.PropertyKeys)
	for _, k := range strings.Split(keys, " ") {
		if k == "" {
			continue
		}
		if _, err := a.x.idx.Put(m.Topic+"#"+k, offset, m.StoreTimestamp); err != nil {
			return err
		}
	}
	return nil
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
		a.catchUp(0, stopCatchUpBytes)
	}
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
