package transaction

import (
	"strconv"
	"strings"

	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
)

// IsPrepared reports whether a sent message is the half of a transaction:
// sysFlag type PREPARED (0x4) and TRAN_MSG=true (wire-protocol.md §15 step 1).
func IsPrepared(sysFlag int32, properties string) bool {
	if message.TransactionType(sysFlag) != message.TransactionPrepared {
		return false
	}
	v, _ := message.PropertyValue(properties, message.PropertyTranMsg)
	return strings.EqualFold(v, "true")
}

// DivertHalf turns a prepared message into the half message the broker
// stores (§15 step 2): REAL_TOPIC and REAL_QID added, topic
// RMQ_SYS_TRANS_HALF_TOPIC queue 0, transaction type reset to NOT_TYPE so
// that it enters the half queue like an ordinary record. Pure: the send
// path calls it before encoding.
func DivertHalf(m *message.Message) {
	p := message.SetProperty(m.Properties, message.PropertyRealTopic, m.Topic)
	p = message.SetProperty(p, message.PropertyRealQueueID, strconv.FormatInt(int64(m.QueueID), 10))
	m.Properties = p
	m.Topic = body.TransHalfTopic
	m.QueueID = 0
	m.SysFlag = message.SetTransactionType(m.SysFlag, message.TransactionNotType)
}
