package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
)

// rpcTimeout bounds every control-plane request (routes, topic creation,
// offsets, runtime info).
const rpcTimeout = 5 * time.Second

// routeWait bounds the wait for a created topic to appear in the route.
const routeWait = 15 * time.Second

// queueRef is one queue of the topic on one master.
type queueRef struct {
	broker  string // master address
	queueID int32
}

// cluster is the control-plane view mqbench needs: the NameServer and the
// topic's queues.
type cluster struct {
	c        *netio.Client
	namesrv  string
	topic    string
	write    []queueRef // queues producers send to
	read     []queueRef // queues consumers pull from
	brokers  []string   // master addresses of the route
	queueNum int
}

var errCode = errors.New("response code")

// invoke sends one control request and requires SUCCESS.
func invoke(c *netio.Client, addr string, code int32, ext map[string]string, b []byte) (*remoting.Command, error) {
	ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
	defer cancel()
	resp, err := c.Invoke(ctx, addr, remoting.NewRequest(code, ext, b))
	if err != nil {
		return nil, err
	}
	if resp.Code != remoting.RespSuccess {
		return resp, fmt.Errorf("%w %d to request %d: %s", errCode, resp.Code, code, resp.Remark)
	}
	return resp, nil
}

// openCluster resolves topic through the NameServer, creating it on every
// master with queueNum queues when no route exists.
func openCluster(namesrv, topic string, queueNum int) (*cluster, error) {
	cl := &cluster{c: netio.NewClient(netio.ClientConfig{}), namesrv: namesrv, topic: topic, queueNum: queueNum}
	r, err := cl.route()
	if err != nil {
		var masters []string
		if masters, err = cl.masters(); err != nil {
			cl.close()
			return nil, err
		}
		if err = cl.createTopic(masters); err != nil {
			cl.close()
			return nil, err
		}
		deadline := time.Now().Add(routeWait)
		for r, err = cl.route(); err != nil && time.Now().Before(deadline); r, err = cl.route() {
			time.Sleep(100 * time.Millisecond) // the broker re-registers the new topic asynchronously
		}
		if err != nil {
			cl.close()
			return nil, fmt.Errorf("topic %s created but not routed after %s: %w", topic, routeWait, err)
		}
	}
	cl.useRoute(r)
	if len(cl.write) == 0 && len(cl.read) == 0 {
		cl.close()
		return nil, fmt.Errorf("topic %s has no queues on a live master", topic)
	}
	return cl, nil
}

func (cl *cluster) close() { _ = cl.c.Close() }

func (cl *cluster) route() (*body.TopicRouteData, error) {
	resp, err := invoke(cl.c, cl.namesrv, remoting.ReqGetRouteInfoByTopic, map[string]string{"topic": cl.topic}, nil)
	if err != nil {
		return nil, err
	}
	var r body.TopicRouteData
	if err := body.DecodeJSON(resp.Body, &r); err != nil {
		return nil, fmt.Errorf("route of %s: %w", cl.topic, err)
	}
	return &r, nil
}

