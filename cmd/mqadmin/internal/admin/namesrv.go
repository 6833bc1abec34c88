package admin

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
)

// MasterID is the broker id of a master (wire-protocol.md §5).
const MasterID int64 = 0

// ErrNoCluster is wrapped when a cluster name is unknown to the NameServer.
var ErrNoCluster = errors.New("cluster not found")

// ClusterInfo asks GET_BROKER_CLUSTER_INFO (106).
func (a *Admin) ClusterInfo(ctx context.Context) (*body.ClusterInfo, error) {
	resp, err := a.namesrv(ctx, remoting.ReqGetBrokerClusterInfo, nil, nil)
	if err != nil {
		return nil, err
	}
	var ci body.ClusterInfo
	if err := body.DecodeJSON(resp.Body, &ci); err != nil {
		return nil, fmt.Errorf("cluster info: %w", err)
	}
	return &ci, nil
}

// TopicList asks GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206).
func (a *Admin) TopicList(ctx context.Context) ([]string, error) {
	resp, err := a.namesrv(ctx, remoting.ReqGetAllTopicListFromNameserver, nil, nil)
	if err != nil {
		return nil, err
	}
	var tl body.TopicList
	if err := body.DecodeJSON(resp.Body, &tl); err != nil {
		return nil, fmt.Errorf("topic list: %w", err)
	}
	return tl.TopicList, nil
}

// Route asks GET_ROUTEINFO_BY_TOPIC (105). Errors name the topic.
func (a *Admin) Route(ctx context.Context, topic string) (*body.TopicRouteData, error) {
	resp, err := a.namesrv(ctx, remoting.ReqGetRouteInfoByTopic, map[string]string{"topic": topic}, nil)
	if err != nil {
		return nil, fmt.Errorf("topic %s: %w", topic, err)
	}
	var r body.TopicRouteData
	if err := body.DecodeJSON(resp.Body, &r); err != nil {
		return nil, fmt.Errorf("topic %s: route: %w", topic, err)
	}
	return &r, nil
}

// DeleteTopicInNamesrv sends DELETE_TOPIC_IN_NAMESRV (216) to every
// NameServer, as Java's deleteTopic does; the first failure ends it.
func (a *Admin) DeleteTopicInNamesrv(ctx context.Context, topic, cluster string) error {
	ext := map[string]string{"topic": topic}
	if cluster != "" {
		ext["clusterName"] = cluster
	}
	for _, addr := range a.nameServers {
		if _, err := a.invokeOK(ctx, nameServer, addr, remoting.NewRequest(remoting.ReqDeleteTopicInNamesrv, ext, nil), 1); err != nil {
			return err
		}
	}
	return nil
}

// KVConfig asks GET_KV_CONFIG (101); found is false on QUERY_NOT_FOUND.
func (a *Admin) KVConfig(ctx context.Context, namespace, key string) (value string, found bool, err error) {
	resp, err := a.namesrv(ctx, remoting.ReqGetKVConfig, map[string]string{"namespace": namespace, "key": key}, nil)
	if IsCode(err, remoting.RespQueryNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	v, _ := resp.Ext("value")
	return v, true, nil
}

// PutKVConfig sends PUT_KV_CONFIG (100) to every NameServer (Java's
// putKVConfigValue does, so each keeps the same table).
func (a *Admin) PutKVConfig(ctx context.Context, namespace, key, value string) error {
	ext := map[string]string{"namespace": namespace, "key": key, "value": value}
	for _, addr := range a.nameServers {
		if _, err := a.invokeOK(ctx, nameServer, addr, remoting.NewRequest(remoting.ReqPutKVConfig, ext, nil), 1); err != nil {
			return err
		}
	}
	return nil
}

// MasterAddr returns the master address of a broker name, or "" when it has
// none (the admin tool only talks to masters, like Java's selectBrokerAddr
// when a master is alive).
func MasterAddr(bd body.BrokerData) string { return bd.BrokerAddrs[MasterID] }

// BrokerIDs returns a broker name's ids in ascending order.
func BrokerIDs(bd body.BrokerData) []int64 {
	ids := make([]int64, 0, len(bd.BrokerAddrs))
	for id := range bd.BrokerAddrs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// ClusterBrokers returns the sorted broker names of a cluster; an unknown
// cluster wraps ErrNoCluster.
func ClusterBrokers(ci *body.ClusterInfo, cluster string) ([]string, error) {
	names, ok := ci.ClusterAddrTable[cluster]
	if !ok {
		return nil, fmt.Errorf("%w: %s (make sure the cluster name exists and the name server is the right one)", ErrNoCluster, cluster)
	}
	out := append([]string(nil), names...)
	sort.Strings(out)
	return out, nil
}

// ClusterMasters returns the master addresses of a cluster in broker-name
// order.
func ClusterMasters(ci *body.ClusterInfo, cluster string) ([]string, error) {
	names, err := ClusterBrokers(ci, cluster)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, name := range names {
		if addr := MasterAddr(ci.BrokerAddrTable[name]); addr != "" {
			out = append(out, addr)
		}
	}
	return out, nil
}

// BrokerNameByAddr finds the broker name that owns addr.
func BrokerNameByAddr(ci *body.ClusterInfo, addr string) (string, bool) {
	for name, bd := range ci.BrokerAddrTable {
		for _, a := range bd.BrokerAddrs {
			if a == addr {
				return name, true
			}
		}
	}
	return "", false
}

// RouteMasters returns the master address of every broker in a route, in
// broker-name order, with the broker names.
func RouteMasters(r *body.TopicRouteData) (names, addrs []string) {
	bds := append([]body.BrokerData(nil), r.BrokerDatas...)
	sort.Slice(bds, func(i, j int) bool { return bds[i].BrokerName < bds[j].BrokerName })
	for _, bd := range bds {
		if addr := MasterAddr(bd); addr != "" {
			names = append(names, bd.BrokerName)
			addrs = append(addrs, addr)
		}
	}
	return names, addrs
}
