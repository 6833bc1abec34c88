package transaction

import (
	"strconv"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/actors/schedule"
	"github.com/actormq/actormq/actors/writer"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
)

// endHeader is the END_TRANSACTION header (wire doc §6.4) as far as the
// broker uses it.
type endHeader struct {
	producerGroup        string
	tranStateTableOffset int64 // half record's queue offset
	commitLogOffset      int64 // half record's commit-log offset
	commitOrRollback     int32 // message.TransactionCommit / TransactionRollback (others ignored)
	fromTransactionCheck bool
	msgID                string // UNIQ_KEY, for logs
}

// parseEndHeader reads the header of an END_TRANSACTION request; a missing
// or malformed required field is an error with the code Java answers
// (SYSTEM_ERROR).
func parseEndHeader(cmd *remoting.Command) (endHeader, error) {
	var h endHeader
	var err error
	if h.producerGroup, err = cmd.RequiredString("producerGroup"); err != nil {
		return h, err
	}
	if h.tranStateTableOffset, err = cmd.RequiredInt64("tranStateTableOffset"); err != nil {
		return h, err
	}
	if h.commitLogOffset, err = cmd.RequiredInt64("commitLogOffset"); err != nil {
		return h, err
	}
	if h.commitOrRollback, err = cmd.RequiredInt32("commitOrRollback"); err != nil {
		return h, err
	}
	h.fromTransactionCheck = cmd.OptionalBool("fromTransactionCheck", false)
	h.msgID, _ = cmd.Ext("msgId")
	return h, nil
}

// endReq is one END_TRANSACTION on its way to the actor.
type endReq struct {
	c   *netio.Conn
	cmd *remoting.Command
	h   endHeader
}

// handleEnd serves END_TRANSACTION (37) on the gnet loop: header, role and
// type checks, then a Send to the actor. Value 0 (the producer does not know
// yet) and unknown values get no response, as in Java.
func (s *Service) handleEnd(c *netio.Conn, cmd *remoting.Command) {
	h, err := parseEndHeader(cmd)
	if err != nil {
		reply.WriteError(c, cmd, err)
		return
	}
	if s.cfg.Broker.BrokerRole == config.RoleSlave {
		reply.WriteError(c, cmd, reply.Errorf(reply.ErrSlaveNotAvailable, "the broker is a slave, end transaction is forbidden"))
		return
	}
	if h.commitOrRollback != message.TransactionCommit && h.commitOrRollback != message.TransactionRollback {
		s.log.Debug().Str("group", h.producerGroup).Str("msgId", h.msgID).Int32("commitOrRollback", h.commitOrRollback).
			Bool("fromCheck", h.fromTransactionCheck).Msg("end transaction without an outcome ignored")
		return
	}
	if err := s.gate.Enter(); err != nil {
		reply.WriteError(c, cmd, err)
		return
	}
	s.system.Root.Send(s.pid, &endReq{c: c, cmd: cmd, h: h})
}

// Messages the actor sends itself when a Put of the END path completes.
type (
	commitStored struct {
		req  *endReq
		root int64
		half message.Message
		res  writer.PutResult
	}
	opStored struct {
		req  *endReq
		root int64
		res  writer.PutResult
	}
)

// end applies one END_TRANSACTION: verify that the offsets name a half
// record of the group, claim its transaction (refusing one already ended or
// no longer pending), then store the commit (if any) and the op record, in
// that order, and answer. Nothing is written when a check fails.
func (a *txActor) end(ctx actor.Context, req *endReq) {
	h := &req.h
	m, err := a.s.cfg.CommitLog.ReadMessage(h.commitLogOffset)
	if err != nil {
		a.s.log.Debug().Err(err).Int64("commitLogOffset", h.commitLogOffset).Msg("end transaction: no record")
		a.answer(req, reply.Errorf(reply.ErrSystem, "Find prepared transaction message failed"))
		return
	}
	if err := checkHalf(&m, h); err != nil {
		a.answer(req, err)
		return
	}
	var commit message.Message
	var tagsCode int64
	if h.commitOrRollback == message.TransactionCommit {
		if commit, tagsCode, err = a.commitMessage(&m); err != nil {
			a.answer(req, err)
			return
		}
	}
	root := rootOf(&m)
	st := a.roots[root]
	switch {
	case st != nil && st.ended:
		a.answer(req, reply.Errorf(reply.ErrSystem, "the transaction of half message %d already ended", m.QueueOffset))
		return
	case st == nil && m.QueueOffset < a.halfNext:
		// The scan passed this record and keeps no state for its
		// transaction: it ended long ago or was discarded.
		a.answer(req, reply.Errorf(reply.ErrSystem, "the half message %d is no longer pending", m.QueueOffset))
		return
	case st == nil:
		st = &rootState{last: m.QueueOffset, opOffset: -1}
		a.roots[root] = st
	}
	st.ended = true // claimed: a concurrent END for it is refused from here on
	st.last = max(st.last, m.QueueOffset)
	a.s.log.Debug().Str("group", h.producerGroup).Str("msgId", h.msgID).Int64("halfOffset", m.QueueOffset).
		Int32("commitOrRollback", h.commitOrRollback).Bool("fromCheck", h.fromTransactionCheck).Msg("end transaction")
	if h.commitOrRollback == message.TransactionCommit {
		a.put(ctx, &commit, tagsCode, func(res writer.PutResult) any {
			return &commitStored{req: req, root: root, half: m, res: res}
		})
		return
	}
	a.writeOp(ctx, req, root, &m)
}

