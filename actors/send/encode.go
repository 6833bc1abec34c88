package send

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/actors/schedule"
	"github.com/actormq/actormq/actors/transaction"
	"github.com/actormq/actormq/actors/writer"
	"github.com/actormq/actormq/internal/wallclock"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
)

// Property keys the send path reads or writes that wire/message does not name.
const (
	propertyPopCK = "POP_CK" // reserved for pop; stripped from client sends
	multiTagType  = "MULTI_TAG"
)

// propScan is what the send path reads from a message's properties, found
// in one pass (message.EachProperty) instead of one scan per key. Values
// follow ParseProperties: the last duplicate wins, empty values are absent.
type propScan struct {
	wait, uniqKey, tags, delay, tranMsg string
	hasDelay, hasPopCK, hasCluster      bool
}

func (p *propScan) scan(props string) {
	message.EachProperty(props, func(k, v string) {
		switch k {
		case message.PropertyWait:
			p.wait = v
		case message.PropertyUniqKey:
			p.uniqKey = v
		case message.PropertyTags:
			p.tags = v
		case message.PropertyDelay:
			p.delay, p.hasDelay = v, true
		case message.PropertyTranMsg:
			p.tranMsg = v
		case propertyPopCK:
			p.hasPopCK = true
		case message.PropertyCluster:
			p.hasCluster = true
		}
	})
}

// propsTail returns what the stored properties need appended to props,
// scanned into p, when nothing has to be removed: the CLUSTER entry, after
// a separator when props lacks its trailing one (exactly what SetProperty
// appends). ok is false when POP_CK or an existing CLUSTER must go, which
// properties (building a new string) handles.
func (s *Sender) propsTail(props string, p *propScan) (tail string, ok bool) {
	if p.hasPopCK || (p.hasCluster && s.clusterEntry != "") {
		return "", false
	}
	if s.clusterEntry == "" {
		return "", true
	}
	if props != "" && props[len(props)-1] != message.PropertySeparator {
		return s.clusterEntrySep, true
	}
	return s.clusterEntry, true
}

// encode checks a single message or a batch against the topic (§6.1 steps
// 5-9) and appends its records to b.Records.B. It returns the Append for
// them, not yet added to b; on error the caller cuts b.Records.B back.
func (t *topicActor) encode(req *sendReq, tc *body.TopicConfig, b *writer.Batch) (*writer.Append, error) {
	s := t.s
	h := &req.hdr
	qid, err := t.check(req, tc)
	if err != nil {
		return nil, err
	}
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
		QueueID:        qid,
		Body:           req.cmd.Body,
	}
	if h.batch {
		return t.encodeBatch(req, &m, b)
	}
	var p propScan
	p.scan(h.properties)
	// The common case: no diversion and nothing to remove, so the record
	// takes the producer's properties followed by the CLUSTER entry,
	// without a joined string. Otherwise the properties are rebuilt.
	prepared := message.TransactionType(h.sysFlag) == message.TransactionPrepared
	tail, plain := s.propsTail(h.properties, &p)
	plain = plain && !prepared && !p.hasDelay
	var tagsCode int64
	if plain {
		if n := len(h.properties) + len(tail); n > message.PropertiesBytesMax {
			return nil, propertiesTooLong(n)
		}
		m.Properties = h.properties
		tagsCode = message.TagsHashCode(p.tags)
	} else {
		props, err := s.properties(h.properties)
		if err != nil {
			return nil, err
		}
		m.Properties, tail = props, ""
		p.uniqKey, _ = message.PropertyValue(props, message.PropertyUniqKey)
		// A prepared single message goes to the half topic (divert). Every
		// stored record, a half message included, has type NOT_TYPE
		// (package comment, diversions).
		tagsCode = t.divert(&m, prepared && transaction.IsPrepared(h.sysFlag, h.properties))
	}
	a := writer.NewAppend(1)
	a.Conn, a.Req, a.Done = req.conn, req.cmd, s.release
	a.Key = store.QueueKey{Topic: m.Topic, QueueID: m.QueueID}
	a.ReplyQueueID = qid
	a.NoWait = p.wait == "false"
	a.UniqKey = p.uniqKey
	a.Tags[0] = tagsCode
	b.Records.B = message.AppendRecordTail(b.Records.B, &m, tail)
	return a, nil
}

