package main

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/remoting"
)

// pullConn is one consumer connection: a netio.Client whose reader
// goroutine completes the pulls in onFrame and writes each queue's next
// pull from there, one pull in flight per queue as RocketMQ's clients keep
// it. Rejected: a goroutine per queue blocked in Invoke, which cost a
// header map, a decoded Command and a goroutine hop per pull, and let a
// message stored after the pull's answer wait for that hop too.
type pullConn struct {
	c      *consumer
	client *netio.Client

	mu      sync.Mutex
	enc     pullEncoder
	pending map[int32]*queuePull // by opaque
}

// queuePull is one read queue's pull state, guarded by its conn's mu.
type queuePull struct {
	pc                    *pullConn
	q                     queueRef
	offset, first, target int64
	rec                   *recorder
	sentAt                time.Time // of the pull in flight
	stopped               bool
}

func newPullConn(c *consumer) *pullConn {
	pc := &pullConn{c: c, pending: make(map[int32]*queuePull)}
	pc.enc.init(c.opts.pullBatch)
	pc.client = netio.NewClient(netio.ClientConfig{OnResponseFrame: pc.onFrame})
	return pc
}

// issue writes qp's next pull, or stops qp when the run is over, the
// queue is drained or, with --repeat, has nothing stored; pc.mu is held.
// A write that fails is an error and is tried again 100 ms later, not at
// once on a dead connection.
func (pc *pullConn) issue(qp *queuePull) {
	c := pc.c
	if qp.stopped {
		return
	}
	if c.ctx.Err() != nil {
		pc.stop(qp)
		return
	}
	if c.opts.repeat && qp.offset >= qp.target {
		if qp.first >= qp.target {
			pc.stop(qp) // nothing stored: no backlog to read again
			return
		}
		qp.offset = qp.first
	}
	if c.opts.drain && qp.offset >= qp.target {
		pc.stop(qp)
		return
	}
	opaque := pc.client.NextOpaque()
	buf := remoting.NewOutFrame(pullRequestBytes)
	buf.B = pc.enc.append(buf.B[:0], qp.q, qp.offset, opaque)
	pc.pending[opaque] = qp
	qp.sentAt = time.Now()
	// pc.mu is held across the write, so no answer can have taken the
	// entry (unlike a sender's burst, written unlocked).
	if err := pc.client.WriteFrames(qp.q.broker, buf); err != nil { // takes buf over
		delete(pc.pending, opaque)
		c.m.fail(err)
		pc.retryLater(qp)
	}
}

func (pc *pullConn) retryLater(qp *queuePull) {
	time.AfterFunc(100*time.Millisecond, func() {
		pc.mu.Lock()
		pc.issue(qp)
		pc.mu.Unlock()
	})
}

// stop ends qp's pulls; pc.mu is held.
func (pc *pullConn) stop(qp *queuePull) {
	if qp.stopped {
		return
	}
	qp.stopped = true
	c := pc.c
	if c.opts.drain && int(c.done.Add(1)) == len(c.cl.read) {
		c.drained()
	}
	c.running.Done()
}

// stopAll stops every queue of pc, dropping the pulls in flight (a held
// pull may not be answered for suspendMillis).
func (pc *pullConn) stopAll(queues []*queuePull) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	clear(pc.pending)
	for _, qp := range queues {
		if qp.pc == pc {
			pc.stop(qp)
		}
	}
}

// expire fails the pulls unanswered for longer than the long-poll hold
// plus pullSlack, as Invoke's deadline did, and pulls again.
func (pc *pullConn) expire(now time.Time) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	for opaque, qp := range pc.pending {
		if now.Sub(qp.sentAt) > suspendMillis*time.Millisecond+pullSlack {
			delete(pc.pending, opaque)
			pc.c.m.fail(fmt.Errorf("%w: no answer to a pull of queue %d within %s", netio.ErrTimeout, qp.q.queueID, suspendMillis*time.Millisecond+pullSlack))
			pc.issue(qp)
		}
	}
}

