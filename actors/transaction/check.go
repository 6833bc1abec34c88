package transaction

import (
	"context"
	"math"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/actormq/actormq/actors/offload"
	"github.com/actormq/actormq/actors/writer"
	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
)

// startScan begins a scan (package comment) up to the half queue's end as
// of now: copies the scan appends land beyond it and wait for the next one,
// so each open transaction is checked at most once per interval.
func (a *txActor) startScan(ctx actor.Context) {
	q := a.s.cfg.Queues
	a.scanEnd = q.MaxOffset(halfKey.Topic, halfKey.QueueID)
	if low := q.MinOffset(halfKey.Topic, halfKey.QueueID); a.halfNext < low {
		a.halfNext = low // retention deleted what the scan had not reached
	}
	a.scanNow = a.s.cfg.Now()
	a.unreadable = 0
	a.scan(ctx)
}

// scan examines up to scanBatchMax half records, then continues in a
// message to itself, or ends the scan.
func (a *txActor) scan(ctx actor.Context) {
	for n := 0; a.halfNext < a.scanEnd; {
		if n >= scanBatchMax {
			ctx.Send(ctx.Self(), &scanMore{})
			return
		}
		want := min(int64(scanBatchMax-n), a.scanEnd-a.halfNext)
		units, err := a.s.cfg.Queues.ReadUnits(halfKey, a.halfNext, a.units[:0:want])
		if err != nil {
			a.s.log.Error().Err(err).Int64("offset", a.halfNext).Msg("check scan: half queue unreadable")
			break
		}
		if len(units) == 0 {
			break
		}
		for _, u := range units {
			if !a.examine(ctx, a.halfNext, u) {
				a.finishScan(ctx)
				return
			}
			a.halfNext++
			n++
		}
	}
	a.finishScan(ctx)
}

// finishScan saves the progress and arms the timer of the next scan.
func (a *txActor) finishScan(ctx actor.Context) {
	if a.unreadable > 0 {
		a.s.log.Warn().Int("records", a.unreadable).Msg("check scan passed half messages it could not read")
	}
	a.scanEnd = -1
	a.commitProgress()
	a.armTimer(ctx)
}

// examine decides about the half record of unit u at queue offset off
// (§15 step 6) and reports whether the scan goes on past it; false means
// the record is too young to check, and so are the ones after it.
func (a *txActor) examine(ctx actor.Context, off int64, u consumequeue.Unit) bool {
	if u.IsFiller() || u.Size == 0 {
		return true
	}
	m, err := a.s.cfg.CommitLog.ReadMessage(u.CommitLogOffset)
	if err != nil || m.Topic != halfKey.Topic || m.QueueOffset != off {
		a.unreadable++
		a.s.log.Debug().Err(err).Int64("halfOffset", off).Msg("check scan: half message unreadable")
		return true
	}
	root := rootOf(&m)
	if st := a.roots[root]; st != nil && (st.ended || off < st.last) {
		// Ended, or superseded by a newer copy (which the scan reaches
		// later). Its state goes once the scan passed its last record.
		if st.ended && off >= st.last && st.copying == 0 {
			delete(a.roots, root)
		}
		return true
	}
	group, _ := message.PropertyValue(m.Properties, message.PropertyProducerGroup)
	if _, _, ok := realQueue(&m); !ok || group == "" {
		a.discard(ctx, &m, root, "no REAL_TOPIC, REAL_QID or PGROUP")
		return true
	}
	age := a.scanNow.Sub(time.UnixMilli(m.BornTimestamp))
	if age > a.s.cfg.Broker.FileReservedTime {
		a.discard(ctx, &m, root, "older than fileReservedTime")
		return true
	}
	times := checkTimes(&m)
	if times >= a.s.cfg.Broker.TransactionCheckMax {
		a.discard(ctx, &m, root, "checked transactionCheckMax times")
		return true
	}
	// A negative age (the producer's clock is ahead) is checked at once,
	// as in Java, rather than blocking the scan for an unknown time.
	if age >= 0 && age < a.s.cfg.Broker.TransactionTimeOut {
		return false
	}
	if immunity, ok := a.immunity(&m); ok && age >= 0 && age < immunity {
		// Its own first-check time has not come: move it along without a
		// check, so that it does not hold up the scan.
		a.copyHalf(ctx, &m, root, times, false)
		return true
	}
	if len(a.s.cfg.Producers.ProducerConns(group)) == 0 {
		// Nobody to ask (package comment): counted, except just after start.
		if a.scanNow.Sub(a.started) >= producerReturnGrace {
			times++
		}
		a.s.log.Debug().Str("group", group).Int64("halfOffset", off).Int("checkTimes", times).
			Msg("check scan: no live producer, check not sent")
		a.copyHalf(ctx, &m, root, times, false)
		return true
	}
	a.copyHalf(ctx, &m, root, times+1, true)
	return true
}

