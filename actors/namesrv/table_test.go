package namesrv

import (
	"reflect"
	"testing"
	"time"

	"github.com/actormq/actormq/wire/body"
)

type fakeConn struct {
	id     uint64
	closed bool
}

func (c *fakeConn) ID() uint64   { return c.id }
func (c *fakeConn) Close() error { c.closed = true; return nil }

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func topicTable(names ...string) map[string]body.TopicConfig {
	m := make(map[string]body.TopicConfig, len(names))
	for _, n := range names {
		m[n] = body.TopicConfig{TopicName: n, ReadQueueNums: 4, WriteQueueNums: 4, Perm: 6}
	}
	return m
}

func reg(name, addr string, id int64, counter int64, topics map[string]body.TopicConfig) *registration {
	return &registration{
		cluster: "C", brokerName: name, brokerAddr: addr, haServerAddr: addr + "1", brokerID: id,
		timeout: 2 * time.Minute, dataVersion: body.DataVersion{Timestamp: 1, Counter: counter}, topics: topics,
	}
}

func routeNames(t *testing.T, tb *routeTable, topic string) []string {
	t.Helper()
	rd, ok := tb.route(topic)
	if !ok {
		return nil
	}
	var names []string
	for _, qd := range rd.QueueDatas {
		names = append(names, qd.BrokerName)
	}
	return names
}

func TestRegisterMasterAndSlave(t *testing.T) {
	tb := newRouteTable()
	res := tb.register(reg("b1", "10.0.0.1:10911", 0, 1, topicTable("T1", "T2")), t0, &fakeConn{id: 1})
	if res != (registerResult{}) {
		t.Fatalf("master got %+v", res)
	}
	// A slave's topics are ignored; it learns the master's addresses.
	res = tb.register(reg("b1", "10.0.0.2:10911", 1, 9, topicTable("ONLY_ON_SLAVE")), t0, &fakeConn{id: 2})
	want := registerResult{haServerAddr: "10.0.0.1:109111", masterAddr: "10.0.0.1:10911"}
	if res != want {
		t.Fatalf("slave got %+v, want %+v", res, want)
	}
	if _, ok := tb.route("ONLY_ON_SLAVE"); ok {
		t.Fatal("slave topic routed")
	}
	rd, ok := tb.route("T1")
	if !ok {
		t.Fatal("T1 not routed")
	}
	wantBD := []body.BrokerData{{Cluster: "C", BrokerName: "b1",
		BrokerAddrs: map[int64]string{0: "10.0.0.1:10911", 1: "10.0.0.2:10911"}}}
	if !reflect.DeepEqual(rd.BrokerDatas, wantBD) {
		t.Fatalf("brokerDatas = %+v", rd.BrokerDatas)
	}
	wantQD := []body.QueueData{{BrokerName: "b1", ReadQueueNums: 4, WriteQueueNums: 4, Perm: 6}}
	if !reflect.DeepEqual(rd.QueueDatas, wantQD) {
		t.Fatalf("queueDatas = %+v", rd.QueueDatas)
	}
}

func TestRegisterTopicsReappliedOnDataVersionChange(t *testing.T) {
	tb := newRouteTable()
	tb.register(reg("b1", "a1", 0, 1, topicTable("T1", "T2")), t0, nil)
	tb.register(reg("b2", "a2", 0, 1, topicTable("T2")), t0, nil)

	// Same dataVersion: the (different) table is not applied.
	tb.register(reg("b1", "a1", 0, 1, topicTable("T3")), t0, nil)
	if got := tb.allTopics(); !reflect.DeepEqual(got, []string{"T1", "T2"}) {
		t.Fatalf("same version applied: %v", got)
	}
	// New dataVersion: T1 loses b1 (and disappears), T2 keeps b2 only, T3 appears.
	tb.register(reg("b1", "a1", 0, 2, topicTable("T3")), t0, nil)
	if got := tb.allTopics(); !reflect.DeepEqual(got, []string{"T2", "T3"}) {
		t.Fatalf("topics = %v", got)
	}
	if got := routeNames(t, tb, "T2"); !reflect.DeepEqual(got, []string{"b2"}) {
		t.Fatalf("T2 brokers = %v", got)
	}
	// No topic table at all (empty body): queue data untouched.
	tb.register(reg("b1", "a1", 0, 3, nil), t0, nil)
	if got := routeNames(t, tb, "T3"); !reflect.DeepEqual(got, []string{"b1"}) {
		t.Fatalf("T3 brokers = %v", got)
	}
}

func TestPromotedSlaveIsRekeyed(t *testing.T) {
	tb := newRouteTable()
	tb.register(reg("b1", "a2", 1, 1, nil), t0, nil)
	tb.register(reg("b1", "a2", 0, 1, topicTable("T")), t0, nil)
	if got := tb.brokers["b1"].addrs; !reflect.DeepEqual(got, map[int64]string{0: "a2"}) {
		t.Fatalf("addrs = %v", got)
	}
	if _, ok := tb.route("T"); !ok {
		t.Fatal("promoted master's topics not applied")
	}
}

