package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// Send modes.
const (
	modeSync   = "sync"   // -w workers per connection, each waits for its answer
	modeAsync  = "async"  // one issuer per connection keeps -w requests in flight
	modeOneway = "oneway" // -w writers per connection, no answer awaited
)

// stampBytes is the body prefix e2e and mixed runs write: a marker and the
// send time in Unix nanoseconds, read back by the consumer.
const stampBytes = 16

var stampMarker = [8]byte{'m', 'q', 'b', 'e', 'n', 'c', 'h', '1'}

// producerOpts are the produce flags.
type producerOpts struct {
	size, conns, inflight, batch int
	mode, header, tags           string
	keys                         bool
	stamp                        bool // write the send time into each body (e2e, mixed)
}

func (o *producerOpts) check() error {
	switch {
	case o.mode != modeSync && o.mode != modeAsync && o.mode != modeOneway:
		return fmt.Errorf("--mode %q: want sync, async or oneway", o.mode)
	case o.header != "json" && o.header != "rocketmq":
		return fmt.Errorf("--header %q: want json or rocketmq", o.header)
	case o.size < 1 || o.conns < 1 || o.inflight < 1 || o.batch < 1:
		return fmt.Errorf("-s, -c, -w and --batch must be at least 1")
	case o.stamp && o.size < stampBytes:
		return fmt.Errorf("-s must be at least %d to carry the send time", stampBytes)
	}
	return nil
}

// producer sends to the cluster's write queues round robin, one
// netio.Client per connection (a Client keeps one connection per address).
type producer struct {
	opts    producerOpts
	cl      *cluster
	clients []*netio.Client
	m       *meter
	next    atomic.Uint64 // queue round robin and message sequence
	uniq    string        // UNIQ_KEY prefix: pid, like the Go client's
}

func newProducer(cl *cluster, o producerOpts) (*producer, error) {
	if len(cl.write) == 0 {
		return nil, fmt.Errorf("topic %s has no writable queue", cl.topic)
	}
	p := &producer{opts: o, cl: cl, m: &meter{}, uniq: fmt.Sprintf("7F000001%04X00000000", os.Getpid()&0xFFFF)}
	for range o.conns {
		p.clients = append(p.clients, netio.NewClient(netio.ClientConfig{}))
	}
	return p, nil
}

func (p *producer) close() {
	for _, c := range p.clients {
		_ = c.Close()
	}
}

// run sends until ctx is done. With tokens non-nil every request first
// takes a token (fixed-rate e2e), otherwise it sends as fast as answers
// allow.
func (p *producer) run(ctx context.Context, tokens <-chan struct{}) {
	var wg sync.WaitGroup
	for _, c := range p.clients {
		switch p.opts.mode {
		case modeAsync:
			wg.Go(func() { p.issue(ctx, c, tokens) })
		default:
			for range p.opts.inflight {
				wg.Go(func() { p.loop(ctx, c, tokens) })
			}
		}
	}
	wg.Wait()
	if p.opts.mode == modeOneway {
		p.fence()
	}
}

// fence ends a oneway run with one answered send per connection: once it
// is answered the broker has read every request written before it, so
// closing the connection cannot discard any (a close with unread answers
// resets the connection, and the broker drops what it had not read yet).
func (p *producer) fence() {
	rec := p.m.newRecorder()
	for _, c := range p.clients {
		p.send(c, rec, false)
	}
}

// take waits for a token when the run is paced; false when ctx is done.
func take(ctx context.Context, tokens <-chan struct{}) bool {
	if ctx.Err() != nil {
		return false
	}
	if tokens == nil {
		return true
	}
	select {
	case <-tokens:
		return true
	case <-ctx.Done():
		return false
	}
}

// loop is one sync or oneway worker.
func (p *producer) loop(ctx context.Context, c *netio.Client, tokens <-chan struct{}) {
	rec := p.m.newRecorder()
	for take(ctx, tokens) {
		p.send(c, rec, p.opts.mode == modeOneway)
	}
}

