package schedule

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/actormq/actormq/wire/message"
)

// ErrNoRealTopic marks a SCHEDULE_TOPIC_XXXX record without a usable
// REAL_TOPIC / REAL_QID: it cannot be delivered anywhere.
var ErrNoRealTopic = errors.New("schedule: record has no real topic or queue")

// timerProperties are removed from a delivered message with DELAY: a
// delivered message must not be delayed again (5.x timer properties lose
// to a delay level, storage-format.md §12.2).
var timerProperties = []string{
	message.PropertyDelay,
	message.PropertyTimerDeliverMs,
	message.PropertyTimerDelaySec,
	message.PropertyTimerDelayMs,
}

// realMessage builds the message a due SCHEDULE_TOPIC_XXXX record is
// delivered as (storage-format.md §12.1) and its consume-queue tagsCode:
// topic REAL_TOPIC, queue REAL_QID; DELAY and the TIMER_* properties
// removed, REAL_TOPIC and REAL_QID kept (consumers and tools read them),
// WAIT=false; body, flag, sysFlag, born timestamp and host, store host and
// reconsume times kept; tagsCode the TAGS hash code. The commit-log fields
// (queue and physical offset, store timestamp) are the writer's to assign.
// Pure; any goroutine.
func realMessage(stored *message.Message) (message.Message, int64, error) {
	topic, _ := message.PropertyValue(stored.Properties, message.PropertyRealTopic)
	qid, _ := message.PropertyValue(stored.Properties, message.PropertyRealQueueID)
	queueID, err := strconv.ParseInt(qid, 10, 32)
	if topic == "" || err != nil || queueID < 0 {
		return message.Message{}, 0, fmt.Errorf("%w: REAL_TOPIC %q REAL_QID %q", ErrNoRealTopic, topic, qid)
	}
	props := stored.Properties
	for _, k := range timerProperties {
		props = message.RemoveProperty(props, k)
	}
	props = message.SetProperty(props, message.PropertyWait, "false")
	tags, _ := message.PropertyValue(props, message.PropertyTags)
	m := message.Message{
		QueueID:                   int32(queueID),
		Flag:                      stored.Flag,
		SysFlag:                   stored.SysFlag,
		BornTimestamp:             stored.BornTimestamp,
		BornHost:                  stored.BornHost,
		StoreHost:                 stored.StoreHost,
		ReconsumeTimes:            stored.ReconsumeTimes,
		PreparedTransactionOffset: stored.PreparedTransactionOffset,
		Body:                      stored.Body,
		Topic:                     topic,
		Properties:                props,
	}
	return m, message.TagsHashCode(tags), nil
}