// checkHalf verifies that m is the half record h names (Java's
// checkPrepareMessage, plus the topic: any record can sit at a client-given
// offset).
func checkHalf(m *message.Message, h *endHeader) error {
	if m.Topic != body.TransHalfTopic || m.QueueID != halfKey.QueueID {
		return reply.Errorf(reply.ErrSystem, "the message at commit log offset %d is not a half message", h.commitLogOffset)
	}
	if g, _ := message.PropertyValue(m.Properties, message.PropertyProducerGroup); g != h.producerGroup {
		return reply.Errorf(reply.ErrSystem, "The producer group wrong")
	}
	if m.QueueOffset != h.tranStateTableOffset {
		return reply.Errorf(reply.ErrSystem, "The transaction state table offset wrong")
	}
	return nil
}

// commitMessage builds the committed message from half record m (package
// comment) and its consume-queue tagsCode.
func (a *txActor) commitMessage(m *message.Message) (message.Message, int64, error) {
	topic, qid, ok := realQueue(m)
	if !ok {
		return message.Message{}, 0, reply.Errorf(reply.ErrSystem, "the half message %d has no valid REAL_TOPIC/REAL_QID", m.QueueOffset)
	}
	c := *m
	c.Topic, c.QueueID = topic, qid
	p := message.RemoveProperty(m.Properties, message.PropertyRealTopic)
	p = message.RemoveProperty(p, message.PropertyRealQueueID)
	c.Properties = message.RemoveProperty(p, message.PropertyTranMsg)
	c.SysFlag = message.SetTransactionType(m.SysFlag, message.TransactionCommit)
	c.PreparedTransactionOffset = m.PhysicalOffset
	if code, ok := schedule.Divert(&c, a.delayLevels, a.s.cfg.Now().UnixMilli()); ok {
		return c, code, nil
	}
	return c, tagsCodeOf(&c), nil
}

// commitDone follows the Put of a commit: stored, write the op record; not
// stored, release the claim and answer the store's error.
func (a *txActor) commitDone(ctx actor.Context, msg *commitStored) {
	if msg.res.Err != nil {
		if st := a.roots[msg.root]; st != nil {
			st.ended = false
		}
		a.answer(msg.req, msg.res.Err)
		return
	}
	a.writeOp(ctx, msg.req, msg.root, &msg.half)
}

// writeOp stores the op record that ends the transaction of half record m.
func (a *txActor) writeOp(ctx actor.Context, req *endReq, root int64, m *message.Message) {
	host := a.s.cfg.Writer.StoreHost()
	props := message.SetProperty("", message.PropertyTags, opTag)
	props = message.SetProperty(props, message.PropertyTranPreparedQueueOffset, strconv.FormatInt(root, 10))
	op := message.Message{
		Topic: opKey.Topic, QueueID: opKey.QueueID,
		Body:          []byte(strconv.FormatInt(m.QueueOffset, 10)),
		Properties:    props,
		BornTimestamp: a.s.cfg.Now().UnixMilli(),
		BornHost:      host, StoreHost: host,
	}
	a.put(ctx, &op, opTagsCode, func(res writer.PutResult) any {
		return &opStored{req: req, root: root, res: res}
	})
}

// opDone follows the Put of an op record and answers the END. A commit is
// answered SUCCESS even when its op record failed (the message is stored;
// the claim stays, so this run refuses a second END, but after a restart
// the scan would check it again); a rollback whose op failed is not
// recorded, so its claim is released.
func (a *txActor) opDone(msg *opStored) {
	st := a.roots[msg.root]
	if msg.res.Err != nil {
		a.s.log.Error().Err(msg.res.Err).Int64("root", msg.root).Msg("end transaction: op record not stored")
		if msg.req.h.commitOrRollback == message.TransactionRollback {
			if st != nil {
				st.ended = false
			}
			a.answer(msg.req, msg.res.Err)
			return
		}
	} else if st != nil && (st.opOffset < 0 || msg.res.QueueOffset < st.opOffset) {
		st.opOffset = msg.res.QueueOffset
	}
	a.answer(msg.req, nil)
}

// answer writes the END response (SUCCESS when err is nil) and releases the
// in-flight slot.
func (a *txActor) answer(req *endReq, err error) {
	a.s.gate.Leave()
	if err != nil {
		reply.WriteError(req.c, req.cmd, err)
		return
	}
	reply.WriteOK(req.c, req.cmd, nil, nil)
}

// realQueue returns REAL_TOPIC and REAL_QID of half record m.
func realQueue(m *message.Message) (string, int32, bool) {
	topic, ok := message.PropertyValue(m.Properties, message.PropertyRealTopic)
	if !ok {
		return "", 0, false
	}
	v, _ := message.PropertyValue(m.Properties, message.PropertyRealQueueID)
	qid, err := strconv.ParseInt(v, 10, 32)
	if err != nil || qid < 0 {
		return "", 0, false
	}
	return topic, int32(qid), true
}

// rootOf returns the root of half record m: TRAN_PREPARED_QUEUE_OFFSET of a
// copy, else its own queue offset.
func rootOf(m *message.Message) int64 {
	if v, ok := message.PropertyValue(m.Properties, message.PropertyTranPreparedQueueOffset); ok {
		if r, err := strconv.ParseInt(v, 10, 64); err == nil && r >= 0 && r <= m.QueueOffset {
			return r
		}
	}
	return m.QueueOffset
}

// tagsCodeOf is the consume-queue tagsCode of an undiverted message.
func tagsCodeOf(m *message.Message) int64 {
	tags, _ := message.PropertyValue(m.Properties, message.PropertyTags)
	return message.TagsHashCode(tags)
}

// opTag is the TAGS of op records (Java's REMOVETAG).
const opTag = "d"

var opTagsCode = message.TagsHashCode(opTag)
