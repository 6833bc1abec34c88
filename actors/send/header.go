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

// parseSendHeader decodes the header of a send request. Fields Java marks
// required (a..h) must be present; errors wrap remoting.ErrMissingField or
// ErrBadField (answered SYSTEM_ERROR, as Java does). It reads by field
// index (remoting.SendFields): on a decoded send header each read is an
// array index instead of a key lookup.
func parseSendHeader(cmd *remoting.Command, short bool) (sendHeader, error) {
	r := cmd.SendFields(short)
	var h sendHeader
	var err error
	if h.producerGroup, err = r.RequiredString(remoting.SendProducerGroup); err != nil {
		return h, err
	}
	if h.topic, err = r.RequiredString(remoting.SendTopic); err != nil {
		return h, err
	}
	if h.defaultTopic, err = r.RequiredString(remoting.SendDefaultTopic); err != nil {
		return h, err
	}
	if h.defaultTopicQueueNums, err = r.RequiredInt32(remoting.SendDefaultTopicQueueNums); err != nil {
		return h, err
	}
	if h.queueID, err = r.RequiredInt32(remoting.SendQueueID); err != nil {
		return h, err
	}
	if h.sysFlag, err = r.RequiredInt32(remoting.SendSysFlag); err != nil {
		return h, err
	}
	if h.bornTimestamp, err = r.RequiredInt64(remoting.SendBornTimestamp); err != nil {
		return h, err
	}
	if h.flag, err = r.RequiredInt32(remoting.SendFlag); err != nil {
		return h, err
	}
	h.properties, _ = r.Ext(remoting.SendProperties)
	if h.reconsumeTimes, err = r.OptionalInt32(remoting.SendReconsumeTimes, 0); err != nil {
		return h, err
	}
	if h.maxReconsumeTimes, err = r.OptionalInt32(remoting.SendMaxReconsumeTimes, 0); err != nil {
		return h, err
	}
	_, h.hasMaxReconsumeTimes = r.Ext(remoting.SendMaxReconsumeTimes)
	h.batch = r.OptionalBool(remoting.SendBatch, false)
	return h, nil
}
