package namesrv

import (
	"time"

	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/body"
)

// masterID is the brokerId of a replica set's master.
const masterID int64 = 0

// registration is one decoded REGISTER_BROKER request.
type registration struct {
	cluster       string
	brokerName    string
	brokerAddr    string
	haServerAddr  string
	brokerID      int64
	timeout       time.Duration // silence after which the broker expires
	dataVersion   body.DataVersion
	topics        map[string]body.TopicConfig // nil: the broker sent no topic table
	filterServers []string
}

// registerResult is what a registering slave learns about its master.
type registerResult struct {
	haServerAddr string // the master's HA address, when the master is alive
	masterAddr   string
}

// brokerData is one brokerName (replica set): its cluster and addresses by id.
type brokerData struct {
	cluster string
	name    string
	addrs   map[int64]string
}

// liveBroker is the liveness record of one broker address.
type liveBroker struct {
	addr         string
	lastUpdate   time.Time
	timeout      time.Duration
	dataVersion  body.DataVersion
	haServerAddr string
	conn         brokerConn // the connection it registered on
}

// brokerConn is the part of *netio.Conn the table needs; table tests use a fake.
type brokerConn interface {
	ID() uint64
	Close() error
}

var _ brokerConn = (*netio.Conn)(nil)

// routeTable is the NameServer's routing state. It is owned by the route
// actor: only that actor's Receive calls its methods, so it has no locks.
type routeTable struct {
	clusters map[string]map[string]struct{}       // cluster → brokerNames
	brokers  map[string]*brokerData               // brokerName → addresses
	topics   map[string]map[string]body.QueueData // topic → brokerName → queue data
	live     map[string]*liveBroker               // brokerAddr → liveness
	filters  map[string][]string                  // brokerAddr → filter servers
}

func newRouteTable() *routeTable {
	return &routeTable{
		clusters: make(map[string]map[string]struct{}),
		brokers:  make(map[string]*brokerData),
		topics:   make(map[string]map[string]body.QueueData),
		live:     make(map[string]*liveBroker),
		filters:  make(map[string][]string),
	}
}

// register applies one registration:
//
//  1. the brokerName joins its cluster, the address is filed under its id
//     (an address lives under one id only: a promoted slave is re-keyed);
//  2. for the master only, the topic table replaces this brokerName's queue
//     data when the broker is new or its dataVersion changed, and topics
//     missing from the table lose this brokerName's queue data;
//  3. the live record is refreshed with conn as the broker's connection;
//  4. a slave learns its master's address and HA address when the master is alive.
func (t *routeTable) register(r *registration, now time.Time, conn brokerConn) registerResult {
	names := t.clusters[r.cluster]
	if names == nil {
		names = make(map[string]struct{})
		t.clusters[r.cluster] = names
	}
	names[r.brokerName] = struct{}{}

	bd := t.brokers[r.brokerName]
	first := bd == nil
	if first {
		bd = &brokerData{cluster: r.cluster, name: r.brokerName, addrs: make(map[int64]string)}
		t.brokers[r.brokerName] = bd
	}
	for id, addr := range bd.addrs {
		if addr == r.brokerAddr && id != r.brokerID {
			delete(bd.addrs, id)
		}
	}
	if _, had := bd.addrs[r.brokerID]; !had {
		first = true
	}
	bd.addrs[r.brokerID] = r.brokerAddr

	if r.brokerID == masterID && r.topics != nil {
		prev := t.live[r.brokerAddr]
		if first || prev == nil || prev.dataVersion != r.dataVersion {
			t.applyTopics(r.brokerName, r.topics)
		}
	}

	t.live[r.brokerAddr] = &liveBroker{
		addr: r.brokerAddr, lastUpdate: now, timeout: r.timeout, dataVersion: r.dataVersion,
		haServerAddr: r.haServerAddr, conn: conn,
	}
	if len(r.filterServers) > 0 {
		t.filters[r.brokerAddr] = r.filterServers
	} else {
		delete(t.filters, r.brokerAddr)
	}

	var res registerResult
	if r.brokerID != masterID {
		if master, ok := bd.addrs[masterID]; ok {
			if ml := t.live[master]; ml != nil {
				res = registerResult{haServerAddr: ml.haServerAddr, masterAddr: master}
			}
		}
	}
	return res
}

