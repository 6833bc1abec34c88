package admin

import (
	"errors"

	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/remoting"
)

// runningInfo is GET_CONSUMER_RUNNING_INFO (307), Java's callConsumer: the
// request (same header and body) is sent to the connection of client
// clientId of consumerGroup, and the client's answer (code, remark, header,
// ConsumerRunningInfo body) is relayed as is. A client that is not
// connected gets SYSTEM_ERROR, one that does not answer within
// ClientTimeout CONSUME_MSG_TIMEOUT (207), both with Java's remarks. Worker:
// the wait for the client blocks only this request.
func (a *Admin) runningInfo(cmd *remoting.Command) *remoting.Command {
	group, err := cmd.RequiredString("consumerGroup")
	if err != nil {
		return reply.Error(cmd, err)
	}
	clientID, err := cmd.RequiredString("clientId")
	if err != nil {
		return reply.Error(cmd, err)
	}
	ctx, cancel := a.callCtx()
	channels, err := a.cfg.Clients.ConsumerChannels(ctx, group)
	cancel()
	if err != nil {
		return reply.Error(cmd, err)
	}
	var conn *netio.Conn
	for _, ch := range channels {
		if ch.ClientID == clientID {
			conn = ch.Conn
		}
	}
	if conn == nil {
		return reply.Error(cmd, reply.Errorf(reply.ErrSystem, "The Consumer <%s> <%s> not online", group, clientID))
	}
	fwd := remoting.NewRequest(remoting.ReqGetConsumerRunningInfo, cmd.ExtFields, cmd.Body)
	resp, err := conn.Invoke(a.base, fwd, a.cfg.ClientTimeout)
	switch {
	case errors.Is(err, netio.ErrTimeout):
		return reply.Error(cmd, reply.Errorf(reply.ErrConsumeMsgTimeout, "consumer <%s> <%s> Timeout: %v", group, clientID, err))
	case err != nil:
		return reply.Error(cmd, reply.Errorf(reply.ErrSystem, "invoke consumer <%s> <%s> Exception: %v", group, clientID, err))
	}
	out := remoting.NewResponse(cmd, resp.Code, resp.Remark)
	out.ExtFields = resp.ExtFields
	out.Body = resp.Body
	return out
}
