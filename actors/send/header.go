package send

import (
	"github.com/actormq/actormq/wire/remoting"
)

// sendHeader is SendMessageRequestHeader (wire-protocol.md §6.1). Code 10
// carries full field names; 310 and 320 the V2 short keys a..n.
type sendHeader struct {
	producerGroup         string
	topic                 string
	defaultTopic          string
	defaultTopicQueueNums int32
	queueID               int32
	sysFlag               int32
	bornTimestamp         int64
	flag                  int32
	properties            string
	reconsumeTimes        int32
	maxReconsumeTimes     int32
	hasMaxReconsumeTimes  bool // maxReconsumeTimes was sent (the %RETRY% rule)
	batch                 bool
	deadLetter            bool // diverted to %DLQ%<group> by the %RETRY% rule (retry.go)
}

// headerKeys names the fields in one of the two spellings.
type headerKeys struct {
	producerGroup, topic, defaultTopic, defaultTopicQueueNums, queueID, sysFlag,
	bornTimestamp, flag, properties, reconsumeTimes, maxReconsumeTimes, batch string
}

var (
	keysV1 = headerKeys{
		producerGroup: "producerGroup", topic: "topic", defaultTopic: "defaultTopic",
		defaultTopicQueueNums: "defaultTopicQueueNums", queueID: "queueId", sysFlag: "sysFlag",
		bornTimestamp: "bornTimestamp", flag: "flag", properties: "properties",
		reconsumeTimes: "reconsumeTimes", maxReconsumeTimes: "maxReconsumeTimes", batch: "batch",
	}
	keysV2 = headerKeys{
		producerGroup: "a", topic: "b", defaultTopic: "c", defaultTopicQueueNums: "d", queueID: "e",
		sysFlag: "f", bornTimestamp: "g", flag: "h", properties: "i", reconsumeTimes: "j",
		maxReconsumeTimes: "l", batch: "m",
	}
)

// parseSendHeader decodes the header of a send request. Fields Java marks
// required (a..h) must be present; errors wrap remoting.ErrMissingField or
// ErrBadField (answered SYSTEM_ERROR, as Java does).
func parseSendHeader(cmd *remoting.Command, short bool) (sendHeader, error) {
	k := &keysV1
	if short {
		k = &keysV2
	}
	var h sendHeader
	var err error
	if h.producerGroup, err = cmd.RequiredString(k.producerGroup); err != nil {
		return h, err
	}
	if h.topic, err = cmd.RequiredString(k.topic); err != nil {
		return h, err
	}
	if h.defaultTopic, err = cmd.RequiredString(k.defaultTopic); err != nil {
		return h, err
	}
	if h.defaultTopicQueueNums, err = cmd.RequiredInt32(k.defaultTopicQueueNums); err != nil {
		return h, err
	}
	if h.queueID, err = cmd.RequiredInt32(k.queueID); err != nil {
		return h, err
	}
	if h.sysFlag, err = cmd.RequiredInt32(k.sysFlag); err != nil {
		return h, err
	}
	if h.bornTimestamp, err = cmd.RequiredInt64(k.bornTimestamp); err != nil {
		return h, err
	}
	if h.flag, err = cmd.RequiredInt32(k.flag); err != nil {
		return h, err
	}
	h.properties, _ = cmd.Ext(k.properties)
	if h.reconsumeTimes, err = cmd.OptionalInt32(k.reconsumeTimes, 0); err != nil {
		return h, err
	}
	if h.maxReconsumeTimes, err = cmd.OptionalInt32(k.maxReconsumeTimes, 0); err != nil {
		return h, err
	}
	_, h.hasMaxReconsumeTimes = cmd.Ext(k.maxReconsumeTimes)
	h.batch = cmd.OptionalBool(k.batch, false)
	return h, nil
}
