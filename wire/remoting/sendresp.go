package remoting

import (
	"encoding/binary"
	"strconv"
)

// SendResponse is the answer to a stored send: its code (SUCCESS or
// FLUSH_DISK_TIMEOUT), the request's opaque and the fields of
// SendMessageResponseHeader (wire doc §6.1).
type SendResponse struct {
	Code   int32
	Opaque int32
	Remark string
	// MsgID is the offset message id, or the comma-joined ids of a batch;
	// hex digits and commas, so it is written without escaping.
	MsgID         []byte
	QueueID       int32
	QueueOffset   int64
	TransactionID string // UNIQ_KEY; omitted when empty
}

// SendResponseEncoder writes the JSON frames of SendResponses. The fields
// every answer of a broker shares (MSG_REGION, TRACE_ON) and the constant
// parts of the header are encoded once, so an answer costs a few appends
// instead of escaping every key and value (AppendFrameExt): it runs once
// per stored send. The frame is what AppendFrameExt writes for the same
// command and fields, in the same order.
type SendResponseEncoder struct {
	tail []byte // `,"MSG_REGION":...,"TRACE_ON":...},"serializeTypeCurrentRPC":"JSON"}`
}

// NewSendResponseEncoder returns an encoder whose answers carry region and
// traceOn. Safe for concurrent use once built.
func NewSendResponseEncoder(region, traceOn string) *SendResponseEncoder {
	tail := append([]byte(nil), `,"MSG_REGION":`...)
	tail = AppendJSONString(tail, region)
	tail = append(tail, `,"TRACE_ON":`...)
	tail = AppendJSONString(tail, traceOn)
	tail = append(tail, `},"serializeTypeCurrentRPC":"JSON"}`...)
	return &SendResponseEncoder{tail: tail}
}

// Append appends r's whole frame (JSON header, no body) to dst. It reads r
// and never retains it or dst.
func (e *SendResponseEncoder) Append(dst []byte, r *SendResponse) []byte {
	c := Command{Code: r.Code, Version: Version, Opaque: r.Opaque, Flag: FlagResponse, Remark: r.Remark}
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0)
	headerStart := len(dst)
	dst = appendJSONHeaderStart(dst, &c)
	dst = append(dst, `"msgId":"`...)
	dst = append(dst, r.MsgID...)
	dst = append(dst, `","queueId":"`...)
	dst = strconv.AppendInt(dst, int64(r.QueueID), 10)
	dst = append(dst, `","queueOffset":"`...)
	dst = strconv.AppendInt(dst, r.QueueOffset, 10)
	dst = append(dst, '"')
	if r.TransactionID != "" {
		dst = append(dst, `,"transactionId":`...)
		dst = AppendJSONString(dst, r.TransactionID)
	}
	dst = append(dst, e.tail...)
	headerLen := len(dst) - headerStart
	if headerLen > HeaderBytesMax {
		// Only a batch of millions of ids gets here; AppendFrameHead's rule
		// for a header too large applies.
		return AppendFrameExt(dst[:start], &c, []ExtField{{Key: "msgId", Bytes: r.MsgID}})
	}
	binary.BigEndian.PutUint32(dst[start:], uint32(4+headerLen))
	binary.BigEndian.PutUint32(dst[start+4:], uint32(SerializeJSON)<<24|uint32(headerLen))
	return dst
}