// issue keeps up to -w requests of connection c in flight, each answered
// on its own goroutine.
func (p *producer) issue(ctx context.Context, c *netio.Client, tokens <-chan struct{}) {
	rec := p.m.newRecorder()
	slots := make(chan struct{}, p.opts.inflight)
	var wg sync.WaitGroup
	for take(ctx, tokens) {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Go(func() {
			p.send(c, rec, false)
			<-slots
		})
	}
	wg.Wait()
}

// send builds and sends one request (oneway: without awaiting the answer)
// and records its outcome.
func (p *producer) send(c *netio.Client, rec *recorder, oneway bool) {
	seq := p.next.Add(1)
	q := p.cl.write[seq%uint64(len(p.cl.write))]
	cmd := p.request(q, seq)
	start := time.Now()
	if oneway {
		if err := c.InvokeOneway(q.broker, cmd); err != nil {
			p.m.fail(err)
			return
		}
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
		resp, err := c.Invoke(ctx, q.broker, cmd)
		cancel()
		if err != nil {
			p.m.fail(err)
			return
		}
		if resp.Code != remoting.RespSuccess {
			p.m.fail(fmt.Errorf("%w %d: %s", errCode, resp.Code, resp.Remark))
			return
		}
	}
	rec.record(time.Since(start).Microseconds())
	p.m.msgs.Add(int64(p.opts.batch))
	p.m.bytes.Add(int64(p.opts.batch * p.opts.size))
}

// sendTimeout is the Go client's fixed send timeout (client-quirks A3).
const sendTimeout = 3 * time.Second

// request builds SEND_MESSAGE_V2 (310) or, with --batch > 1,
// SEND_BATCH_MESSAGE (320), with the V2 short header keys
// (wire-protocol.md §6.1). Single messages carry a UNIQ_KEY as clients
// set it; batch items carry none, as the Go client sends them.
func (p *producer) request(q queueRef, seq uint64) *remoting.Command {
	now := time.Now()
	ext := map[string]string{
		"a": "mqbench_pg", "b": p.cl.topic, "c": "TBW102", "d": "4",
		"e": strconv.Itoa(int(q.queueID)), "f": "0", "g": strconv.FormatInt(now.UnixMilli(), 10),
		"h": "0", "j": "0", "k": "false", "l": "0",
	}
	code := remoting.ReqSendMessageV2
	var b []byte
	if p.opts.batch == 1 {
		ext["i"] = p.properties(seq, true)
		ext["m"] = "false"
		b = p.body(now)
	} else {
		code = remoting.ReqSendBatchMessage
		ext["i"] = ""
		ext["m"] = "true"
		items := make([]message.BatchItem, p.opts.batch)
		for i := range items {
			items[i] = message.BatchItem{Body: p.body(now), Properties: p.properties(seq*uint64(p.opts.batch)+uint64(i), false)}
		}
		b = message.EncodeBatch(items)
	}
	cmd := remoting.NewRequest(code, ext, b)
	if p.opts.header == "rocketmq" {
		cmd.SerializeType = remoting.SerializeRocketMQ
	}
	return cmd
}

func (p *producer) properties(seq uint64, uniq bool) string {
	props := make(map[string]string, 3)
	if uniq {
		props[message.PropertyUniqKey] = p.uniq + fmt.Sprintf("%012x", seq)
	}
	if p.opts.keys {
		props[message.PropertyKeys] = "k" + strconv.FormatUint(seq, 10)
	}
	if p.opts.tags != "" {
		props[message.PropertyTags] = p.opts.tags
	}
	return message.FormatProperties(props)
}

// body is a -s byte body; stamped runs start it with the marker and now.
func (p *producer) body(now time.Time) []byte {
	b := make([]byte, p.opts.size)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	if p.opts.stamp {
		copy(b, stampMarker[:])
		binary.BigEndian.PutUint64(b[8:], uint64(now.UnixNano()))
	}
	return b
}
