package send

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/actormq/actormq/actors/admit"
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/actors/schedule"
	"github.com/actormq/actormq/actors/transaction"
	"github.com/actormq/actormq/actors/writer"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/valyala/bytebufferpool"
)

// Property keys the send path reads or writes that wire/message does not name.
const (
	propertyPopCK = "POP_CK" // reserved for pop; stripped from client sends
	multiTagType  = "MULTI_TAG"
)

// singleAppend is the Append of a single message with the backing array of
// its one tags code, so that both cost one allocation.
type singleAppend struct {
	writer.Append
	tags [1]int64
}

// topicActor validates and encodes the sends of one topic (package comment,
// step 3). Its state is the round-robin position and a one-entry cache of
// the last connection's parsed address.
type topicActor struct {
	s    *Sender
	name string
	done chan struct{}
	rr   uint32

	lastRemote string
	lastBorn   netip.AddrPort
}

func newTopicActor(s *Sender, name string, done chan struct{}) *topicActor {
	return &topicActor{s: s, name: name, done: done}
}

func (t *topicActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *sendReq:
		t.handle(ctx, m)
	case *actor.Stopped:
		close(t.done)
	}
}

func (t *topicActor) handle(ctx actor.Context, req *sendReq) {
	s := t.s
	// A panic here is a bug on one request; answer it so the producer is not
	// left to time out and the in-flight count stays exact. Resuming the
	// actor alone would drop the request silently.
	defer func() {
		if r := recover(); r != nil {
			s.log.Error().Interface("panic", r).Str("topic", t.name).Msg("send handling panicked")
			s.fail(req, fmt.Errorf("%w: internal error", reply.ErrSystem))
		}
	}()
	tc, ok := s.cfg.Topics.Topic(t.name)
	if !ok {
		if req.attempts == 0 {
			// Deleted since this actor was spawned: let the registry run
			// auto-create again.
			req.attempts++
			ctx.Send(s.registry, req)
			return
		}
		s.fail(req, fmt.Errorf("%w: topic[%s] not exist, apply first please!", reply.ErrTopicNotExist, t.name))
		return
	}
	a, err := t.encode(req, &tc)
	if err != nil {
		s.fail(req, err)
		return
	}
	if s.w.Closed() {
		bytebufferpool.Put(a.Records)
		s.fail(req, admit.ErrStopping)
		return
	}
	s.w.Submit(a)
}

// encode checks req against the topic (§6.1 steps 5-9) and encodes its
// records into one pooled buffer. On error nothing is allocated from the
// pool.
func (t *topicActor) encode(req *sendReq, tc *body.TopicConfig) (*writer.Append, error) {
	s := t.s
	h := &req.hdr
	if tc.Perm&body.PermWrite == 0 {
		return nil, fmt.Errorf("%w: the topic[%s] sending message is forbidden", reply.ErrNoPermission, t.name)
	}
	qid := h.queueID
	if limit := max(tc.ReadQueueNums, tc.WriteQueueNums); qid >= limit {
		return nil, fmt.Errorf("%w: request queueId[%d] is illegal, topic[%s] queue nums %d, producer: %s",
			reply.ErrInvalidParameter, qid, t.name, limit, h.producerGroup)
	}
	if qid < 0 {
		if tc.WriteQueueNums <= 0 {
			return nil, fmt.Errorf("%w: topic[%s] has no write queue", reply.ErrInvalidParameter, t.name)
		}
		qid = int32(t.rr % uint32(tc.WriteQueueNums))
		t.rr++
	}
	bodyBytes := req.cmd.Body
	if len(bodyBytes) > s.cfg.Broker.MaxMessageSize {
		return nil, fmt.Errorf("%w: the message body size %d over max value, MAX: %d",
			reply.ErrMessageIllegal, len(bodyBytes), s.cfg.Broker.MaxMessageSize)
	}
	// A prepared single message goes to the half topic (divert). Every
	// stored record, a half message included, has type NOT_TYPE (package
	// comment, diversions).
	prepared := !h.batch && transaction.IsPrepared(h.sysFlag, h.properties)
	sysFlag := message.SetTransactionType(h.sysFlag, message.TransactionNotType)
	if tc.TopicFilterType == multiTagType {
		sysFlag |= message.SysFlagMultiTags
	}
	m := message.Message{
		Flag:           h.flag,
		SysFlag:        sysFlag,
		BornTimestamp:  h.bornTimestamp,
		BornHost:       t.bornHost(req.conn.RemoteAddr()),
		StoreHost:      s.w.StoreHost(),
		ReconsumeTimes: h.reconsumeTimes,
		Topic:          t.name,
	}
	m.QueueID = qid
	var a *writer.Append
	if h.batch {
		a = &writer.Append{}
	} else {
		sa := &singleAppend{}
		sa.Tags = sa.tags[:]
		a = &sa.Append
	}
	a.Conn, a.Req, a.Done = req.conn, req.cmd, s.release
	a.Key = store.QueueKey{Topic: t.name, QueueID: qid}
	a.ReplyQueueID = qid
	wait, _ := message.PropertyValue(h.properties, message.PropertyWait)
	a.NoWait = wait == "false"
	if !h.batch {
		props, err := t.properties(h.properties)
		if err != nil {
			return nil, err
		}
		m.Body, m.Properties = bodyBytes, props
		a.UniqKey, _ = message.PropertyValue(props, message.PropertyUniqKey)
		a.Tags[0] = t.divert(&m, prepared)
		a.Key = store.QueueKey{Topic: m.Topic, QueueID: m.QueueID}
		a.Records = bytebufferpool.Get()
		a.Records.B = message.AppendRecord(a.Records.B[:0], &m)
		return a, nil
	}
	items, err := message.DecodeBatch(bodyBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: bad batch body: %w", reply.ErrMessageIllegal, err)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("%w: empty batch", reply.ErrMessageIllegal)
	}
	props := make([]string, len(items))
	for i := range items {
		if err := checkBatchItem(items[i].Properties); err != nil {
			return nil, err
		}
		if props[i], err = t.properties(items[i].Properties); err != nil {
			return nil, err
		}
	}
	a.Tags = make([]int64, len(items))
	a.Records = bytebufferpool.Get()
	a.Records.B = a.Records.B[:0]
	for i := range items {
		m.Flag, m.Body, m.Properties = items[i].Flag, items[i].Body, props[i]
		tags, _ := message.PropertyValue(props[i], message.PropertyTags)
		a.Tags[i] = message.TagsHashCode(tags)
		a.Records.B = message.AppendRecord(a.Records.B, &m)
	}
	return a, nil
}

