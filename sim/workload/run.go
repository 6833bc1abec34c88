package workload

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/actormq/actormq/sim/history"
)

// Workload is a running workload. Its methods are for the driver's
// goroutine.
type Workload struct {
	cfg      Config
	hist     *history.Recorder
	groups   []*group
	sessions atomic.Int64

	stopProducers context.CancelFunc
	producers     sync.WaitGroup
	prober        *producer // the driver's own sends (ProbeSend), made on first use

	linksMu sync.Mutex
	links   []*link // every producer's and consumer's connection
}

// track registers l for DropConnections.
func (w *Workload) track(l *link) *link {
	w.linksMu.Lock()
	defer w.linksMu.Unlock()
	w.links = append(w.links, l)
	return l
}

// DropConnections closes every connection of the workload; requests in
// flight fail at once and the next ones dial anew. The driver calls it
// after a power cut: the cut machine's connections die, and answers it
// had sent into a partitioned proxy must never arrive.
func (w *Workload) DropConnections() {
	w.linksMu.Lock()
	links := append([]*link(nil), w.links...)
	w.linksMu.Unlock()
	for _, l := range links {
		l.mu.Lock()
		c := l.c
		l.mu.Unlock()
		if c != nil {
			l.redial(c)
		}
	}
}

// proberIndex numbers the prober among the producers (ids and names).
const proberIndex = 0xFF

// Start starts the consumer groups, then the producers.
func Start(cfg Config) (*Workload, error) {
	if cfg.History == nil || cfg.ProducerAddr == "" || cfg.ConsumerAddr == "" || cfg.Topic == "" || cfg.Queues < 1 {
		return nil, errors.New("workload: Config needs History, ProducerAddr, ConsumerAddr, Topic and Queues")
	}
	if cfg.KeyedProducers > 0 && cfg.Keys < 1 {
		return nil, errors.New("workload: keyed producers need Keys")
	}
	w := &Workload{cfg: cfg, hist: cfg.History}
	for _, gc := range cfg.Groups {
		if gc.Consumers < 1 {
			return nil, errors.New("workload: a group needs a consumer")
		}
		g := newGroup(w, gc)
		w.groups = append(w.groups, g)
		g.start()
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.stopProducers = cancel
	for i := range cfg.Producers + cfg.KeyedProducers {
		p := newProducer(w, i, i >= cfg.Producers)
		w.producers.Go(func() { p.run(ctx) })
	}
	return w, nil
}

func (w *Workload) rec(e history.Event) { w.hist.Record(e) }

func (w *Workload) nextSession() int64 { return w.sessions.Add(1) }

// StopProducers stops sending and waits for the answers in flight, so
// every send has its outcome in the history.
func (w *Workload) StopProducers() {
	w.stopProducers()
	w.producers.Wait()
}

// ProbeSend sends one message from the driver's own producer (recorded
// like any producer's, as actor "p255") and reports whether it was
// acknowledged.
func (w *Workload) ProbeSend() bool {
	if w.prober == nil {
		w.prober = newProducer(w, proberIndex, false)
	}
	return w.prober.sendOne() == history.Ack
}

// Rebalance moves every queue of group i to the next consumer.
func (w *Workload) Rebalance(i int) {
	w.groups[i%len(w.groups)].rebalance()
}

// CaughtUp reports whether every group consumes every queue at or past
// maxOffsets (queue → GET_MAX_OFFSET).
func (w *Workload) CaughtUp(maxOffsets map[int32]int64) bool {
	for _, g := range w.groups {
		if !g.caughtUp(maxOffsets) {
			return false
		}
	}
	return true
}

// Stop stops the producers and then every consumer (each commits its
// offset and lets go of its locks).
func (w *Workload) Stop() {
	w.StopProducers()
	if w.prober != nil {
		w.prober.link.close()
	}
	for _, g := range w.groups {
		g.stopAll()
	}
}