// masters lists the master addresses of every broker the NameServer knows.
func (cl *cluster) masters() ([]string, error) {
	resp, err := invoke(cl.c, cl.namesrv, remoting.ReqGetBrokerClusterInfo, nil, nil)
	if err != nil {
		return nil, err
	}
	var ci body.ClusterInfo
	if err := body.DecodeJSON(resp.Body, &ci); err != nil {
		return nil, fmt.Errorf("cluster info: %w", err)
	}
	var out []string
	for _, bd := range ci.BrokerAddrTable {
		if addr, ok := bd.BrokerAddrs[0]; ok {
			out = append(out, addr)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no master registered at %s", cl.namesrv)
	}
	return out, nil
}

func (cl *cluster) createTopic(masters []string) error {
	n := strconv.Itoa(cl.queueNum)
	ext := map[string]string{
		"topic": cl.topic, "defaultTopic": body.DefaultTopic, "readQueueNums": n, "writeQueueNums": n,
		"perm": strconv.Itoa(int(body.PermRead | body.PermWrite)), "topicFilterType": "SINGLE_TAG",
		"topicSysFlag": "0", "order": "false",
	}
	for _, addr := range masters {
		if _, err := invoke(cl.c, addr, remoting.ReqUpdateAndCreateTopic, ext, nil); err != nil {
			return fmt.Errorf("create topic %s on %s: %w", cl.topic, addr, err)
		}
	}
	return nil
}

// useRoute derives the queues as clients do (wire-protocol.md §8.1): only
// brokers with a master address, write queues where perm has WRITE, read
// queues where it has READ.
func (cl *cluster) useRoute(r *body.TopicRouteData) {
	addrs := make(map[string]string)
	for _, bd := range r.BrokerDatas {
		if a, ok := bd.BrokerAddrs[0]; ok {
			addrs[bd.BrokerName] = a
		}
	}
	for _, qd := range r.QueueDatas {
		addr, ok := addrs[qd.BrokerName]
		if !ok {
			continue
		}
		cl.brokers = append(cl.brokers, addr)
		if qd.Perm&body.PermWrite != 0 {
			for q := range qd.WriteQueueNums {
				cl.write = append(cl.write, queueRef{broker: addr, queueID: q})
			}
		}
		if qd.Perm&body.PermRead != 0 {
			for q := range qd.ReadQueueNums {
				cl.read = append(cl.read, queueRef{broker: addr, queueID: q})
			}
		}
	}
}

// queueOffset asks GET_MAX_OFFSET or GET_MIN_OFFSET of one queue.
func (cl *cluster) queueOffset(q queueRef, code int32) (int64, error) {
	ext := map[string]string{"topic": cl.topic, "queueId": strconv.Itoa(int(q.queueID))}
	resp, err := invoke(cl.c, q.broker, code, ext, nil)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(resp.ExtFields["offset"], 10, 64)
}

// brokerFigures fills res with the broker's memory and GC figures: RSS
// from /proc when pid > 0, the Go runtime keys of GET_BROKER_RUNTIME_INFO
// from the first master. Missing figures stay zero; errors are only
// reported on stderr, since the run itself succeeded.
func (cl *cluster) brokerFigures(pid int, res *result) {
	if pid > 0 {
		rss, hwm, err := procMemory(pid)
		if err != nil {
			fmt.Fprintf(os.Stderr, "mqbench: broker memory: %v\n", err)
		} else {
			res.BrokerRSSBytes, res.BrokerRSSPeakBytes = rss, hwm
		}
	}
	if len(cl.brokers) == 0 {
		return
	}
	resp, err := invoke(cl.c, cl.brokers[0], remoting.ReqGetBrokerRuntimeInfo, nil, nil)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mqbench: broker runtime info: %v\n", err)
		return
	}
	var kv body.KVTable
	if err := body.DecodeJSON(resp.Body, &kv); err != nil {
		fmt.Fprintf(os.Stderr, "mqbench: broker runtime info: %v\n", err)
		return
	}
	res.BrokerHeapBytes, _ = strconv.ParseInt(kv.Table["goHeapAlloc"], 10, 64)
	res.BrokerGCPauseP99Us, _ = strconv.ParseInt(kv.Table["goGCPauseP99Us"], 10, 64)
	res.BrokerGCCount, _ = strconv.ParseInt(kv.Table["goGCCount"], 10, 64)
}

// procMemory reads VmRSS and VmHWM (bytes) from /proc/pid/status.
func procMemory(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/status %s: %w", pid, k, err)
		}
		if k == "VmRSS" {
			rss = kb * 1024
		} else {
			hwm = kb * 1024
		}
	}
	if rss == 0 {
		return 0, 0, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
	}
	return rss, hwm, nil
}
