package transaction

import (
	"time"

	"github.com/actormq/actormq/actors/admit"
	"github.com/actormq/actormq/actors/offload"
	"github.com/actormq/actormq/actors/writer"
	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/asynkron/protoactor-go/actor"
)

// rootState is what the actor knows of one transaction (package comment:
// roots). Transactions whose records the scan has not reached and that no
// END touched have none.
type rootState struct {
	last     int64 // highest half queue offset of a stored record of it
	ended    bool  // an op record is stored or being stored (claimed by an END)
	opOffset int64 // op queue offset of its op record; -1 while unknown
	copying  int   // re-appends in flight
}

// Messages of the actor besides endReq and the END path's Put results.
type (
	checkTick    struct{ gen uint64 }
	scanMore     struct{}
	drainRequest struct{}
	drained      struct{}
	copyStored   struct {
		root  int64
		copy  message.Message
		res   writer.PutResult
		check bool // send CHECK_TRANSACTION_STATE once stored
	}
	discardStored struct {
		halfOffset int64
		res        writer.PutResult
	}

	// scanRequest starts a scan at once (export_test.go); scanDone answers
	// it (answerScan).
	scanRequest struct{}
	scanDone    struct{}
)

// txActor owns the transaction state (package comment). Goroutine: the
// actor's, for all methods (rebuild runs before the actor starts).
type txActor struct {
	s           *Service
	delayLevels []time.Duration
	roots       map[int64]*rootState

	halfNext      int64 // next half queue offset the scan examines
	committedHalf int64 // progress last handed to Offsets; -1 none
	committedOp   int64

	started    time.Time // the clock at start (producerReturnGrace)
	scanEnd    int64     // half queue end when the running scan began; -1 when none runs
	scanNow    time.Time // the clock when the running scan began
	unreadable int       // records the running scan could not read
	units      []consumequeue.Unit
	// topic is where CheckMaxTimeTopic's creation stands: absent, being
	// created, or known to exist.
	topic topicState

	puts        int        // Puts in flight
	draining    bool       // Stop began: no more scans or ENDs
	drainWaiter *actor.PID // Stop's future, answered once puts is 0
	scanWaiter  *actor.PID // a scanRequest's future, answered by answerScan
	timer       *time.Timer
	gen         uint64
}

func newTxActor(s *Service) *txActor {
	return &txActor{
		s:             s,
		delayLevels:   s.cfg.Broker.DelayLevels(),
		roots:         make(map[int64]*rootState),
		started:       s.cfg.Now(),
		committedHalf: -1,
		committedOp:   -1,
		scanEnd:       -1,
		units:         make([]consumequeue.Unit, 0, scanBatchMax),
	}
}

// Receive dispatches one message.
func (a *txActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		a.armTimer(ctx)
	case *actor.Stopping:
		a.stopTimer()
	case *endReq:
		if a.draining {
			a.answer(msg, admit.ErrStopping)
			return
		}
		a.end(ctx, msg)
	case *commitStored:
		a.puts--
		a.commitDone(ctx, msg)
	case *opStored:
		a.puts--
		a.opDone(msg)
	case *copyStored:
		a.puts--
		a.copyDone(msg)
	case *discardStored:
		a.puts--
		if msg.res.Err != nil {
			a.s.log.Error().Err(msg.res.Err).Int64("halfOffset", msg.halfOffset).Msg("discarded half message not stored")
		}
	case *offload.Done:
		a.topicCreated(msg.Err)
	case *checkTick:
		if msg.gen == a.gen && !a.draining {
			a.startScan(ctx)
		}
	case *scanMore:
		if !a.draining {
			a.scan(ctx)
		}
	case *scanRequest:
		a.scanWaiter = ctx.Sender()
		if a.scanEnd < 0 && !a.draining {
			a.stopTimer() // finishScan arms it again
			a.startScan(ctx)
		}
	case *drainRequest:
		a.draining, a.drainWaiter = true, ctx.Sender()
		a.stopTimer()
		a.scanEnd = -1
	}
	a.answerScan(ctx)
	a.answerDrain(ctx)
}

// answerScan answers a scanRequest once no scan runs and no Put is in
// flight: the scan's copies and discards are stored and its checks written.
// The unit tests run each scan this way, one at a time, with a
// transactionCheckInterval longer than the test. Rejected: tests on a 5 ms
// timer, whose scans ran on their own schedule: a test had to answer a check
// before the next rounds counted it up to transactionCheckMax and discarded
// its transaction, which a loaded machine did not always allow.
func (a *txActor) answerScan(ctx actor.Context) {
	if a.scanWaiter == nil || a.scanEnd >= 0 || a.puts > 0 {
		return
	}
	ctx.Send(a.scanWaiter, &scanDone{})
	a.scanWaiter = nil
}

// put hands m to the writer without waiting for a sync flush (Java stores
// these with waitStoreMsgOK=false); the result comes back to this actor as
// the message wrap builds (on the writer's goroutine, so wrap only packs).
func (a *txActor) put(ctx actor.Context, m *message.Message, tagsCode int64, wrap func(writer.PutResult) any) {
	a.puts++
	root, self := ctx.ActorSystem().Root, ctx.Self()
	a.s.cfg.Writer.Put(m, tagsCode, true, func(res writer.PutResult) { root.Send(self, wrap(res)) })
}

// answerDrain answers Stop once no Put is in flight, after saving the
// progress.
func (a *txActor) answerDrain(ctx actor.Context) {
	if a.drainWaiter == nil || a.puts > 0 {
		return
	}
	a.commitProgress()
	ctx.Send(a.drainWaiter, &drained{})
	a.drainWaiter = nil
}

// armTimer schedules the next scan. The generation makes a tick of a timer
// stopped meanwhile harmless.
func (a *txActor) armTimer(ctx actor.Context) {
	a.gen++
	gen, root, self := a.gen, ctx.ActorSystem().Root, ctx.Self()
	a.timer = time.AfterFunc(a.s.cfg.Broker.TransactionCheckInterval, func() { root.Send(self, &checkTick{gen: gen}) })
}

func (a *txActor) stopTimer() {
	a.gen++
	if a.timer != nil {
		a.timer.Stop()
	}
}

// commitProgress hands the progress to Offsets when it moved: the half
// queue first, so that a persist between the two commits saves an op
// progress that is older, which only makes a restart re-read more.
func (a *txActor) commitProgress() {
	const group = body.TransSystemGroup
	if a.halfNext != a.committedHalf {
		a.s.cfg.Offsets.Commit(group, halfKey.Topic, halfKey.QueueID, a.halfNext)
		a.committedHalf = a.halfNext
	}
	if op := a.opLow(); op != a.committedOp {
		a.s.cfg.Offsets.Commit(group, opKey.Topic, opKey.QueueID, op)
		a.committedOp = op
	}
}

// opLow is the op progress: the lowest op record of a transaction the scan
// has not passed, else the op queue's end. An op record still being stored
// lands at or above that end.
func (a *txActor) opLow() int64 {
	low := a.s.cfg.Queues.MaxOffset(opKey.Topic, opKey.QueueID)
	for _, st := range a.roots {
		if st.ended && st.opOffset >= 0 && st.opOffset < low {
			low = st.opOffset
		}
	}
	return low
}
