package schedule

import (
	"strconv"
	"time"

	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
)

// Divert moves a message with a delay level (property DELAY = n > 0) into
// SCHEDULE_TOPIC_XXXX queue n−1, with REAL_TOPIC and REAL_QID naming where
// it goes when due (wire-protocol.md §14). A level above the highest is
// clamped to it, and DELAY then names the highest level, as in Java. It
// returns the consume-queue tagsCode of the diverted record — the delivery
// time in ms, storeTime + the level's delay — and true; for a message
// without a delay level (or with a malformed one, which Java treats as
// none) it changes nothing and returns false.
//
// Pure: the send path (topic actors) and the retry actor call it before
// the record is encoded.
func Divert(m *message.Message, levels []time.Duration, storeTime int64) (int64, bool) {
	level := message.DelayLevel(m.Properties)
	if level <= 0 || len(levels) == 0 {
		return 0, false
	}
	p := m.Properties
	if level > len(levels) {
		level = len(levels)
		p = message.SetProperty(p, message.PropertyDelay, strconv.Itoa(level))
	}
	p = message.SetProperty(p, message.PropertyRealTopic, m.Topic)
	p = message.SetProperty(p, message.PropertyRealQueueID, strconv.FormatInt(int64(m.QueueID), 10))
	m.Properties = p
	m.Topic = body.ScheduleTopic
	m.QueueID = int32(level - 1)
	return storeTime + levels[level-1].Milliseconds(), true
}
