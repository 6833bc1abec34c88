package transaction

import (
	"strconv"
	"strings"

	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
)

// rebuild restores the state a previous run left (package comment:
// progress), before the actor starts:
//
//  1. the progress, from the CID_RMQ_SYS_TRANS offsets (the queue's minimum
//     when none is saved, as Java), within the queues' bounds;
//  2. every op record from the op progress on marks its transaction ended;
//  3. every half record the scan has not passed yet: its transaction's last
//     record, an op on the record itself (op bodies without our root
//     property, as Java writes them), and copies of open transactions;
//  4. transactions ended whose records all lie behind the scan are dropped.
func (a *txActor) rebuild() {
	a.halfNext = a.savedOffset(halfKey)
	opFrom := a.savedOffset(opKey)
	opped := make(map[int64]int64) // half queue offset → op queue offset
	ops := 0
	a.readRange(opKey, opFrom, func(opOff int64, m *message.Message) {
		root, hasRoot := rootProperty(m)
		for part := range strings.SplitSeq(string(m.Body), ",") {
			halfOff, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
			if err != nil || halfOff < 0 {
				continue
			}
			r := halfOff
			if hasRoot {
				r = root
			}
			a.markEnded(r, halfOff, opOff)
			opped[halfOff] = opOff
			ops++
		}
	})
	a.readRange(halfKey, a.halfNext, func(off int64, m *message.Message) {
		if m.Topic != halfKey.Topic || m.QueueOffset != off {
			return
		}
		r := rootOf(m)
		if opOff, ok := opped[off]; ok {
			a.markEnded(r, off, opOff)
		}
		switch st := a.roots[r]; {
		case st != nil:
			st.last = max(st.last, off)
		case r != off:
			a.roots[r] = &rootState{last: off, opOffset: -1}
		}
	})
	for r, st := range a.roots {
		if st.ended && st.last < a.halfNext {
			delete(a.roots, r)
		}
	}
	a.s.log.Info().Int64("halfOffset", a.halfNext).Int64("opOffset", opFrom).Int("opRecords", ops).
		Int("transactions", len(a.roots)).Msg("transaction state rebuilt")
}

// savedOffset is the saved progress on queue k, clamped to the queue's
// current bounds.
func (a *txActor) savedOffset(k store.QueueKey) int64 {
	q := a.s.cfg.Queues
	low, high := q.MinOffset(k.Topic, k.QueueID), q.MaxOffset(k.Topic, k.QueueID)
	off, ok := a.s.cfg.Offsets.Offset(body.TransSystemGroup, k.Topic, k.QueueID)
	if !ok {
		off = low
	}
	return min(max(off, low), high)
}

// readRange calls fn for each readable record of queue k from offset from
// to the queue's current end, in order.
func (a *txActor) readRange(k store.QueueKey, from int64, fn func(off int64, m *message.Message)) {
	end := a.s.cfg.Queues.MaxOffset(k.Topic, k.QueueID)
	for from < end {
		units, err := a.s.cfg.Queues.ReadUnits(k, from, a.units[:0:min(int64(cap(a.units)), end-from)])
		if err != nil || len(units) == 0 {
			if err != nil {
				a.s.log.Error().Err(err).Str("topic", k.Topic).Int64("offset", from).Msg("rebuild: queue unreadable")
			}
			return
		}
		for _, u := range units {
			if !u.IsFiller() && u.Size > 0 {
				if m, err := a.s.cfg.CommitLog.ReadMessage(u.CommitLogOffset); err == nil {
					fn(from, &m)
				}
			}
			from++
		}
	}
}

// markEnded records that the transaction of root has an op record at op
// queue offset opOff, for its half record at halfOff.
func (a *txActor) markEnded(root, halfOff, opOff int64) {
	st := a.roots[root]
	if st == nil {
		st = &rootState{last: halfOff, opOffset: opOff}
		a.roots[root] = st
	}
	st.ended = true
	st.last = max(st.last, halfOff)
	if st.opOffset < 0 || opOff < st.opOffset {
		st.opOffset = opOff
	}
}

// rootProperty reads TRAN_PREPARED_QUEUE_OFFSET of an op record.
func rootProperty(m *message.Message) (int64, bool) {
	v, ok := message.PropertyValue(m.Properties, message.PropertyTranPreparedQueueOffset)
	if !ok {
		return 0, false
	}
	r, err := strconv.ParseInt(v, 10, 64)
	return r, err == nil && r >= 0
}
