package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

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

// consumer pulls every read queue of the topic, each queue on connection
// queueIndex % conns (pull.go).
type consumer struct {
	opts   consumerOpts
	cl     *cluster
	conns  []*pullConn
	m      *meter
	start  []int64 // per read queue: first offset pulled
	target []int64 // per read queue: max offset at start (drain)
	done   atomic.Int64

	ctx     context.Context    // of run
	drained context.CancelFunc // of run
	running sync.WaitGroup     // queues not stopped
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
		c.conns = append(c.conns, newPullConn(c))
	}
	return c, nil
}

func (c *consumer) close() {
	for _, pc := range c.conns {
		_ = pc.client.Close()
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
// target; then it cancels drained. The pulls run on the clients' reader
// goroutines (pullConn); run starts them, expires unanswered ones and
// returns once every queue stopped, after which nothing records.
func (c *consumer) run(ctx context.Context, drained context.CancelFunc) {
	c.ctx, c.drained = ctx, drained
	queues := make([]*queuePull, len(c.cl.read))
	for i, q := range c.cl.read {
		pc := c.conns[i%len(c.conns)]
		queues[i] = &queuePull{pc: pc, q: q, offset: c.start[i], first: c.start[i], target: c.target[i], rec: c.m.newRecorder()}
	}
	c.running.Add(len(queues))
	for _, qp := range queues {
		qp.pc.mu.Lock()
		qp.pc.issue(qp)
		qp.pc.mu.Unlock()
	}
	stopped := make(chan struct{})
	go func() {
		c.running.Wait()
		close(stopped)
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stopped:
			return
		case now := <-tick.C:
			for _, pc := range c.conns {
				pc.expire(now)
			}
		case <-ctx.Done():
			for _, pc := range c.conns {
				pc.stopAll(queues)
			}
			<-stopped
			return
		}
	}
}

var errGap = errors.New("queue offset out of order")

// records walks a pull body in place, records each message and returns
// the next offset to pull. All of an answer's messages are delivered at
// once, so one clock reading serves them all. Rejected: message.DecodeRecord,
// which copies each record's topic and properties the consumer never reads.
func (c *consumer) records(b []byte, q queueRef, offset int64, rec *recorder) int64 {
	now := time.Now()
	for len(b) > 0 {
		r, n, err := viewRecord(b)
		if err != nil {
			c.m.fail(fmt.Errorf("queue %d offset %d: %w", q.queueID, offset, err))
			return offset
		}
		b = b[n:]
		if r.queueOffset != offset || r.queueID != q.queueID {
			c.m.fail(fmt.Errorf("%w: queue %d wants offset %d, got queue %d offset %d", errGap, q.queueID, offset, r.queueID, r.queueOffset))
		}
		offset = r.queueOffset + 1
		if c.opts.stamped {
			if len(r.body) < stampBytes || !bytes.Equal(r.body[:8], stampMarker[:]) {
				c.m.fail(fmt.Errorf("queue %d offset %d: body without the send stamp", q.queueID, r.queueOffset))
				continue
			}
			rec.record(now.Sub(time.Unix(0, int64(binary.BigEndian.Uint64(r.body[8:])))).Microseconds())
		} else if !c.opts.repeat { // a re-read message's receipt − store time is its age, not a latency
			rec.record(now.UnixMilli()*1000 - r.storeTimestamp*1000)
		}
		c.m.msgs.Add(1)
		c.m.bytes.Add(int64(len(r.body)))
	}
	return offset
}

// recordView is what the consumer reads of a stored record, the body
// aliasing the pull answer.
type recordView struct {
	queueID        int32
	queueOffset    int64
	storeTimestamp int64
	body           []byte
}

// Record field offsets and host sizes (wire/message's layout comment).
const (
	recBornHost = 48
	recHostV4   = 8
	recHostV6   = 20
)

// viewRecord reads the record at the start of b and returns it with its
// size. It checks the magic, that TOTALSIZE fits b and that the body lies
// inside the record; unlike DecodeRecord it skips the topic and properties.
func viewRecord(b []byte) (recordView, int, error) {
	if len(b) < message.RecordBytesMin {
		return recordView{}, 0, fmt.Errorf("%w: %d bytes left", message.ErrTruncated, len(b))
	}
	be := binary.BigEndian
	size := int(int32(be.Uint32(b)))
	if magic := int32(be.Uint32(b[4:])); magic != message.MagicV1 && magic != message.MagicV2 {
		return recordView{}, 0, fmt.Errorf("%w: bad magic 0x%08X", message.ErrCorrupt, uint32(magic))
	}
	if size < message.RecordBytesMin || size > len(b) {
		return recordView{}, 0, fmt.Errorf("%w: total size %d, have %d bytes", message.ErrCorrupt, size, len(b))
	}
	rec := b[:size]
	queueID, queueOffset, sysFlag, _ := message.RecordQueue(rec)
	p := recBornHost + recHostV4
	if sysFlag&message.SysFlagBornHostV6 != 0 {
		p = recBornHost + recHostV6
	}
	r := recordView{queueID: queueID, queueOffset: queueOffset}
	if len(rec) < p+8 {
		return recordView{}, 0, fmt.Errorf("%w: total size %d too small for its hosts", message.ErrCorrupt, size)
	}
	r.storeTimestamp = int64(be.Uint64(rec[p:]))
	p += 8 + recHostV4
	if sysFlag&message.SysFlagStoreHostV6 != 0 {
		p += recHostV6 - recHostV4
	}
	p += 4 + 8 // RECONSUMETIMES, PREPARED TRANSACTION OFFSET
	if len(rec)-p < 4 {
		return recordView{}, 0, fmt.Errorf("%w: total size %d too small for its hosts", message.ErrCorrupt, size)
	}
	bodyLen := int(int32(be.Uint32(rec[p:])))
	p += 4
	if bodyLen < 0 || bodyLen > len(rec)-p {
		return recordView{}, 0, fmt.Errorf("%w: body length %d, %d bytes left", message.ErrCorrupt, bodyLen, len(rec)-p)
	}
	r.body = rec[p : p+bodyLen : p+bodyLen]
	return r, size, nil
}
