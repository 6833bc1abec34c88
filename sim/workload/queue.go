package workload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/actormq/actormq/sim/history"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// Consumer pacing.
const (
	// commitEvery is how often a worker commits by UPDATE_CONSUMER_OFFSET
	// (the Go client: 5 s), besides the piggyback on every pull.
	commitEvery = 500 * time.Millisecond
	// pullBatch is maxMsgNums.
	pullBatch = 32
	// Pull sysFlag bits (wire-protocol.md §6.2). Like the Go push consumer,
	// no SUBSCRIPTION bit: the broker filters with the heartbeat's
	// subscription.
	pullFlagCommit  = 1 << 0
	pullFlagSuspend = 1 << 1
)

// errLockLost ends an orderly session.
var errLockLost = errors.New("workload: queue lock lost")

// queueWorker consumes one queue for one consumer until stopped. Its
// sessions are numbered run-wide; an orderly worker starts a new session
// each time it (re)takes the lock.
type queueWorker struct {
	c      *consumer
	queue  int32
	cancel context.CancelFunc
	done   chan struct{}
	// live is true while a session is consuming (after its offset read).
	live atomic.Bool

	session   int64
	next      int64 // next offset to consume
	committed int64 // last offset the broker acknowledged; -1 before any
	lastSent  time.Time
	locked    bool // orderly: a Lock is recorded and no Unlock after it
}

// startWorkerLocked starts a worker of queue q for c. REQUIRES g.mu.
func (g *group) startWorkerLocked(q int32, c *consumer) *queueWorker {
	ctx, cancel := context.WithCancel(context.Background())
	qw := &queueWorker{c: c, queue: q, cancel: cancel, done: make(chan struct{}), committed: -1}
	go qw.run(ctx)
	return qw
}

func (qw *queueWorker) active() bool { return qw.live.Load() }

// stop ends the worker: its pull in flight is abandoned (whatever it
// returns is not consumed), then it commits its offset and, orderly,
// records the unlock and sends it.
func (qw *queueWorker) stop() {
	qw.cancel()
	<-qw.done
}

func (qw *queueWorker) w() *Workload { return qw.c.g.w }

func (qw *queueWorker) event(kind history.Kind) history.Event {
	return history.Event{Kind: kind, Actor: qw.c.name, Group: qw.c.g.cfg.Name, Topic: qw.w().cfg.Topic, Queue: qw.queue, Session: qw.session}
}

func (qw *queueWorker) run(ctx context.Context) {
	defer close(qw.done)
	for ctx.Err() == nil {
		err := qw.runSession(ctx)
		qw.live.Store(false)
		if ctx.Err() != nil {
			break // stopping: commit, then unlock, below
		}
		if qw.c.g.cfg.Orderly && qw.locked {
			qw.unlock(err)
		}
		pause(ctx, retryPause)
	}
	// Commit before unlocking, as RocketMQ's orderly consumer persists the
	// offset before it lets go of the queue. A worker without its lock
	// commits nothing: the queue may be someone else's by now.
	orderly := qw.c.g.cfg.Orderly
	if qw.session != 0 && (!orderly || qw.locked) && qw.next != qw.committed {
		qw.commit(context.Background())
	}
	if orderly && qw.locked {
		qw.unlock(nil)
	}
}

// runSession consumes until ctx is done or, orderly, the lock is lost or
// a request fails (the lock may have gone with the connection). It returns
// why it ended.
func (qw *queueWorker) runSession(ctx context.Context) error {
	qw.session = qw.w().nextSession()
	if qw.c.g.cfg.Orderly {
		if err := qw.lock(ctx); err != nil {
			return err
		}
	}
	if err := qw.readOffset(ctx); err != nil {
		return err
	}
	qw.live.Store(true)
	for ctx.Err() == nil {
		if qw.c.g.cfg.Orderly {
			if err := qw.renew(ctx); err != nil {
				return err
			}
		}
		if err := qw.pull(ctx); err != nil && qw.c.g.cfg.Orderly {
			return err // the lock may have gone with the connection
		}
		if time.Since(qw.lastSent) > commitEvery && qw.next != qw.committed {
			qw.commit(ctx)
		}
	}
	return ctx.Err()
}