// applyTopics makes topics the complete topic set of brokerName.
func (t *routeTable) applyTopics(brokerName string, topics map[string]body.TopicConfig) {
	for name, tc := range topics {
		qds := t.topics[name]
		if qds == nil {
			qds = make(map[string]body.QueueData)
			t.topics[name] = qds
		}
		qds[brokerName] = body.QueueData{
			BrokerName: brokerName, ReadQueueNums: tc.ReadQueueNums, WriteQueueNums: tc.WriteQueueNums,
			Perm: tc.Perm, TopicSysFlag: tc.TopicSysFlag,
		}
	}
	for name, qds := range t.topics {
		if _, kept := topics[name]; kept {
			continue
		}
		if _, has := qds[brokerName]; has {
			delete(qds, brokerName)
			if len(qds) == 0 {
				delete(t.topics, name)
			}
		}
	}
}

// unregister removes one broker as UNREGISTER_BROKER asks. The address
// table entry goes only if it still holds brokerAddr under brokerID.
func (t *routeTable) unregister(brokerName, brokerAddr string, brokerID int64) {
	delete(t.live, brokerAddr)
	delete(t.filters, brokerAddr)
	bd := t.brokers[brokerName]
	if bd == nil {
		return
	}
	if bd.addrs[brokerID] == brokerAddr {
		delete(bd.addrs, brokerID)
	}
	if len(bd.addrs) == 0 {
		t.removeBrokerName(bd)
	}
}

// removeAddr forgets a broker address everywhere (its connection closed or
// it went silent).
func (t *routeTable) removeAddr(addr string) {
	delete(t.live, addr)
	delete(t.filters, addr)
	for _, bd := range t.brokers {
		for id, a := range bd.addrs {
			if a == addr {
				delete(bd.addrs, id)
			}
		}
		if len(bd.addrs) == 0 {
			t.removeBrokerName(bd)
		}
	}
}

// removeBrokerName drops a replica set with no address left: from its
// cluster, and its queue data from every topic (topics left without queue
// data disappear).
func (t *routeTable) removeBrokerName(bd *brokerData) {
	delete(t.brokers, bd.name)
	if names := t.clusters[bd.cluster]; names != nil {
		delete(names, bd.name)
		if len(names) == 0 {
			delete(t.clusters, bd.cluster)
		}
	}
	for topic, qds := range t.topics {
		delete(qds, bd.name)
		if len(qds) == 0 {
			delete(t.topics, topic)
		}
	}
}

// connClosed removes every broker that registered on connection id.
// Client connections match no broker and change nothing.
func (t *routeTable) connClosed(id uint64) []string {
	var gone []string
	for addr, lb := range t.live {
		if lb.conn != nil && lb.conn.ID() == id {
			gone = append(gone, addr)
		}
	}
	for _, addr := range gone {
		t.removeAddr(addr)
	}
	return gone
}

// expire removes brokers silent for longer than their timeout and returns
// their live records, so the caller can close their connections.
func (t *routeTable) expire(now time.Time) []*liveBroker {
	var gone []*liveBroker
	for _, lb := range t.live {
		if now.Sub(lb.lastUpdate) > lb.timeout {
			gone = append(gone, lb)
		}
	}
	for _, lb := range gone {
		t.removeAddr(lb.addr)
	}
	return gone
}

// queryDataVersion reports whether dv differs from the version the broker
// last registered, refreshing its liveness when it does not (as Java does),
// and returns the stored version (nil for an unknown broker).
func (t *routeTable) queryDataVersion(addr string, dv body.DataVersion, now time.Time) (bool, *body.DataVersion) {
	lb := t.live[addr]
	if lb == nil {
		return true, nil
	}
	if lb.dataVersion != dv {
		return true, &lb.dataVersion
	}
	lb.lastUpdate = now
	return false, &lb.dataVersion
}
