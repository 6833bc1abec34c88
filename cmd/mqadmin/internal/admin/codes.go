package admin

import "fmt"

// RespNoMessage is the code Java's client uses for "query found no
// message" (wire/remoting has no constant for it: brokers never send it to
// 4.x clients).
const RespNoMessage int32 = 208

// codeNames are RocketMQ's ResponseCode names (wire-protocol.md §3), used in
// error lines so an operator can look the code up.
var codeNames = map[int32]string{
	0:    "SUCCESS",
	1:    "SYSTEM_ERROR",
	2:    "SYSTEM_BUSY",
	3:    "REQUEST_CODE_NOT_SUPPORTED",
	4:    "TRANSACTION_FAILED",
	10:   "FLUSH_DISK_TIMEOUT",
	11:   "SLAVE_NOT_AVAILABLE",
	12:   "FLUSH_SLAVE_TIMEOUT",
	13:   "MESSAGE_ILLEGAL",
	14:   "SERVICE_NOT_AVAILABLE",
	15:   "VERSION_NOT_SUPPORTED",
	16:   "NO_PERMISSION",
	17:   "TOPIC_NOT_EXIST",
	18:   "TOPIC_EXIST_ALREADY",
	19:   "PULL_NOT_FOUND",
	20:   "PULL_RETRY_IMMEDIATELY",
	21:   "PULL_OFFSET_MOVED",
	22:   "QUERY_NOT_FOUND",
	23:   "SUBSCRIPTION_PARSE_FAILED",
	24:   "SUBSCRIPTION_NOT_EXIST",
	25:   "SUBSCRIPTION_NOT_LATEST",
	26:   "SUBSCRIPTION_GROUP_NOT_EXIST",
	27:   "FILTER_DATA_NOT_EXIST",
	28:   "FILTER_DATA_NOT_LATEST",
	29:   "INVALID_PARAMETER",
	200:  "TRANSACTION_SHOULD_COMMIT",
	201:  "TRANSACTION_SHOULD_ROLLBACK",
	202:  "TRANSACTION_STATE_UNKNOW",
	203:  "TRANSACTION_STATE_GROUP_WRONG",
	204:  "NO_BUYER_ID",
	205:  "NOT_IN_CURRENT_UNIT",
	206:  "CONSUMER_NOT_ONLINE",
	207:  "CONSUME_MSG_TIMEOUT",
	208:  "NO_MESSAGE",
	209:  "POLLING_FULL",
	210:  "POLLING_TIMEOUT",
	211:  "BROKER_NOT_EXIST",
	212:  "BROKER_DISPATCH_NOT_COMPLETE",
	213:  "BROADCAST_CONSUMPTION",
	215:  "FLOW_CONTROL",
	501:  "NOT_LEADER_FOR_QUEUE",
	604:  "ILLEGAL_OPERATION",
	1500: "GO_AWAY",
}

// CodeName returns the RocketMQ name of a response code, or CODE_<n>.
func CodeName(code int32) string {
	if name, ok := codeNames[code]; ok {
		return name
	}
	return fmt.Sprintf("CODE_%d", code)
}