func TestRemovalPaths(t *testing.T) {
	tests := []struct {
		name   string
		remove func(t *testing.T, tb *routeTable, master, slave *fakeConn)
		// routed: T is still routed afterwards (the slave keeps b1 alive).
		routed bool
	}{
		{name: "unregister", routed: true, remove: func(_ *testing.T, tb *routeTable, _, _ *fakeConn) {
			tb.unregister("b1", "a1", 0)
		}},
		{name: "connection closed", routed: true, remove: func(t *testing.T, tb *routeTable, m, _ *fakeConn) {
			if gone := tb.connClosed(m.id); !reflect.DeepEqual(gone, []string{"a1"}) {
				t.Fatalf("gone = %v", gone)
			}
		}},
		{name: "client connection closed", routed: true, remove: func(_ *testing.T, tb *routeTable, _, _ *fakeConn) {
			tb.connClosed(99)
		}},
		{name: "master and slave gone", routed: false, remove: func(_ *testing.T, tb *routeTable, m, _ *fakeConn) {
			tb.connClosed(m.id)
			tb.unregister("b1", "a2", 1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newRouteTable()
			m, s := &fakeConn{id: 1}, &fakeConn{id: 2}
			tb.register(reg("b1", "a1", 0, 1, topicTable("T")), t0, m)
			tb.register(reg("b1", "a2", 1, 1, nil), t0, s)
			tt.remove(t, tb, m, s)
			if _, ok := tb.route("T"); ok != tt.routed {
				t.Fatalf("routed = %v, want %v", ok, tt.routed)
			}
			if !tt.routed {
				if len(tb.topics) != 0 || len(tb.brokers) != 0 || len(tb.clusters) != 0 || len(tb.live) != 0 {
					t.Fatalf("leftovers: %+v", tb)
				}
			}
		})
	}
}

func TestExpire(t *testing.T) {
	tb := newRouteTable()
	m := &fakeConn{id: 1}
	r := reg("b1", "a1", 0, 1, topicTable("T"))
	r.timeout = time.Second
	tb.register(r, t0, m)
	if gone := tb.expire(t0.Add(time.Second)); len(gone) != 0 {
		t.Fatalf("expired at the timeout: %v", gone)
	}
	// A QUERY_DATA_VERSION with the same version refreshes liveness.
	if changed, _ := tb.queryDataVersion("a1", r.dataVersion, t0.Add(time.Second)); changed {
		t.Fatal("same version reported changed")
	}
	if gone := tb.expire(t0.Add(2 * time.Second)); len(gone) != 0 {
		t.Fatal("refreshed broker expired")
	}
	gone := tb.expire(t0.Add(2*time.Second + time.Millisecond))
	if len(gone) != 1 || gone[0].conn != m {
		t.Fatalf("gone = %v", gone)
	}
	if _, ok := tb.route("T"); ok {
		t.Fatal("expired broker still routed")
	}
}

func TestTopicOperations(t *testing.T) {
	tb := newRouteTable()
	tb.register(reg("b1", "a1", 0, 1, topicTable("T1", "T2")), t0, nil)
	r := reg("b2", "a2", 0, 1, topicTable("T2"))
	r.cluster = "D"
	tb.register(r, t0, nil)

	if got := tb.topicsByCluster("D"); !reflect.DeepEqual(got, []string{"T2"}) {
		t.Fatalf("topicsByCluster(D) = %v", got)
	}
	if got := tb.topicsByCluster("nope"); len(got) != 0 {
		t.Fatalf("unknown cluster = %v", got)
	}
	if n := tb.setWritePerm("b1", true); n != 2 {
		t.Fatalf("wiped %d", n)
	}
	if qd := tb.topics["T1"]["b1"]; qd.Perm != body.PermRead {
		t.Fatalf("perm after wipe = %d", qd.Perm)
	}
	if n := tb.setWritePerm("b1", false); n != 2 || tb.topics["T1"]["b1"].Perm != 6 {
		t.Fatalf("add perm: n=%d perm=%d", n, tb.topics["T1"]["b1"].Perm)
	}
	tb.deleteTopic("T2", "C")
	if got := routeNames(t, tb, "T2"); !reflect.DeepEqual(got, []string{"b2"}) {
		t.Fatalf("T2 after cluster delete = %v", got)
	}
	tb.deleteTopic("T2", "")
	if _, ok := tb.route("T2"); ok {
		t.Fatal("T2 still routed")
	}
	if n := tb.registerTopic("T9", []body.QueueData{{BrokerName: "b1", ReadQueueNums: 1, WriteQueueNums: 1, Perm: 6},
		{BrokerName: "unknown", ReadQueueNums: 1}}); n != 1 {
		t.Fatalf("registerTopic added %d", n)
	}
	if got := routeNames(t, tb, "T9"); !reflect.DeepEqual(got, []string{"b1"}) {
		t.Fatalf("T9 = %v", got)
	}
	ci := tb.clusterInfo()
	if !reflect.DeepEqual(ci.ClusterAddrTable, map[string][]string{"C": {"b1"}, "D": {"b2"}}) {
		t.Fatalf("clusterAddrTable = %v", ci.ClusterAddrTable)
	}
}
