package requestreply

import (
	"strconv"
	"time"

	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/actors/writer"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
)

// worker handles one reply (package comment, steps 3-4) and stops.
type worker struct {
	r        *Replier
	req      *replyReq
	pushErr  error // nil when the requester accepted the push
	answered bool
}

// putDone carries writer.Put's outcome back to the worker.
type putDone struct{ res writer.PutResult }

func (w *worker) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		w.start(ctx)
	case *putDone:
		w.answer(ctx, &m.res)
	}
}

// start pushes the reply, then stores it or answers at once.
func (w *worker) start(ctx actor.Context) {
	defer func() {
		if p := recover(); p != nil {
			w.r.log.Error().Interface("panic", p).Msg("reply handling panicked")
			w.pushErr = reply.Errorf(reply.ErrSystem, "internal error")
			w.answer(ctx, nil)
		}
	}()
	w.pushErr = w.push()
	if w.pushErr != nil {
		w.r.log.Debug().Err(w.pushErr).Str("topic", w.req.hdr.Topic).Msg("reply not pushed")
	}
	if !w.r.cfg.StoreEnabled() {
		w.answer(ctx, nil)
		return
	}
	system, self := ctx.ActorSystem(), ctx.Self()
	m := w.record()
	tags, _ := message.PropertyValue(m.Properties, message.PropertyTags)
	w.r.cfg.Writer.Put(m, message.TagsHashCode(tags), false, func(res writer.PutResult) {
		system.Root.Send(self, &putDone{res: res})
	})
}

// push finds the requester's connection and sends it the reply (Java's
// pushReplyMessage); the error's text is the remark Java answers with.
func (w *worker) push() error {
	h := &w.req.hdr
	replyTo, _ := message.PropertyValue(h.Properties, message.PropertyReplyToClient)
	if replyTo == "" {
		return reply.Errorf(reply.ErrSystem, "reply message properties[%s] is null", message.PropertyReplyToClient)
	}
	ch, ok := w.r.cfg.Producers.ProducerChannel(replyTo)
	if !ok {
		return reply.Errorf(reply.ErrSystem, "push reply message fail, channel of <%s> not found.", replyTo)
	}
	now := time.Now().UnixMilli()
	ext := map[string]string{
		"producerGroup":         h.ProducerGroup,
		"topic":                 h.Topic,
		"defaultTopic":          h.DefaultTopic,
		"defaultTopicQueueNums": strconv.Itoa(int(h.DefaultTopicQueueNums)),
		"queueId":               strconv.Itoa(int(h.QueueID)),
		"sysFlag":               strconv.Itoa(int(h.SysFlag)),
		"bornTimestamp":         strconv.FormatInt(h.BornTimestamp, 10),
		"flag":                  strconv.Itoa(int(h.Flag)),
		"properties":            message.SetProperty(h.Properties, message.PropertyPushReplyTime, strconv.FormatInt(now, 10)),
		"reconsumeTimes":        strconv.Itoa(int(h.ReconsumeTimes)),
		"unitMode":              strconv.FormatBool(h.UnitMode),
		"bornHost":              w.req.conn.RemoteAddr(),
		"storeHost":             w.r.cfg.Writer.StoreHost().String(),
		"storeTimestamp":        strconv.FormatInt(now, 10),
	}
	cmd := remoting.NewRequest(remoting.ReqPushReplyMessageToClient, ext, w.req.cmd.Body)
	resp, err := ch.Conn.Invoke(w.r.base, cmd, w.r.cfg.PushTimeout)
	if err != nil {
		return reply.Errorf(reply.ErrSystem, "push reply message to %s fail: %v", replyTo, err)
	}
	if resp.Code != remoting.RespSuccess {
		return reply.Errorf(reply.ErrSystem, "push reply message to %s fail: code %d %s", replyTo, resp.Code, resp.Remark)
	}
	return nil
}

// record is the stored form of the reply: the responder's message as sent,
// in queue req.queueID.
func (w *worker) record() *message.Message {
	h := &w.req.hdr
	return &message.Message{
		Topic:          h.Topic,
		QueueID:        w.req.queueID,
		Flag:           h.Flag,
		SysFlag:        message.SetTransactionType(h.SysFlag, message.TransactionNotType),
		BornTimestamp:  h.BornTimestamp,
		BornHost:       bornHost(w.req.conn.RemoteAddr()),
		ReconsumeTimes: h.ReconsumeTimes,
		Body:           w.req.cmd.Body,
		Properties:     h.Properties,
	}
}

// answer writes the response (package comment, step 4) and stops the
// worker. stored is the store outcome, nil when not stored.
func (w *worker) answer(ctx actor.Context, stored *writer.PutResult) {
	if w.answered {
		return
	}
	w.answered = true
	r, req := w.r, w.req
	resp := remoting.NewResponse(req.cmd, remoting.RespSuccess, "")
	if w.pushErr != nil {
		resp = reply.Error(req.cmd, w.pushErr)
	}
	resp.ExtFields = map[string]string{"MSG_REGION": r.cfg.Broker.RegionID, "TRACE_ON": r.traceOn}
	if w.pushErr == nil {
		resp.ExtFields["msgId"] = "0"
		resp.ExtFields["queueId"] = strconv.Itoa(int(req.queueID))
		resp.ExtFields["queueOffset"] = "0"
	}
	if stored != nil {
		if stored.Err != nil {
			r.log.Debug().Err(stored.Err).Str("topic", req.hdr.Topic).Msg("reply not stored")
		} else {
			resp.ExtFields["msgId"] = stored.MsgID
			resp.ExtFields["queueId"] = strconv.Itoa(int(req.queueID))
			resp.ExtFields["queueOffset"] = strconv.FormatInt(stored.QueueOffset, 10)
		}
	}
	_ = req.conn.Write(resp)
	// The reply's end: the push (conn.Invoke encodes at once), the store
	// (Put's done runs after the append) and resp no longer read the
	// request's buffer. Before gate.Leave, so Stop returns after it.
	req.cmd.Release()
	r.gate.Leave()
	ctx.Stop(ctx.Self())
}
