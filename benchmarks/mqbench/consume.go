package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// Pull settings: suspendMillis is the long-poll hold asked of the broker;
// the RPC waits that long plus pullSlack.
const (
	suspendMillis = 2000
	pullSlack     = 5 * time.Second
	pullSysFlag   = 2 | 4 // SUSPEND | SUBSCRIPTION (wire-protocol.md §6.2)
)

// consumerOpts are the consume flags.
type consumerOpts struct {
	conns, pullBatch int
	from             string // "first" or "last"
	drain            bool   // stop once every queue reached its max offset at start
	repeat           bool   // at a queue's max offset at start, go back to its first offset
	stamped          bool   // latency from the body stamp instead of STORETIMESTAMP
}

// consumer pulls every read queue of the topic from its own goroutine,
// each queue on client queueIndex % conns.
type consumer struct {
	opts    consumerOpts
	cl      *cluster
	clients []*netio.Client
	m       *meter
	start   []int64 // per read queue: first offset pulled
	target  []int64 // per read queue: max offset at start (drain)
	done    atomic.Int64
}

// check validates the flags before any connection.
func (o *consumerOpts) check() error {
	if o.repeat && (o.drain || o.from != "first") {
		return fmt.Errorf("--repeat reads from the first offsets and never drains: no --drain, no --from last")
	}
	return nil
}

func newConsumer(cl *cluster, o consumerOpts) (*consumer, error) {
	if len(cl.read) == 0 {
		return nil, fmt.Errorf("topic %s has no readable queue", cl.name())
	}
	if o.from != "first" && o.from != "last" {
		return nil, fmt.Errorf("--from %q: want first or last", o.from)
	}
	if o.conns < 1 || o.pullBatch < 1 {
		return nil, fmt.Errorf("-c and --pull-batch must be at least 1")
	}

	c := &consumer{opts: o, cl: cl, m: &meter{}}
	for _, q := range cl.read {
		maxOff, err := cl.queueOffset(q, remoting.ReqGetMaxOffset)
		if err != nil {
			return nil, fmt.Errorf("max offset of %s queue %d: %w", q.topic, q.queueID, err)
		}
		from := maxOff
		if o.from == "first" {
			if from, err = cl.queueOffset(q, remoting.ReqGetMinOffset); err != nil {
				return nil, fmt.Errorf("min offset of %s queue %d: %w", q.topic, q.queueID, err)
			}
		}
		c.start = append(c.start, from)
		c.target = append(c.target, maxOff)
	}
	for range o.conns {
		c.clients = append(c.clients, netio.NewClient(netio.ClientConfig{}))
	}
	return c, nil
}

func (c *consumer) close() {
	for _, x := range c.clients {
		_ = x.Close()
	}
}

// backlog is the number of messages below the drain targets.
func (c *consumer) backlog() int64 {
	var n int64
	for i := range c.start {
		n += c.target[i] - c.start[i]
	}
	return n
}

// run pulls until ctx is done or, with --drain, every queue reached its
// target; then it cancels drained.
func (c *consumer) run(ctx context.Context, drained context.CancelFunc) {
	var wg sync.WaitGroup
	for i, q := range c.cl.read {
		client := c.clients[i%len(c.clients)]
		wg.Go(func() {
			c.pullQueue(ctx, client, q, c.start[i], c.target[i])
			if c.opts.drain && int(c.done.Add(1)) == len(c.cl.read) {
				drained()
			}
		})
	}
	wg.Wait()
}

// pullQueue long-polls one queue from offset. Each record must carry the
// next queue offset: a gap or repeat counts as an error. With --repeat it
// reads [offset, target) over and over until ctx is done.
func (c *consumer) pullQueue(ctx context.Context, client *netio.Client, q queueRef, offset, target int64) {
	rec := c.m.newRecorder()
	first := offset
	for ctx.Err() == nil {
		if c.opts.repeat && offset >= target {
			if first >= target {
				return // nothing stored: no backlog to read again
			}
			offset = first
		}
		if c.opts.drain && offset >= target {
			return
		}
		cmd := remoting.NewRequest(remoting.ReqPullMessage, map[string]string{
			"consumerGroup": "mqbench_cg", "topic": q.topic, "queueId": strconv.Itoa(int(q.queueID)),
			"queueOffset": strconv.FormatInt(offset, 10), "maxMsgNums": strconv.Itoa(c.opts.pullBatch),
			"sysFlag": strconv.Itoa(pullSysFlag), "commitOffset": "0", "suspendTimeoutMillis": strconv.Itoa(suspendMillis),
			"subscription": "*", "subVersion": "0", "expressionType": "TAG",
		}, nil)
		rctx, cancel := context.WithTimeout(ctx, suspendMillis*time.Millisecond+pullSlack)
		resp, err := client.Invoke(rctx, q.broker, cmd)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				c.m.fail(err)
				time.Sleep(100 * time.Millisecond) // do not spin on a dead connection
			}
			continue
		}
		switch resp.Code {
		case remoting.RespSuccess:
			offset = c.records(resp.Body, q, offset, rec)
		case remoting.RespPullNotFound, remoting.RespPullRetryImmediately:
		case remoting.RespPullOffsetMoved:
			c.m.fail(fmt.Errorf("queue %d: offset %d moved to %s", q.queueID, offset, resp.ExtFields["nextBeginOffset"]))
			if next, err := strconv.ParseInt(resp.ExtFields["nextBeginOffset"], 10, 64); err == nil {
				offset = next
			}
		default:
			c.m.fail(fmt.Errorf("queue %d: %w %d: %s", q.queueID, errCode, resp.Code, resp.Remark))
			time.Sleep(100 * time.Millisecond)
		}
	}
}

var errGap = errors.New("queue offset out of order")

// records decodes a pull body, records each message and returns the next
// offset to pull.
func (c *consumer) records(b []byte, q queueRef, offset int64, rec *recorder) int64 {
	for len(b) > 0 {
		m, n, err := message.DecodeRecord(b, false)
		if err != nil {
			c.m.fail(fmt.Errorf("queue %d offset %d: %w", q.queueID, offset, err))
			return offset
		}
		b = b[n:]
		if m.QueueOffset != offset || m.QueueID != q.queueID {
			c.m.fail(fmt.Errorf("%w: queue %d wants offset %d, got queue %d offset %d", errGap, q.queueID, offset, m.QueueID, m.QueueOffset))
		}
		offset = m.QueueOffset + 1
		now := time.Now()
		if c.opts.stamped {
			if len(m.Body) < stampBytes || !bytes.Equal(m.Body[:8], stampMarker[:]) {
				c.m.fail(fmt.Errorf("queue %d offset %d: body without the send stamp", q.queueID, m.QueueOffset))
				continue
			}
			rec.record(now.Sub(time.Unix(0, int64(binary.BigEndian.Uint64(m.Body[8:])))).Microseconds())
		} else {
			rec.record(now.UnixMilli()*1000 - m.StoreTimestamp*1000)
		}
		c.m.msgs.Add(1)
		c.m.bytes.Add(int64(len(m.Body)))
	}
	return offset
}