// checkTimes reads TRANSACTION_CHECK_TIMES (0 when absent or malformed).
func checkTimes(m *message.Message) int {
	v, _ := message.PropertyValue(m.Properties, message.PropertyTransactionCheckTimes)
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// immunity reads CHECK_IMMUNITY_TIME_IN_SECONDS: the producer's own first
// check delay, never below transactionTimeOut (Java's getImmunityTime).
func (a *txActor) immunity(m *message.Message) (time.Duration, bool) {
	v, ok := message.PropertyValue(m.Properties, message.PropertyCheckImmunityTime)
	if !ok {
		return 0, false
	}
	secs, err := strconv.ParseInt(v, 10, 64)
	if err != nil || secs <= 0 {
		return 0, false
	}
	secs = min(secs, int64(math.MaxInt64/time.Second))
	return max(time.Duration(secs)*time.Second, a.s.cfg.Broker.TransactionTimeOut), true
}

// copyHalf re-appends half record m to the half queue with its root and
// check count times (kept absent while 0); once stored, copyDone sends the
// check if check is set.
func (a *txActor) copyHalf(ctx actor.Context, m *message.Message, root int64, times int, check bool) {
	c := *m
	c.Properties = message.SetProperty(m.Properties, message.PropertyTranPreparedQueueOffset, strconv.FormatInt(root, 10))
	if times > 0 {
		c.Properties = message.SetProperty(c.Properties, message.PropertyTransactionCheckTimes, strconv.Itoa(times))
	}
	st := a.roots[root]
	if st == nil {
		st = &rootState{last: m.QueueOffset, opOffset: -1}
		a.roots[root] = st
	}
	st.copying++
	a.put(ctx, &c, tagsCodeOf(&c), func(res writer.PutResult) any {
		return &copyStored{root: root, copy: c, res: res, check: check}
	})
}

// copyDone records where the copy landed and sends the check, unless an
// END ended the transaction meanwhile.
func (a *txActor) copyDone(msg *copyStored) {
	st := a.roots[msg.root]
	if st == nil {
		return
	}
	st.copying--
	if msg.res.Err != nil {
		// The scan has passed the record copied: without the copy no
		// later scan checks this transaction. The writer only fails like
		// this when the store does, which stops the broker's writes anyway.
		a.s.log.Error().Err(msg.res.Err).Int64("root", msg.root).Msg("half message copy not stored; its transaction is no longer checked")
		return
	}
	st.last = max(st.last, msg.res.QueueOffset)
	if msg.check && !st.ended {
		a.sendCheck(&msg.copy, msg.res)
	}
}

// checkOpaque numbers CHECK_TRANSACTION_STATE requests. They are oneway,
// but a negative opaque could never match a netio Conn.Invoke waiter should
// a client answer anyway (as for NOTIFY_CONSUMER_IDS_CHANGED).
var checkOpaque atomic.Int32

// sendCheck sends CHECK_TRANSACTION_STATE (§7) for copy c, stored as res,
// oneway to one live connection of its producer group (chosen at random,
// as Java does). The body is the copy's record with the real topic and
// queue; the Go client needs its PGROUP to equal its own group.
func (a *txActor) sendCheck(c *message.Message, res writer.PutResult) {
	group, _ := message.PropertyValue(c.Properties, message.PropertyProducerGroup)
	conns := a.s.cfg.Producers.ProducerConns(group)
	if len(conns) == 0 {
		a.s.log.Debug().Str("group", group).Int64("halfOffset", res.QueueOffset).Msg("check not sent: the producer left")
		return
	}
	b := *c
	b.Topic, b.QueueID, _ = realQueue(c)
	b.QueueOffset, b.PhysicalOffset = res.QueueOffset, res.PhysOffset
	ext := map[string]string{
		"tranStateTableOffset": strconv.FormatInt(res.QueueOffset, 10),
		"commitLogOffset":      strconv.FormatInt(res.PhysOffset, 10),
		"offsetMsgId":          res.MsgID,
		"topic":                body.TransHalfTopic,
		"bname":                a.s.cfg.Broker.BrokerName,
	}
	if uniq, ok := message.PropertyValue(c.Properties, message.PropertyUniqKey); ok {
		ext["msgId"], ext["transactionId"] = uniq, uniq
	}
	cmd := remoting.NewRequest(remoting.ReqCheckTransactionState, ext, message.AppendRecord(nil, &b))
	cmd.Flag |= remoting.FlagOneway
	cmd.Opaque = checkOpaque.Add(1) | math.MinInt32
	conn := conns[rand.IntN(len(conns))]
	if err := conn.Write(cmd); err != nil {
		a.s.log.Debug().Err(err).Str("group", group).Msg("check not sent: connection gone")
		return
	}
	a.s.log.Debug().Str("group", group).Int64("halfOffset", res.QueueOffset).Str("conn", conn.RemoteAddr()).Msg("transaction check sent")
}

// discard gives up on the transaction of half record m: its state goes and
// the record is copied to CheckMaxTimeTopic (Java 5.x) for operators.
func (a *txActor) discard(ctx actor.Context, m *message.Message, root int64, why string) {
	delete(a.roots, root)
	group, _ := message.PropertyValue(m.Properties, message.PropertyProducerGroup)
	uniq, _ := message.PropertyValue(m.Properties, message.PropertyUniqKey)
	a.s.log.Warn().Str("group", group).Str("msgId", uniq).Int64("halfOffset", m.QueueOffset).Int64("root", root).
		Str("why", why).Msg("half message discarded to " + CheckMaxTimeTopic)
	a.ensureCheckMaxTimeTopic(ctx)
	d := *m
	d.Topic, d.QueueID = CheckMaxTimeTopic, 0
	half := m.QueueOffset
	a.put(ctx, &d, tagsCodeOf(&d), func(res writer.PutResult) any {
		return &discardStored{halfOffset: half, res: res}
	})
}

// topicState is where the creation of CheckMaxTimeTopic stands.
type topicState int

const (
	topicUnknown topicState = iota
	topicCreating
	topicExists
)

// ensureCheckMaxTimeTopic creates CheckMaxTimeTopic (one queue, RW) on first
// use, as Java 5.x does, so that it is routed and readable. The creation
// waits on the metadata actor, so a child runs it (offload.Run) and the
// discard is stored meanwhile: writer.Put needs no topic.
func (a *txActor) ensureCheckMaxTimeTopic(ctx actor.Context) {
	if a.topic != topicUnknown {
		return
	}
	if _, ok := a.s.cfg.Topics.Topic(CheckMaxTimeTopic); ok {
		a.topic = topicExists
		return
	}
	a.topic = topicCreating
	topics := a.s.cfg.Topics
	offload.Run(ctx, CheckMaxTimeTopic, createTopicTimeout, func(c context.Context) error {
		_, err := topics.CreateTopic(c, body.TopicConfig{
			TopicName: CheckMaxTimeTopic, ReadQueueNums: 1, WriteQueueNums: 1,
			Perm: body.PermRead | body.PermWrite, TopicFilterType: "SINGLE_TAG",
		})
		return err
	})
}

// topicCreated ends the creation of CheckMaxTimeTopic; after a failure the
// next discard tries again.
func (a *txActor) topicCreated(err error) {
	if err != nil {
		a.s.log.Warn().Err(err).Msg("cannot create " + CheckMaxTimeTopic)
		a.topic = topicUnknown
		return
	}
	a.topic = topicExists
}
