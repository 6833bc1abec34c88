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
	storeindex "github.com/actormq/actormq/storage/index"
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

	keys string // KEYS, for the index (addIndexKeys)
}

func (p *propScan) scan(props string) {
	message.EachProperty(props, func(k, v string) {
		switch k {
		case message.PropertyWait:
			p.wait = v
		case message.PropertyUniqKey:
			p.uniqKey = v
		case message.PropertyKeys:
			p.keys = v
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
	base, tail, err := s.properties(h.properties, &p)
	if err != nil {
		return nil, err
	}
	m.Properties = base
	tagsCode := message.TagsHashCode(p.tags)
	// A prepared single message goes to the half topic, a delayed one to
	// the schedule topic (divert); both rewrite the properties, which are
	// joined first. Every stored record, a half message included, has type
	// NOT_TYPE (package comment, diversions).
	a := writer.NewAppend(1)
	if prepared := message.TransactionType(h.sysFlag) == message.TransactionPrepared; prepared || p.hasDelay {
		m.Properties, tail = base+tail, ""
		tagsCode = t.divert(&m, prepared && transaction.IsPrepared(h.sysFlag, h.properties), tagsCode)
		if s.indexKeys() {
			// The diversion rewrote the properties: index what is stored.
			var d propScan
			d.scan(m.Properties)
			addIndexKeys(a, 0, m.Topic, &d)
		}
	} else if s.indexKeys() {
		addIndexKeys(a, 0, m.Topic, &p)
	}
	a.Conn, a.Req, a.Done = req.conn, req.cmd, req.finish
	a.Key = store.QueueKey{Topic: m.Topic, QueueID: m.QueueID}
	if m.Topic == t.name { // not diverted
		a.Ref = t.queueRef(m.QueueID)
	}
	a.ReplyQueueID = qid
	a.NoWait = p.wait == "false"
	a.UniqKey = p.uniqKey
	a.Indexed = s.indexKeys()
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
	// The items share every record field but FLAG, BODY and PROPERTIES:
	// the template writes the rest once per batch, not once per item.
	t.record.Reset(m)
	a := writer.NewAppend(len(items))
	for i := range items {
		it := &items[i]
		// Items without properties (the Go client's, mqbench's) need no
		// scan: nothing to check, tagsCode 0, and the stored properties are
		// the CLUSTER entry alone. (Tags may hold a pooled Append's old
		// codes: every entry is written.)
		props, tail, tagsCode := "", s.clusterEntry, int64(0)
		if it.Properties != "" {
			var p propScan
			p.scan(it.Properties)
			err := checkBatchItem(&p)
			if err == nil {
				props, tail, err = s.properties(it.Properties, &p)
			}
			if err != nil {
				a.Discard()
				return nil, err
			}
			tagsCode = message.TagsHashCode(p.tags)
			if s.indexKeys() {
				addIndexKeys(a, i, m.Topic, &p)
			}
		}
		a.Tags[i] = tagsCode
		b.Records.B = t.record.Append(b.Records.B, it.Flag, it.Body, props, tail)
	}
	a.Conn, a.Req, a.Done = req.conn, req.cmd, req.finish
	a.Indexed = s.indexKeys()
	a.Key = store.QueueKey{Topic: m.Topic, QueueID: m.QueueID}
	a.Ref = t.queueRef(m.QueueID)
	a.ReplyQueueID = m.QueueID
	a.NoWait = wait == "false"
	return a, nil
}

// indexKeys says the topic actors compute the index keys of the records
// (messageIndexEnable); without an index nobody reads them.
func (s *Sender) indexKeys() bool { return s.cfg.Broker.MessageIndexEnable }

// addIndexKeys adds the index keys of record i of a, of topic with the
// properties scanned into p, to a.IndexKeys (the writer hands them to the
// index, which then reads no record: writer.IndexBatch). p's values follow
// the properties map as the index's own reading does: the last duplicate
// wins.
func addIndexKeys(a *writer.Append, i int, topic string, p *propScan) {
	if p.uniqKey == "" && p.keys == "" {
		return
	}
	storeindex.EachKeyHash(topic, p.uniqKey, p.keys, func(hash int32) {
		a.IndexKeys = append(a.IndexKeys, writer.IndexKey{Hash: hash, Record: int32(i)})
	})
}

// divert applies the diversions of a single message that need its queue id
// (package comment; wire doc §14, §15) and returns its consume-queue
// tagsCode: a prepared transaction message becomes a half message; else a
// message with a delay level goes to SCHEDULE_TOPIC_XXXX with its delivery
// time as tagsCode; anything else keeps its topic and queue, and tagsCode,
// the TAGS hash code (neither diversion changes TAGS). (A %RETRY% dead
// letter was diverted on the loop already.)
func (t *topicActor) divert(m *message.Message, prepared bool, tagsCode int64) int64 {
	if prepared {
		transaction.DivertHalf(m)
	} else if code, ok := schedule.Divert(m, t.s.delayLevels, wallclock.Now().UnixMilli()); ok {
		return code
	}
	return tagsCode
}

// properties returns the stored properties of one message, props scanned
// into p, as base followed by tail (§6.1 step 9): base is props without the
// reserved POP_CK and, when the broker has a cluster name, without any
// CLUSTER (a new string only when one was there, else props itself); tail
// is the broker's CLUSTER entry, after a separator when base lacks its
// trailing one — what SetProperty appends. Kept apart so that the common
// record is encoded from the producer's properties and the tail without a
// joined string. Together at most 32767 bytes.
func (s *Sender) properties(props string, p *propScan) (base, tail string, err error) {
	if p.hasPopCK {
		props = message.RemoveProperty(props, propertyPopCK)
	}
	if s.clusterEntry != "" {
		if p.hasCluster {
			props = message.RemoveProperty(props, message.PropertyCluster)
		}
		tail = s.clusterEntry
		if props != "" && props[len(props)-1] != message.PropertySeparator {
			tail = s.clusterEntrySep
		}
	}
	if n := len(props) + len(tail); n > message.PropertiesBytesMax {
		return "", "", propertiesTooLong(n)
	}
	return props, tail, nil
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
