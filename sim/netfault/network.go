package netfault

import (
	"cmp"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
)

// Network is a set of proxies named by the endpoints they join: the link
// from endpoint "from" (say "producer-1", "broker-a") to endpoint "to"
// ("broker-a", "namesrv-1"). Partitions are between endpoints: every link
// between the two, in either direction. Its methods are safe from any
// goroutine.
type Network struct {
	seed    uint64
	onEvent func(Event)

	mu    sync.Mutex // guards links
	links map[[2]string]*Proxy
}

// NewNetwork returns an empty network; seed seeds every link's draws and
// onEvent (may be nil) gets every link's events.
func NewNetwork(seed uint64, onEvent func(Event)) *Network {
	return &Network{seed: seed, onEvent: onEvent, links: map[[2]string]*Proxy{}}
}

// Link starts the proxy named "from->to" in front of target with faults f.
// Its seed is derived from the network's seed and its name, so adding a
// link does not change the draws of the others. A link that exists is an
// error.
func (n *Network) Link(from, to, target string, f Faults) (*Proxy, error) {
	key := [2]string{from, to}
	name := from + "->" + to
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.links[key] != nil {
		return nil, fmt.Errorf("netfault: link %s exists", name)
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	p, err := Listen(Options{Name: name, Target: target, Seed: n.seed ^ h.Sum64(), Faults: f, OnEvent: n.onEvent})
	if err != nil {
		return nil, err
	}
	n.links[key] = p
	return p, nil
}

// Proxy returns the link from → to, nil if there is none.
func (n *Network) Proxy(from, to string) *Proxy {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.links[[2]string{from, to}]
}

// Partition cuts every link between endpoints a and b (both directions).
func (n *Network) Partition(a, b string) {
	for _, p := range n.between(func(k [2]string) bool { return k == [2]string{a, b} || k == [2]string{b, a} }) {
		p.Partition()
	}
}

// Isolate cuts every link from or to endpoint a.
func (n *Network) Isolate(a string) {
	for _, p := range n.between(func(k [2]string) bool { return k[0] == a || k[1] == a }) {
		p.Partition()
	}
}

// Heal ends the partition between a and b.
func (n *Network) Heal(a, b string) {
	for _, p := range n.between(func(k [2]string) bool { return k == [2]string{a, b} || k == [2]string{b, a} }) {
		p.Heal()
	}
}

// HealAll ends every partition.
func (n *Network) HealAll() {
	for _, p := range n.between(func([2]string) bool { return true }) {
		p.Heal()
	}
}

// SetAll sets faults f on every link.
func (n *Network) SetAll(f Faults) {
	for _, p := range n.between(func([2]string) bool { return true }) {
		p.Set(f)
	}
}

// Events returns every link's events, ordered by time.
func (n *Network) Events() []Event {
	var all []Event
	for _, p := range n.between(func([2]string) bool { return true }) {
		all = append(all, p.Events()...)
	}
	slices.SortStableFunc(all, func(a, b Event) int { return a.At.Compare(b.At) })
	return all
}

// Close closes every link.
func (n *Network) Close() error {
	var errs []error
	for _, p := range n.between(func([2]string) bool { return true }) {
		errs = append(errs, p.Close())
	}
	return errors.Join(errs...)
}

// between returns the links whose key matches, in name order.
func (n *Network) between(match func([2]string) bool) []*Proxy {
	n.mu.Lock()
	defer n.mu.Unlock()
	var keys [][2]string
	for k := range n.links {
		if match(k) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b [2]string) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
	})
	ps := make([]*Proxy, len(keys))
	for i, k := range keys {
		ps[i] = n.links[k]
	}
	return ps
}