// divert applies the diversions of a single message that need its queue id
// (package comment; wire doc §14, §15) and returns its consume-queue
// tagsCode: a prepared transaction message becomes a half message; else a
// message with a delay level goes to SCHEDULE_TOPIC_XXXX with its delivery
// time as tagsCode; anything else keeps its topic and queue, with the TAGS
// hash code. (A %RETRY% dead letter was diverted on the loop already.)
func (t *topicActor) divert(m *message.Message, prepared bool) int64 {
	if prepared {
		transaction.DivertHalf(m)
	} else if code, ok := schedule.Divert(m, t.s.delayLevels, time.Now().UnixMilli()); ok {
		return code
	}
	tags, _ := message.PropertyValue(m.Properties, message.PropertyTags)
	return message.TagsHashCode(tags)
}

// properties returns the stored properties of one message: the reserved
// POP_CK stripped and CLUSTER set (§6.1 step 9), at most 32767 bytes.
func (t *topicActor) properties(p string) (string, error) {
	p = message.RemoveProperty(p, propertyPopCK)
	if c := t.s.cfg.Broker.BrokerClusterName; c != "" {
		p = message.SetProperty(p, message.PropertyCluster, c)
	}
	if len(p) > message.PropertiesBytesMax {
		return "", fmt.Errorf("%w: the message properties size %d over max value, MAX: %d",
			reply.ErrMessageIllegal, len(p), message.PropertiesBytesMax)
	}
	return p, nil
}

// checkBatch is §6.1 step 8 for the batch as a whole.
func checkBatch(topic string, h *sendHeader) error {
	switch {
	case len(topic) > message.TopicBytesMaxV1:
		return fmt.Errorf("%w: batch topic %s longer than %d", reply.ErrMessageIllegal, topic, message.TopicBytesMaxV1)
	case strings.HasPrefix(topic, body.RetryGroupPrefix):
		return fmt.Errorf("%w: retry group topic %s does not support batch", reply.ErrMessageIllegal, topic)
	case message.TransactionType(h.sysFlag) != message.TransactionNotType:
		return fmt.Errorf("%w: batch message does not support transaction", reply.ErrMessageIllegal)
	}
	return checkBatchItem(h.properties)
}

// checkBatchItem rejects delay and transaction flags in one batch item (or
// the batch header's properties).
func checkBatchItem(props string) error {
	if v, ok := message.PropertyValue(props, message.PropertyDelay); ok {
		if n, err := strconv.Atoi(v); err != nil || n > 0 {
			return fmt.Errorf("%w: batch message does not support delay level", reply.ErrMessageIllegal)
		}
	}
	if v, _ := message.PropertyValue(props, message.PropertyTranMsg); strings.EqualFold(v, "true") {
		return fmt.Errorf("%w: batch message does not support transaction", reply.ErrMessageIllegal)
	}
	return nil
}

// bornHost parses the producer's "ip:port" for BORNHOST, caching the last
// one (a topic's sends mostly come from few connections). IPv4-mapped
// addresses become IPv4 so records keep 8-byte hosts, which every client
// decodes; an unparsable address gives 0.0.0.0:0.
func (t *topicActor) bornHost(remote string) netip.AddrPort {
	if remote == t.lastRemote && t.lastRemote != "" {
		return t.lastBorn
	}
	ap := netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
	if p, err := netip.ParseAddrPort(remote); err == nil {
		ap = netip.AddrPortFrom(p.Addr().Unmap().WithZone(""), p.Port())
	}
	t.lastRemote, t.lastBorn = remote, ap
	return ap
}