// readOffset starts a session at the broker's committed offset
// (QUERY_CONSUMER_OFFSET; QUERY_NOT_FOUND: from 0, CONSUME_FROM_FIRST).
func (qw *queueWorker) readOffset(ctx context.Context) error {
	for {
		cmd := remoting.NewRequest(remoting.ReqQueryConsumerOffset, map[string]string{
			"consumerGroup": qw.c.g.cfg.Name, "topic": qw.w().cfg.Topic, "queueId": strconv.Itoa(int(qw.queue)),
		}, nil)
		issued := int64(qw.w().hist.Len())
		resp, err := qw.c.link.invoke(ctx, controlTimeout, cmd)
		if err == nil && (resp.Code == remoting.RespSuccess || resp.Code == remoting.RespQueryNotFound) {
			off := int64(-1)
			if resp.Code == remoting.RespSuccess {
				if off, err = strconv.ParseInt(resp.ExtFields["offset"], 10, 64); err != nil {
					return fmt.Errorf("workload: QUERY_CONSUMER_OFFSET offset %q: %w", resp.ExtFields["offset"], err)
				}
			}
			ev := qw.event(history.OffsetRead)
			ev.Offset, ev.Issued = off, issued
			qw.w().rec(ev)
			qw.next, qw.committed = max(off, 0), off
			qw.c.g.setProgress(qw, qw.next)
			return nil
		}
		if err != nil && qw.c.g.cfg.Orderly {
			return err // the lock may have gone with the connection
		}
		if !pause(ctx, retryPause) {
			return ctx.Err()
		}
	}
}

// pull long-polls once from qw.next, piggybacking the commit of qw.next,
// and consumes what it gets. It returns transport errors.
func (qw *queueWorker) pull(ctx context.Context) error {
	name, topic := qw.c.g.cfg.Name, qw.w().cfg.Topic
	sysFlag := pullFlagSuspend
	commitOff := qw.next
	if commitOff > 0 {
		sysFlag |= pullFlagCommit
	}
	req := qw.next
	cmd := remoting.NewRequest(remoting.ReqPullMessage, map[string]string{
		"consumerGroup": name, "topic": topic, "queueId": strconv.Itoa(int(qw.queue)),
		"queueOffset": strconv.FormatInt(req, 10), "maxMsgNums": strconv.Itoa(pullBatch),
		"sysFlag": strconv.Itoa(sysFlag), "commitOffset": strconv.FormatInt(commitOff, 10),
		"suspendTimeoutMillis": strconv.FormatInt(suspend.Milliseconds(), 10),
		"subscription":         "", "subVersion": "0", "expressionType": "TAG",
	}, nil)
	issued := int64(qw.w().hist.Len())
	resp, err := qw.c.link.invoke(ctx, suspend+pullSlack, cmd)
	if err != nil {
		if sysFlag&pullFlagCommit != 0 && ctx.Err() == nil {
			qw.commitEvent(history.CommitSent, commitOff, issued, err.Error())
		}
		if ctx.Err() == nil {
			pause(ctx, retryPause)
		}
		return err
	}
	switch resp.Code {
	case remoting.RespSuccess, remoting.RespPullNotFound, remoting.RespPullRetryImmediately, remoting.RespPullOffsetMoved:
		if sysFlag&pullFlagCommit != 0 {
			qw.commitEvent(history.Commit, commitOff, issued, "pull")
		}
	case remoting.RespSubscriptionNotExist, remoting.RespSubscriptionNotLatest, remoting.RespSubscriptionGroupNotExist:
		// A restarted broker that has not had our heartbeat yet.
		qw.c.heartbeat(ctx)
		return nil
	default:
		if sysFlag&pullFlagCommit != 0 {
			qw.commitEvent(history.CommitSent, commitOff, issued, "pull answered "+strconv.Itoa(int(resp.Code)))
		}
		pause(ctx, retryPause)
		return fmt.Errorf("workload: pull answered %d: %s", resp.Code, resp.Remark)
	}
	nextBegin, err := strconv.ParseInt(resp.ExtFields["nextBeginOffset"], 10, 64)
	if err != nil {
		return fmt.Errorf("workload: pull answer %d without nextBeginOffset: %w", resp.Code, err)
	}
	if ctx.Err() != nil {
		return ctx.Err() // stopped while the answer came: do not consume it
	}
	if resp.Code != remoting.RespSuccess {
		if resp.Code != remoting.RespPullNotFound || nextBegin != req {
			ev := qw.event(history.Pulled)
			ev.Req, ev.Offset, ev.Code = req, nextBegin, resp.Code
			qw.w().rec(ev)
		}
		qw.next = nextBegin
		qw.c.g.setProgress(qw, qw.next)
		return nil
	}
	qw.consume(resp.Body, req, issued)
	qw.next = nextBegin
	qw.c.g.setProgress(qw, qw.next)
	return nil
}

