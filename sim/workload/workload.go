// Package workload is the traffic of a sim run, spoken over the project's
// own netio client and wire codecs as a RocketMQ client would speak it:
//
//   - producers send single messages synchronously (SEND_MESSAGE_V2, JSON
//     header), each with an id (UNIQ_KEY) derived from the seed and a body
//     derived from the id (Body), so the checker can tell every record
//     apart and spot a changed byte. A send that fails or times out is
//     recorded as maybe-sent and never retried with the same id: an
//     acknowledged id must then be in the CommitLog exactly once. Keyed
//     producers send each key's messages one after another to the key's
//     queue (orderly producers);
//   - consumer groups of 2+ consumers pull with long polling, one
//     goroutine per owned queue, heartbeating every second so the broker
//     knows them and their subscription. The queue allocation is ours
//     (queue q belongs to consumer (q+shift) mod n; Rebalance moves
//     shift), not the broker's consumer list, so a seed replays the same
//     hand-overs. Offsets are committed by UPDATE_CONSUMER_OFFSET and on
//     pulls (sysFlag COMMIT); a queue's session starts with
//     QUERY_CONSUMER_OFFSET;
//   - orderly groups take LOCK_BATCH_MQ for a queue before consuming it,
//     renew it while consuming, consume it in order and UNLOCK_BATCH_MQ on
//     hand-over; a queue changing hands is locked by the new owner while the
//     old one may still hold it, so the broker's lock decides.
//
// Everything sent, acknowledged, delivered, committed, read and locked goes
// into the run's history (sim/history).
package workload

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/sim/history"
	"github.com/actormq/actormq/wire/remoting"
)

// Timeouts of the workload's requests.
const (
	// sendTimeout is the Go client's fixed send timeout.
	sendTimeout = 3 * time.Second
	// controlTimeout bounds heartbeats, offset and lock requests.
	controlTimeout = 2 * time.Second
	// suspend is the long-poll hold asked for; pulls wait that long plus
	// pullSlack. Short, so hand-overs and stops do not wait long.
	suspend   = time.Second
	pullSlack = 3 * time.Second
	// retryPause is the wait after a failed request before the next try.
	retryPause = 100 * time.Millisecond
)

// GroupConfig is one consumer group.
type GroupConfig struct {
	Name      string
	Orderly   bool
	Consumers int // at least 2 for a hand-over to mean anything
}

// Config configures a workload.
type Config struct {
	// ProducerAddr and ConsumerAddr are the broker as producers and
	// consumers reach it (fault proxies in front of it, or the broker).
	ProducerAddr, ConsumerAddr string
	BrokerName                 string // locks name queues by it
	Topic                      string // created beforehand with Queues queues
	Queues                     int
	Seed                       uint64
	// Producers send to random queues; KeyedProducers send each of Keys
	// keys' messages in order to the key's queue.
	Producers, KeyedProducers, Keys int
	// Rate is the sends per second of each producer; 0 sends as fast as
	// answers come.
	Rate    float64
	Groups  []GroupConfig
	History *history.Recorder
}

// ID is the id of a producer's n-th message: 32 hex digits like a
// UNIQ_KEY, from the seed, the producer and n.
func ID(seed uint64, producer int, n int64) string {
	return fmt.Sprintf("%08X%04X%020X", uint32(seed^seed>>32), producer&0xFFFF, n)
}

// Body is the body of message id: the id, then 16 to 271 bytes that
// depend on it.
func Body(id string) []byte {
	h := fnv.New64a()
	h.Write([]byte(id))
	x := h.Sum64()
	b := make([]byte, 0, len(id)+16+int(x%256))
	b = append(b, id...)
	for len(b) < cap(b) {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b = append(b, 'a'+byte(x%26))
	}
	return b
}

// link is one client's connection to the broker. A request that times out
// drops the connection and the next request dials a new one: a half-open
// or black-holed connection would otherwise time every request out.
type link struct {
	addr string
	cfg  netio.ClientConfig
	mu   sync.Mutex
	c    *netio.Client
}

func newLink(addr string, cfg netio.ClientConfig) *link {
	return &link{addr: addr, cfg: cfg, c: netio.NewClient(cfg)}
}

// invoke sends cmd and waits at most timeout (or until ctx is done).
func (l *link) invoke(ctx context.Context, timeout time.Duration, cmd *remoting.Command) (*remoting.Command, error) {
	l.mu.Lock()
	c := l.c
	l.mu.Unlock()
	if c == nil {
		return nil, netio.ErrClosed
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := c.Invoke(ctx, l.addr, cmd)
	if errors.Is(err, netio.ErrTimeout) {
		l.redial(c)
	}
	return resp, err
}

// redial replaces c (if it is still the current client) with a new one.
func (l *link) redial(c *netio.Client) {
	l.mu.Lock()
	if l.c == c {
		l.c = netio.NewClient(l.cfg)
	} else {
		c = nil
	}
	l.mu.Unlock()
	if c != nil {
		_ = c.Close()
	}
}

func (l *link) close() {
	l.mu.Lock()
	c := l.c
	l.c = nil
	l.mu.Unlock()
	if c != nil {
		_ = c.Close()
	}
}

// pause waits d or until ctx is done; false when ctx is done.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
