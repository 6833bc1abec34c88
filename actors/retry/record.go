package retry

import (
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/actormq/actormq/actors/schedule"
	"github.com/actormq/actormq/wire/message"
)

// firstRetryLevel is the delay level of the first broker-chosen retry:
// delayLevel 0 means level 3 + reconsumeTimes (10 s, 30 s, 1 m, ... with
// the default levels).
const firstRetryLevel = 3

// destination is where a sent-back message goes.
type destination struct {
	deadLetter bool  // %DLQ%<group>, no delay
	delayLevel int32 // retry: the level of the next delivery (> 0)
}

// decide is the rule of wire-protocol.md §14: a message already consumed
// maxTimes times, or sent back with a negative delay level, is a dead
// letter; otherwise it is retried after delayLevel, or 3 + reconsumeTimes
// when the consumer left the choice (0) to the broker.
func decide(reconsumeTimes, maxTimes, delayLevel int32) destination {
	if reconsumeTimes >= maxTimes || delayLevel < 0 {
		return destination{deadLetter: true}
	}
	if delayLevel == 0 {
		// Saturating, and a (client-sent) negative count counts as none:
		// schedule.Divert clamps any level above the highest to it.
		delayLevel = int32(min(firstRetryLevel+max(int64(reconsumeTimes), 0), math.MaxInt32))
	}
	return destination{delayLevel: delayLevel}
}

// rebuild turns orig, the message the consumer failed on, into the record
// stored for its next delivery (§14) and returns the record with its
// consume-queue tagsCode:
//
//   - same body, flag, sysFlag, born timestamp and host; reconsumeTimes + 1;
//   - properties copied, so UNIQ_KEY (the id Go and Java consumers show)
//     stays the same, plus RETRY_TOPIC (the topic of the first delivery,
//     kept once set), ORIGIN_MESSAGE_ID (kept once set, else orig's offset
//     message id) and WAIT=false;
//   - a retry carries DELAY and is diverted to SCHEDULE_TOPIC_XXXX with
//     REAL_TOPIC=topic, REAL_QID=queueID (schedule.Divert), which delivers
//     it to topic when due; a dead letter has no DELAY and goes to topic
//     at once.
//
// The transaction type is cleared: a copy must enter its consume queue
// whatever record it was copied from. Store fields (offsets, store time
// and host, CRC) are left for the writer.
func rebuild(orig *message.Message, dest destination, topic string, queueID int32, levels []time.Duration, now time.Time) (message.Message, int64) {
	p := orig.Properties
	if _, ok := message.PropertyValue(p, message.PropertyRetryTopic); !ok {
		p = message.SetProperty(p, message.PropertyRetryTopic, orig.Topic)
	}
	if _, ok := message.PropertyValue(p, message.PropertyOriginMessageID); !ok {
		p = message.SetProperty(p, message.PropertyOriginMessageID, message.OffsetMsgID(orig.StoreHost, orig.PhysicalOffset))
	}
	p = message.SetProperty(p, message.PropertyWait, "false")
	if dest.deadLetter {
		p = message.RemoveProperty(p, message.PropertyDelay)
	} else {
		p = message.SetProperty(p, message.PropertyDelay, strconv.Itoa(int(dest.delayLevel)))
	}
	m := message.Message{
		QueueID:        queueID,
		Flag:           orig.Flag,
		SysFlag:        message.SetTransactionType(orig.SysFlag, message.TransactionNotType),
		BornTimestamp:  orig.BornTimestamp,
		BornHost:       orig.BornHost,
		StoreHost:      netip.AddrPort{},
		ReconsumeTimes: int32(min(int64(orig.ReconsumeTimes)+1, math.MaxInt32)),
		Body:           orig.Body,
		Topic:          topic,
		Properties:     p,
	}
	if !dest.deadLetter {
		if code, ok := schedule.Divert(&m, levels, now.UnixMilli()); ok {
			return m, code
		}
	}
	tags, _ := message.PropertyValue(m.Properties, message.PropertyTags)
	return m, message.TagsHashCode(tags)
}