// consume records every record of a pull body as a delivery.
func (qw *queueWorker) consume(b []byte, req, issued int64) {
	for _, ev := range Deliveries(b, qw.w().cfg.Topic, qw.queue, req, issued) {
		ev.Actor, ev.Group, ev.Session = qw.c.name, qw.c.g.cfg.Name, qw.session
		qw.w().rec(ev)
	}
}

// Deliveries decodes a pull body of topic's queue, pulled at req, into
// Deliver events (Actor, Group and Session left for the caller), marking a
// record whose CRC, place or body is wrong in Detail; an undecodable
// record ends the list. issued is the history's length when the pull was
// sent.
func Deliveries(b []byte, topic string, queue int32, req, issued int64) []history.Event {
	var out []history.Event
	for i := 0; len(b) > 0; i++ {
		ev := history.Event{Kind: history.Deliver, Topic: topic, Queue: queue, Req: req, Index: i, Issued: issued}
		m, n, err := message.DecodeRecord(b, true)
		if err != nil {
			ev.Offset, ev.Detail = req+int64(i), "undecodable record: "+err.Error()
			return append(out, ev)
		}
		b = b[n:]
		ev.ID, _ = message.PropertyValue(m.Properties, message.PropertyUniqKey)
		ev.Offset = m.QueueOffset
		switch {
		case m.Topic != topic || m.QueueID != queue:
			ev.Detail = fmt.Sprintf("record of %s queue %d in a pull of queue %d", m.Topic, m.QueueID, queue)
		case !bytes.Equal(m.Body, Body(ev.ID)):
			ev.Detail = "body differs from the one sent"
		}
		out = append(out, ev)
	}
	return out
}

// commit sends UPDATE_CONSUMER_OFFSET for qw.next.
func (qw *queueWorker) commit(ctx context.Context) {
	off := qw.next
	cmd := remoting.NewRequest(remoting.ReqUpdateConsumerOffset, map[string]string{
		"consumerGroup": qw.c.g.cfg.Name, "topic": qw.w().cfg.Topic, "queueId": strconv.Itoa(int(qw.queue)),
		"commitOffset": strconv.FormatInt(off, 10),
	}, nil)
	qw.lastSent = time.Now()
	issued := int64(qw.w().hist.Len())
	resp, err := qw.c.link.invoke(ctx, controlTimeout, cmd)
	switch {
	case err != nil:
		qw.commitEvent(history.CommitSent, off, issued, err.Error())
	case resp.Code != remoting.RespSuccess:
		qw.commitEvent(history.CommitSent, off, issued, "answered "+strconv.Itoa(int(resp.Code))+": "+resp.Remark)
	default:
		qw.commitEvent(history.Commit, off, issued, "update")
	}
}

// commitEvent records a commit; issued is the history's length when its
// request was sent.
func (qw *queueWorker) commitEvent(kind history.Kind, off, issued int64, detail string) {
	ev := qw.event(kind)
	ev.Offset, ev.Issued, ev.Detail = off, issued, detail
	qw.w().rec(ev)
	if kind == history.Commit {
		qw.committed = off
	}
}
