package namesrv

import (
	"maps"
	"slices"

	"github.com/actormq/actormq/wire/body"
)

// route builds the TopicRouteData of topic: every brokerName with queue data
// for it, each with all of its addresses (master and slaves). Lists are
// sorted by brokerName so that answers are stable. ok is false when the
// topic has no queue data or none of its brokers is known.
func (t *routeTable) route(topic string) (rd *body.TopicRouteData, ok bool) {
	qds := t.topics[topic]
	if len(qds) == 0 {
		return nil, false
	}
	rd = &body.TopicRouteData{
		QueueDatas:  make([]body.QueueData, 0, len(qds)),
		BrokerDatas: make([]body.BrokerData, 0, len(qds)),
		// Clients expect the object even when empty.
		FilterServerTable: map[string][]string{},
	}
	for _, name := range slices.Sorted(maps.Keys(qds)) {
		rd.QueueDatas = append(rd.QueueDatas, qds[name])
		bd := t.brokers[name]
		if bd == nil {
			continue
		}
		rd.BrokerDatas = append(rd.BrokerDatas, bd.snapshot())
		for _, addr := range bd.addrs {
			if fs := t.filters[addr]; len(fs) > 0 {
				rd.FilterServerTable[addr] = slices.Clone(fs)
			}
		}
	}
	return rd, len(rd.BrokerDatas) > 0
}

// snapshot copies bd for a response; the map is never shared with the table.
func (bd *brokerData) snapshot() body.BrokerData {
	return body.BrokerData{Cluster: bd.cluster, BrokerName: bd.name, BrokerAddrs: maps.Clone(bd.addrs)}
}

// clusterInfo is the GET_BROKER_CLUSTER_INFO body.
func (t *routeTable) clusterInfo() body.ClusterInfo {
	ci := body.ClusterInfo{
		BrokerAddrTable:  make(map[string]body.BrokerData, len(t.brokers)),
		ClusterAddrTable: make(map[string][]string, len(t.clusters)),
	}
	for name, bd := range t.brokers {
		ci.BrokerAddrTable[name] = bd.snapshot()
	}
	for cluster, names := range t.clusters {
		ci.ClusterAddrTable[cluster] = slices.Sorted(maps.Keys(names))
	}
	return ci
}

// allTopics lists every routed topic, sorted.
func (t *routeTable) allTopics() []string {
	return slices.Sorted(maps.Keys(t.topics))
}

// topicsByCluster lists the topics with queue data on a brokerName of
// cluster, sorted; an unknown cluster has none.
func (t *routeTable) topicsByCluster(cluster string) []string {
	names := t.clusters[cluster]
	topics := []string{}
	for topic, qds := range t.topics {
		for name := range qds {
			if _, in := names[name]; in {
				topics = append(topics, topic)
				break
			}
		}
	}
	slices.Sort(topics)
	return topics
}

// deleteTopic removes topic's queue data: all of it, or with cluster set
// only that cluster's brokerNames' (the topic disappears once none is left).
func (t *routeTable) deleteTopic(topic, cluster string) {
	if cluster == "" {
		delete(t.topics, topic)
		return
	}
	qds := t.topics[topic]
	for name := range t.clusters[cluster] {
		delete(qds, name)
	}
	if len(qds) == 0 {
		delete(t.topics, topic)
	}
}

// registerTopic adds queue data for topic (REGISTER_TOPIC_IN_NAMESRV); queue
// data of brokerNames the table does not know is skipped. Returns how many
// were added.
func (t *routeTable) registerTopic(topic string, qds []body.QueueData) int {
	added := 0
	for _, qd := range qds {
		if t.brokers[qd.BrokerName] == nil {
			continue
		}
		m := t.topics[topic]
		if m == nil {
			m = make(map[string]body.QueueData)
			t.topics[topic] = m
		}
		m[qd.BrokerName] = qd
		added++
	}
	return added
}

// setWritePerm clears (wipe) or restores (READ|WRITE) the write permission
// of every queue data of brokerName and returns how many topics it touched.
func (t *routeTable) setWritePerm(brokerName string, wipe bool) int {
	count := 0
	for _, qds := range t.topics {
		qd, ok := qds[brokerName]
		if !ok {
			continue
		}
		if wipe {
			qd.Perm &^= body.PermWrite
		} else {
			qd.Perm = body.PermRead | body.PermWrite
		}
		qds[brokerName] = qd
		count++
	}
	return count
}