// onFrame completes a pull answer on the client's reader goroutine and
// writes the queue's next pull. A SUCCESS in actormq's layout (scanAnswer)
// has its records walked in place in frame, which the reader reuses after
// the call; anything else is decoded whole, as it is rare (long-poll
// timeouts, moved offsets, failures). Frames it does not own go back to
// the client.
func (pc *pullConn) onFrame(frame []byte) bool {
	code, opaque, flag, ok := scanAnswer(frame)
	var cmd *remoting.Command
	if !ok || code != remoting.RespSuccess {
		var err error
		if cmd, err = remoting.DecodeFrame(frame); err != nil || !cmd.IsResponse() {
			return false
		}
		code, opaque = cmd.Code, cmd.Opaque
	} else if flag&remoting.FlagResponse == 0 {
		return false
	}
	c := pc.c
	pc.mu.Lock()
	defer pc.mu.Unlock()
	qp, mine := pc.pending[opaque]
	if !mine {
		return false
	}
	delete(pc.pending, opaque)
	switch {
	case code == remoting.RespSuccess && cmd == nil:
		headerLen := int(binary.BigEndian.Uint32(frame[4:]) & remoting.HeaderBytesMax)
		qp.offset = c.records(frame[8+headerLen:], qp.q, qp.offset, qp.rec)
	case code == remoting.RespSuccess:
		qp.offset = c.records(cmd.Body, qp.q, qp.offset, qp.rec)
	case code == remoting.RespPullNotFound, code == remoting.RespPullRetryImmediately:
	case code == remoting.RespPullOffsetMoved:
		next := cmd.ExtFields["nextBeginOffset"]
		c.m.fail(fmt.Errorf("queue %d: offset %d moved to %s", qp.q.queueID, qp.offset, next))
		if n, err := strconv.ParseInt(next, 10, 64); err == nil {
			qp.offset = n
		}
	default:
		c.m.fail(fmt.Errorf("queue %d: %w %d: %s", qp.q.queueID, errCode, code, cmd.Remark))
		pc.retryLater(qp)
		return true
	}
	pc.issue(qp)
	return true
}

// pullEncoder writes PULL_MESSAGE (11) requests with the JSON header the Go
// client sends (its extFields map, keys in encoding/json's sorted order)
// from a fixed field array, so a pull costs no map or number strings.
// Guarded by its conn's mu.
type pullEncoder struct {
	cmd remoting.Command
	ext [11]remoting.ExtField
}

// Fields of ext that change per pull.
const (
	pullExtQueueID     = 4
	pullExtQueueOffset = 5
	pullExtTopic       = 10
)

func (e *pullEncoder) init(pullBatch int) {
	e.cmd = remoting.Command{Code: remoting.ReqPullMessage, Language: remoting.LanguageGo, Version: remoting.Version}
	e.ext = [11]remoting.ExtField{
		{Key: "commitOffset", Str: "0"},
		{Key: "consumerGroup", Str: "mqbench_cg"},
		{Key: "expressionType", Str: "TAG"},
		{Key: "maxMsgNums", Int: int64(pullBatch), IsInt: true},
		{Key: "queueId", IsInt: true},
		{Key: "queueOffset", IsInt: true},
		{Key: "subVersion", Str: "0"},
		{Key: "subscription", Str: "*"},
		{Key: "suspendTimeoutMillis", Int: suspendMillis, IsInt: true},
		{Key: "sysFlag", Int: pullSysFlag, IsInt: true},
		{Key: "topic"},
	}
}

// pullRequestBytes is the out-frame class of a pull request (a few hundred
// bytes: its header's fields and the topic).
const pullRequestBytes = 512

// append appends the frame of a pull of q from offset with opaque.
func (e *pullEncoder) append(dst []byte, q queueRef, offset int64, opaque int32) []byte {
	e.ext[pullExtQueueID].Int = int64(q.queueID)
	e.ext[pullExtQueueOffset].Int = offset
	e.ext[pullExtTopic].Str = q.topic
	e.cmd.Opaque = opaque
	return remoting.AppendFrameExt(dst, &e.cmd, e.ext[:])
}
