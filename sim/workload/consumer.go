package workload

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/sim/history"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
)

// heartbeatEvery is how often a consumer heartbeats (the Go client: 30 s;
// shorter here so a restarted broker learns the subscriptions at once).
const heartbeatEvery = time.Second

// group is one consumer group: its consumers and who owns which queue.
type group struct {
	w         *Workload
	cfg       GroupConfig
	consumers []*consumer

	mu       sync.Mutex // guards the fields below
	shift    int        // queue q belongs to consumers[(q+shift) % n]
	workers  map[int32]*queueWorker
	progress map[int32]int64 // next offset the queue's current worker consumes
}

// consumer is one member of a group: a client id, a connection, a
// heartbeat loop.
type consumer struct {
	g        *group
	name     string // "<group>/c<i>", the history's Actor
	clientID string
	link     *link
	stop     context.CancelFunc
	done     chan struct{}
}

func newGroup(w *Workload, cfg GroupConfig) *group {
	g := &group{w: w, cfg: cfg, workers: map[int32]*queueWorker{}, progress: map[int32]int64{}}
	for i := range cfg.Consumers {
		c := &consumer{
			g: g, name: cfg.Name + "/c" + strconv.Itoa(i),
			clientID: "127.0.0.1@sim-" + cfg.Name + "-" + strconv.Itoa(i),
			done:     make(chan struct{}),
		}
		// Broker-initiated requests (NOTIFY_CONSUMER_IDS_CHANGED) need no
		// answer: the allocation is ours.
		c.link = w.track(newLink(w.cfg.ConsumerAddr, netio.ClientConfig{OnRequest: func(string, *remoting.Command) *remoting.Command { return nil }}))
		g.consumers = append(g.consumers, c)
	}
	return g
}

// start begins the heartbeats and gives every queue to its owner.
func (g *group) start() {
	for _, c := range g.consumers {
		ctx, cancel := context.WithCancel(context.Background())
		c.stop = cancel
		go c.heartbeats(ctx)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for q := range int32(g.w.cfg.Queues) {
		g.workers[q] = g.startWorkerLocked(q, g.ownerLocked(q))
	}
}

func (g *group) ownerLocked(q int32) *consumer {
	return g.consumers[(int(q)+g.shift)%len(g.consumers)]
}

// rebalance moves every queue to the next consumer. A clustering queue's
// old worker stops (committing its offset) before the new one starts; an
// orderly queue's new worker starts first and waits for the lock the old
// one still holds until it lets go.
func (g *group) rebalance() {
	g.mu.Lock()
	g.shift++
	g.w.rec(history.Event{Kind: history.Rebalance, Actor: "sim", Group: g.cfg.Name, Detail: "shift " + strconv.Itoa(g.shift)})
	old := g.workers
	g.workers = map[int32]*queueWorker{}
	if g.cfg.Orderly {
		for q := range old {
			g.workers[q] = g.startWorkerLocked(q, g.ownerLocked(q))
		}
	}
	g.mu.Unlock()
	var wg sync.WaitGroup
	for _, qw := range old {
		wg.Go(qw.stop)
	}
	wg.Wait()
	if !g.cfg.Orderly {
		g.mu.Lock()
		for q := range old {
			g.workers[q] = g.startWorkerLocked(q, g.ownerLocked(q))
		}
		g.mu.Unlock()
	}
}

// stopAll stops every worker and heartbeat.
func (g *group) stopAll() {
	g.mu.Lock()
	old := g.workers
	g.workers = map[int32]*queueWorker{}
	g.mu.Unlock()
	var wg sync.WaitGroup
	for _, qw := range old {
		wg.Go(qw.stop)
	}
	wg.Wait()
	for _, c := range g.consumers {
		c.stop()
		<-c.done
		c.link.close()
	}
}

// setProgress records where worker qw stands, if it still owns its queue.
func (g *group) setProgress(qw *queueWorker, next int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.workers[qw.queue] == qw {
		g.progress[qw.queue] = next
	}
}

// caughtUp reports whether every queue's owner consumes at or past max.
func (g *group) caughtUp(maxOffsets map[int32]int64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for q, m := range maxOffsets {
		qw := g.workers[q]
		if qw == nil || !qw.active() || g.progress[q] < m {
			return false
		}
	}
	return true
}

// heartbeats sends HEART_BEAT every heartbeatEvery until ctx is done.
func (c *consumer) heartbeats(ctx context.Context) {
	defer close(c.done)
	for {
		c.heartbeat(ctx)
		if !pause(ctx, heartbeatEvery) {
			return
		}
	}
}

// heartbeat sends one HEART_BEAT with the group's subscription; false when
// it was not answered SUCCESS.
func (c *consumer) heartbeat(ctx context.Context) bool {
	hb := body.HeartbeatData{
		ClientID: c.clientID,
		ConsumerDataSet: []body.ConsumerData{{
			GroupName: c.g.cfg.Name, ConsumeType: "CONSUME_PASSIVELY", MessageModel: "CLUSTERING",
			ConsumeFromWhere: "CONSUME_FROM_FIRST_OFFSET",
			SubscriptionDataSet: []body.SubscriptionData{{
				Topic: c.g.w.cfg.Topic, SubString: body.SubAll, TagsSet: []string{}, CodeSet: []int32{},
				SubVersion: time.Now().UnixNano(), ExpressionType: "TAG",
			}},
		}},
		ProducerDataSet: []body.ProducerData{},
	}
	resp, err := c.link.invoke(ctx, controlTimeout, remoting.NewRequest(remoting.ReqHeartBeat, nil, body.EncodeJSON(hb)))
	return err == nil && resp.Code == remoting.RespSuccess
}