// encodeBatch is encode for a SEND_BATCH_MESSAGE: each item is checked
// (§6.1 step 8 per item) and becomes one record of m's topic and queue;
// they take consecutive queue offsets. A batch is never diverted.
func (t *topicActor) encodeBatch(req *sendReq, m *message.Message, b *writer.Batch) (*writer.Append, error) {
	s := t.s
	items, err := message.DecodeBatchView(t.items[:0], req.cmd.Body)
	if cap(items) <= inboxSpareMax {
		t.items = items[:0]
	}
	// The items alias the body, which stays unchanged until the records
	// are encoded below; the scratch must not keep them past this call.
	defer clear(items)
	if err != nil {
		return nil, fmt.Errorf("%w: bad batch body: %w", reply.ErrMessageIllegal, err)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("%w: empty batch", reply.ErrMessageIllegal)
	}
	wait, _ := message.PropertyValue(req.hdr.properties, message.PropertyWait)
	// Room for every record at once: the body holds the items' bodies and
	// properties, and each record adds the fixed fields, topic and tail.
	perRecord := message.RecordBytesMin + len(m.Topic) + len(s.clusterEntrySep)
	b.Records.B = slices.Grow(b.Records.B, len(req.cmd.Body)+len(items)*perRecord)
	a := writer.NewAppend(len(items))
	for i := range items {
		var p propScan
		p.scan(items[i].Properties)
		err := checkBatchItem(&p)
		var tail string
		plain := false
		if err == nil {
			if tail, plain = s.propsTail(items[i].Properties, &p); plain {
				if n := len(items[i].Properties) + len(tail); n > message.PropertiesBytesMax {
					err = propertiesTooLong(n)
				}
				m.Properties = items[i].Properties
			} else {
				m.Properties, err = s.properties(items[i].Properties)
				if err == nil {
					p.tags, _ = message.PropertyValue(m.Properties, message.PropertyTags)
				}
			}
		}
		if err != nil {
			a.Discard()
			return nil, err
		}
		m.Flag, m.Body = items[i].Flag, items[i].Body
		a.Tags[i] = message.TagsHashCode(p.tags)
		b.Records.B = message.AppendRecordTail(b.Records.B, m, tail)
	}
	a.Conn, a.Req, a.Done = req.conn, req.cmd, s.release
	a.Key = store.QueueKey{Topic: m.Topic, QueueID: m.QueueID}
	a.ReplyQueueID = m.QueueID
	a.NoWait = wait == "false"
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
	} else if code, ok := schedule.Divert(m, t.s.delayLevels, wallclock.Now().UnixMilli()); ok {
		return code
	}
	tags, _ := message.PropertyValue(m.Properties, message.PropertyTags)
	return message.TagsHashCode(tags)
}

// properties returns the stored properties of one message: the reserved
// POP_CK stripped and CLUSTER set (§6.1 step 9), at most 32767 bytes.
func (s *Sender) properties(p string) (string, error) {
	p = message.RemoveProperty(p, propertyPopCK)
	if c := s.cfg.Broker.BrokerClusterName; c != "" {
		p = message.SetProperty(p, message.PropertyCluster, c)
	}
	if len(p) > message.PropertiesBytesMax {
		return "", propertiesTooLong(len(p))
	}
	return p, nil
}

func propertiesTooLong(n int) error {
	return fmt.Errorf("%w: the message properties size %d over max value, MAX: %d",
		reply.ErrMessageIllegal, n, message.PropertiesBytesMax)
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
	var p propScan
	p.scan(h.properties)
	return checkBatchItem(&p)
}

// checkBatchItem rejects delay and transaction flags in one batch item (or
// the batch header's properties), scanned into p.
func checkBatchItem(p *propScan) error {
	if p.hasDelay {
		if n, err := strconv.Atoi(p.delay); err != nil || n > 0 {
			return fmt.Errorf("%w: batch message does not support delay level", reply.ErrMessageIllegal)
		}
	}
	if strings.EqualFold(p.tranMsg, "true") {
		return fmt.Errorf("%w: batch message does not support transaction", reply.ErrMessageIllegal)
	}
	return nil
}
