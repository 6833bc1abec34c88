package locks

import (
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/wire/body"
)

// batchBody is LockBatchRequestBody / UnlockBatchRequestBody
// (wire-protocol.md §8.6):
//
//	{"consumerGroup":"g","clientId":"ip@instance","onlyThisBroker":false,
//	 "mqSet":[{"topic":"t","brokerName":"b","queueId":0}, ...]}
//
// The Go client sends it without onlyThisBroker; Java sends every field.
// onlyThisBroker (5.x: also lock on the other brokers of the broker name)
// has nothing to do on a broker without replicas, so it is not read.
type batchBody struct {
	ConsumerGroup string              `json:"consumerGroup"`
	ClientID      string              `json:"clientId"`
	MQSet         []body.MessageQueue `json:"mqSet"`
}

// lockResponse is LockBatchResponseBody: {"lockOKMQSet":[MessageQueue...]}.
type lockResponse struct {
	LockOKMQSet []body.MessageQueue `json:"lockOKMQSet"`
}

// decodeBatchBody decodes and checks a lock or unlock body. Errors wrap
// reply.ErrInvalidParameter: an empty or undecodable body, a missing or
// malformed group, a missing client id. An empty mqSet is valid (nothing to lock). Safe on a gnet
// loop: it only decodes.
func decodeBatchBody(b []byte) (batchBody, error) {
	var req batchBody
	if len(b) == 0 {
		return req, reply.Errorf(reply.ErrInvalidParameter, "lock batch body is empty")
	}
	if err := body.DecodeJSON(b, &req); err != nil {
		return batchBody{}, reply.Errorf(reply.ErrInvalidParameter, "lock batch body: %v", err)
	}
	switch {
	case req.ConsumerGroup == "":
		return batchBody{}, reply.Errorf(reply.ErrInvalidParameter, "lock batch body without consumerGroup")
	case req.ClientID == "":
		return batchBody{}, reply.Errorf(reply.ErrInvalidParameter, "lock batch body without clientId")
	}
	if err := body.ValidateGroup(req.ConsumerGroup); err != nil {
		return batchBody{}, reply.Errorf(reply.ErrInvalidParameter, "lock batch body: %v", err)
	}
	return req, nil
}
