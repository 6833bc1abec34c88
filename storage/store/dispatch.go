package store

import (
	"errors"
	"fmt"
	"time"
	"unsafe"

	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
)

// redispatch appends the consume-queue units of the records in
// [reputFrom, logEnd) (§7.1): every NOT_TYPE or COMMIT record gets a unit
// {offset, size, tagsCode} at its QUEUEOFFSET in its topic/queue, opening
// queues as needed. Units a queue already holds are ignored by Put; after a
// crash they are compared with the record instead, and rewritten when they
// differ (ConsumeQueue.Repair: a unit across a page boundary can be half on
// disk, and recovery keeps it).
//
// reputFrom is the largest MaxPhysicalOffset of any queue, not below the
// commit log's MinOffset. After a crash that is not enough: queue files are
// written through separate mappings, so one queue can have lost units that
// precede another queue's durable ones. The abnormal start therefore also
// goes back to the segment commit-log recovery re-validated from (the one
// whose first record is older than the checkpoint: CommitLog.RecoveryStart),
// as Java's abnormal recovery re-dispatches everything from there.
func (s *Store) redispatch(logEnd int64) error {
	logMin := s.CommitLog.MinOffset()
	from := logMin
	for _, q := range s.Queues {
		from = max(from, q.MaxPhysicalOffset())
	}
	if s.Abnormal {
		from = max(min(from, s.CommitLog.RecoveryStart()), logMin)
	}
	if from >= logEnd {
		return nil
	}
	var (
		putErr                           error
		dispatched, duplicates, repaired int
	)
	held := newQueueIndex(s.Queues)
	_, err := s.CommitLog.Scan(from, func(offset int64, rec []byte) bool {
		// After a crash most records in range already have their unit
		// (recovery goes back to the checkpoint's segment), so those are
		// found from header fields and the properties in place, without a
		// decode, which would copy the topic and properties of each.
		if qid, qoff, sysFlag, ok := message.RecordQueue(rec); ok {
			if tt := message.TransactionType(sysFlag); tt == message.TransactionPrepared || tt == message.TransactionRollback {
				return true // never in a queue
			}
			topic, props := message.RecordTopicProperties(rec)
			if q := held.find(topic, qid); q != nil && qoff < q.MaxOffset() {
				duplicates++
				if !s.Abnormal {
					return true // a clean stop flushed every unit whole
				}
				u := consumequeue.Unit{CommitLogOffset: offset, Size: int32(len(rec)),
					TagsCode: tagsCode(view(topic), view(props), message.RecordStoreTimestamp(rec), s.impl.cfg.DelayLevels)}
				fixed, err := q.Repair(qoff, u)
				switch {
				case errors.Is(err, consumequeue.ErrBadUnit):
					// A negative QUEUEOFFSET (a flipped header bit): skipped, as Put skips it.
					s.impl.log.Error().Err(err).Int64("offset", offset).Msg("re-dispatch: record skipped")
				case err != nil:
					putErr = fmt.Errorf("store: repair unit %d of %s/%d from the record at %d: %w", qoff, topic, qid, offset, err)
					return false
				case fixed:
					repaired++
				}
				return true
			}
		}
		m, n, derr := message.DecodeRecord(rec, false)
		if derr != nil {
			// Recovery validated the log up to logEnd; a record that does not
			// decode was damaged since, and only it is lost.
			s.impl.log.Error().Err(derr).Int64("offset", offset).Msg("re-dispatch: undecodable record skipped")
			return true
		}
		switch message.TransactionType(m.SysFlag) {
		case message.TransactionNotType, message.TransactionCommit:
		default:
			return true // PREPARED and ROLLBACK records never enter a queue
		}
		key := QueueKey{Topic: m.Topic, QueueID: m.QueueID}
		q, err := s.openQueueLocked(key)
		if err == nil {
			held.add(key, q)
		}
		if errors.Is(err, consumequeue.ErrBadName) {
			s.impl.log.Error().Str("topic", m.Topic).Int32("queue", m.QueueID).Int64("offset", offset).
				Msg("re-dispatch: record names no valid queue, skipped")
			return true
		}
		if err != nil {
			putErr = err
			return false
		}
		before := q.MaxOffset()
		err = q.Put(m.QueueOffset, consumequeue.Unit{CommitLogOffset: offset, Size: int32(n), TagsCode: tagsCode(m.Topic, m.Properties, m.StoreTimestamp, s.impl.cfg.DelayLevels)})
		switch {
		case errors.Is(err, consumequeue.ErrGapTooLarge), errors.Is(err, consumequeue.ErrBadUnit):
			s.impl.log.Error().Err(err).Int64("offset", offset).Msg("re-dispatch: record skipped")
		case err != nil:
			putErr = fmt.Errorf("store: re-dispatch record at %d to %s/%d: %w", offset, key.Topic, key.QueueID, err)
			return false
		case q.MaxOffset() == before:
			duplicates++
		default:
			dispatched++
		}
		return true
	})
	if putErr != nil {
		return putErr
	}
	if err != nil {
		return fmt.Errorf("store: re-dispatch from %d: %w", from, err)
	}
	s.impl.log.Info().Int64("from", from).Int64("to", logEnd).Int("units", dispatched).Int("duplicates", duplicates).
		Int("repaired", repaired).Msg("consume queues re-dispatched")
	return nil
}

// tagsCode is the unit's tagsCode (§4): for a SCHEDULE_TOPIC_XXXX record
// with a delay level (property DELAY, clamped to the highest level, as the
// send path does) its delivery time, store time + the level's delay (§12.1);
// otherwise the tag hash code, 0 without tags (TagsHashCode("") is 0, as on
// the send path). The delivery time recomputed here is never earlier than
// the one the send path stored (its clock reading precedes the store time),
// so a re-dispatched unit is never delivered early. (After a crash this
// makes Repair rewrite the delay units in range with the later time, by the
// milliseconds between the send path's clock reading and the append.)
func tagsCode(topic, props string, storeTimestamp int64, delayLevels []time.Duration) int64 {
	if topic == body.ScheduleTopic && len(delayLevels) > 0 {
		if level := message.DelayLevel(props); level > 0 {
			level = min(level, len(delayLevels))
			return storeTimestamp + delayLevels[level-1].Milliseconds()
		}
	}
	tags, _ := message.PropertyValue(props, message.PropertyTags)
	return message.TagsHashCode(tags)
}

// view is b as a string without a copy, for reading a record's fields in
// place; it must not outlive the call that reads them (the record stays
// mapped for the Scan callback).
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// queueIndex finds open queues by topic bytes without allocating: a map
// keyed by string(b) is looked up without a copy, a QueueKey built from
// them would need one.
type queueIndex map[string]map[int32]*consumequeue.ConsumeQueue

func newQueueIndex(queues map[QueueKey]*consumequeue.ConsumeQueue) queueIndex {
	idx := make(queueIndex)
	for k, q := range queues {
		idx.add(k, q)
	}
	return idx
}

func (idx queueIndex) add(k QueueKey, q *consumequeue.ConsumeQueue) {
	byID := idx[k.Topic]
	if byID == nil {
		byID = make(map[int32]*consumequeue.ConsumeQueue)
		idx[k.Topic] = byID
	}
	byID[k.QueueID] = q
}

// find returns the open queue of topic and queueID, nil when there is none.
func (idx queueIndex) find(topic []byte, queueID int32) *consumequeue.ConsumeQueue {
	return idx[string(topic)][queueID]
}
