package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
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

// queueRef is one queue of a topic on one master.
type queueRef struct {
	topic   string
	broker  string // master address
	queueID int32
}

// cluster is the control-plane view mqbench needs: the NameServer and the
// queues of the run's topics.
type cluster struct {
	c        *netio.Client
	namesrv  string
	topics   []string
	write    []queueRef // queues producers send to
	read     []queueRef // queues consumers pull from
	brokers  []string   // master addresses of the routes, each once
	queueNum int
	gcStart  brokerGC // the broker's GC figures when the run started (common.open)
	// cpuStart: the machine's CPU times when the run started, for the
	// steal figure (steal.go); zero without /proc/stat.
	cpuStart cpuTimes
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

// topicNames are the topics of a run: topic itself, or with count > 1
// topic-0 … topic-(count-1), which spread the load over count topics.
func topicNames(topic string, count int) []string {
	if count <= 1 {
		return []string{topic}
	}
	names := make([]string, count)
	for i := range names {
		names[i] = topic + "-" + strconv.Itoa(i)
	}
	return names
}

// openCluster resolves every topic through the NameServer, creating the
// ones without a route on every master with queueNum queues (UPDATE_AND_
// CREATE_TOPIC); existing topics keep the queues of their route.
func openCluster(namesrv string, topics []string, queueNum int) (*cluster, error) {
	cl := &cluster{c: netio.NewClient(netio.ClientConfig{}), namesrv: namesrv, topics: topics, queueNum: queueNum}
	routes, err := cl.resolve()
	if err != nil {
		cl.close()
		return nil, err
	}
	for _, t := range topics {
		cl.useRoute(t, routes[t])
	}
	if len(cl.write) == 0 && len(cl.read) == 0 {
		cl.close()
		return nil, fmt.Errorf("topic %s has no queues on a live master", cl.name())
	}
	return cl, nil
}

// resolve returns the route of every topic, creating the missing topics
// and waiting until the broker registered them.
func (cl *cluster) resolve() (map[string]*body.TopicRouteData, error) {
	routes := make(map[string]*body.TopicRouteData, len(cl.topics))
	var missing []string
	for _, t := range cl.topics {
		if r, err := cl.route(t); err == nil {
			routes[t] = r
		} else {
			missing = append(missing, t)
		}
	}
	if len(missing) == 0 {
		return routes, nil
	}
	masters, err := cl.masters()
	if err != nil {
		return nil, err
	}
	for _, t := range missing {
		if err := cl.createTopic(t, masters); err != nil {
			return nil, err
		}
	}
	// The broker re-registers its new topics with the NameServer
	// asynchronously.
	deadline := time.Now().Add(routeWait)
	for {
		left := missing[:0]
		for _, t := range missing {
			if r, err := cl.route(t); err == nil {
				routes[t] = r
			} else {
				left = append(left, t)
			}
		}
		if missing = left; len(missing) == 0 {
			return routes, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d topics (%s first) created but not routed after %s", len(missing), missing[0], routeWait)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// name describes the run's topics in messages.
func (cl *cluster) name() string {
	if len(cl.topics) == 1 {
		return cl.topics[0]
	}
	return fmt.Sprintf("%s … (%d topics)", cl.topics[0], len(cl.topics))
}

func (cl *cluster) close() { _ = cl.c.Close() }

func (cl *cluster) route(topic string) (*body.TopicRouteData, error) {
	resp, err := invoke(cl.c, cl.namesrv, remoting.ReqGetRouteInfoByTopic, map[string]string{"topic": topic}, nil)
	if err != nil {
		return nil, err
	}
	var r body.TopicRouteData
	if err := body.DecodeJSON(resp.Body, &r); err != nil {
		return nil, fmt.Errorf("route of %s: %w", topic, err)
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

func (cl *cluster) createTopic(topic string, masters []string) error {
	n := strconv.Itoa(cl.queueNum)
	ext := map[string]string{
		"topic": topic, "defaultTopic": body.DefaultTopic, "readQueueNums": n, "writeQueueNums": n,
		"perm": strconv.Itoa(int(body.PermRead | body.PermWrite)), "topicFilterType": "SINGLE_TAG",
		"topicSysFlag": "0", "order": "false",
	}
	for _, addr := range masters {
		if _, err := invoke(cl.c, addr, remoting.ReqUpdateAndCreateTopic, ext, nil); err != nil {
			return fmt.Errorf("create topic %s on %s: %w", topic, addr, err)
		}
	}
	return nil
}

// useRoute derives the queues as clients do (wire-protocol.md §8.1): only
// brokers with a master address, write queues where perm has WRITE, read
// queues where it has READ.
func (cl *cluster) useRoute(topic string, r *body.TopicRouteData) {
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
		if !slices.Contains(cl.brokers, addr) {
			cl.brokers = append(cl.brokers, addr)
		}
		if qd.Perm&body.PermWrite != 0 {
			for q := range qd.WriteQueueNums {
				cl.write = append(cl.write, queueRef{topic: topic, broker: addr, queueID: q})
			}
		}
		if qd.Perm&body.PermRead != 0 {
			for q := range qd.ReadQueueNums {
				cl.read = append(cl.read, queueRef{topic: topic, broker: addr, queueID: q})
			}
		}
	}
}

// queueOffset asks GET_MAX_OFFSET or GET_MIN_OFFSET of one queue.
func (cl *cluster) queueOffset(q queueRef, code int32) (int64, error) {
	ext := map[string]string{"topic": q.topic, "queueId": strconv.Itoa(int(q.queueID))}
	resp, err := invoke(cl.c, q.broker, code, ext, nil)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(resp.ExtFields["offset"], 10, 64)
}

// brokerFigures fills res with the broker's memory and GC figures: RSS
// from /proc when pid > 0, the Go heap now and the GC pauses and cycles
// since cl.gcStart from GET_BROKER_RUNTIME_INFO of the first master.
// Missing figures stay zero; errors are only reported on stderr, since
// the run itself succeeded.
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
	t, err := cl.runtimeInfo()
	if err != nil {
		fmt.Fprintf(os.Stderr, "mqbench: broker runtime info: %v\n", err)
		return
	}
	res.BrokerHeapBytes, _ = strconv.ParseInt(t["goHeapAlloc"], 10, 64)
	end, err := readBrokerGC(t)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mqbench: broker runtime info: %v\n", err)
		return
	}
	fillGC(res, cl.gcStart, end)
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
