package send

import "github.com/actormq/actormq/wire/remoting"

// ReplyHeader is the header of SEND_REPLY_MESSAGE (324, full field names)
// and SEND_REPLY_MESSAGE_V2 (325, the short keys a..n): the same
// SendMessageRequestHeader as codes 10 and 310 (wire-protocol.md §6.4), for
// the request-reply path (package actors/requestreply).
type ReplyHeader struct {
	ProducerGroup         string
	Topic                 string
	DefaultTopic          string
	DefaultTopicQueueNums int32
	QueueID               int32
	SysFlag               int32
	BornTimestamp         int64
	Flag                  int32
	Properties            string
	ReconsumeTimes        int32
	UnitMode              bool
}

// ParseReplyHeader decodes the header of a 324 or 325 request with the send
// path's rules: fields Java marks required must be present; errors wrap
// remoting.ErrMissingField or ErrBadField (answered SYSTEM_ERROR).
func ParseReplyHeader(cmd *remoting.Command) (ReplyHeader, error) {
	short := cmd.Code == remoting.ReqSendReplyMessageV2
	h, err := parseSendHeader(cmd, short)
	if err != nil {
		return ReplyHeader{}, err
	}
	return ReplyHeader{
		ProducerGroup: h.producerGroup, Topic: h.topic, DefaultTopic: h.defaultTopic,
		DefaultTopicQueueNums: h.defaultTopicQueueNums, QueueID: h.queueID, SysFlag: h.sysFlag,
		BornTimestamp: h.bornTimestamp, Flag: h.flag, Properties: h.properties,
		ReconsumeTimes: h.reconsumeTimes, UnitMode: cmd.SendFields(short).OptionalBool(remoting.SendUnitMode, false),
	}, nil
}
