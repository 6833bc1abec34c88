package admin

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/admin/gchist"
	"github.com/actormq/actormq/actors/queue"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/internal/testkit/netkit"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
)

func qk(topic string, q int32) store.QueueKey { return store.QueueKey{Topic: topic, QueueID: q} }

func TestConsumeStatsTopicStatsAndConsumeByWho(t *testing.T) {
	f := newFixture(t, nil, func(f *fixture) {
		f.meta.topics["T"] = body.TopicConfig{TopicName: "T", ReadQueueNums: 2, WriteQueueNums: 2, Perm: 6}
		f.meta.topics["Other"] = body.TopicConfig{TopicName: "Other", ReadQueueNums: 1, WriteQueueNums: 1, Perm: 6}
		f.queues.min[qk("T", 0)], f.queues.max[qk("T", 0)], f.queues.max[qk("T", 1)] = 1, 5, 2
		f.queues.times[qk("T", 0)] = []int64{100, 200, 300, 400, 500}
		f.queues.times[qk("T", 1)] = []int64{600, 700}
		f.offsets.offs[offKey{"G", "T", 0}] = 3
		f.offsets.offs[offKey{"G", "Other", 0}] = 1
		f.offsets.offs[offKey{"G2", "T", 1}] = 2
		f.clients.subscribed["G"] = []string{"T"}
		f.clients.groupsOf["T"] = []string{"G3", "G"}
	})

	// Offsets on T and Other, but the live consumers subscribe only T.
	resp := f.invoke(remoting.ReqGetConsumeStats, map[string]string{"consumerGroup": "G"}, nil)
	want := `{"consumeTps":0.0,"offsetTable":{` +
		`{"brokerName":"broker-a","queueId":0,"topic":"T"}:{"brokerOffset":5,"consumerOffset":3,"lastTimestamp":300,"pullOffset":3},` +
		`{"brokerName":"broker-a","queueId":1,"topic":"T"}:{"brokerOffset":2,"consumerOffset":0,"lastTimestamp":0,"pullOffset":0}}}`
	if resp.Code != 0 || string(resp.Body) != want {
		t.Fatalf("GET_CONSUME_STATS %d %s\n got %s\nwant %s", resp.Code, resp.Remark, resp.Body, want)
	}
	// topicList ignores the subscription filter; unknown topics are skipped.
	resp = f.invoke(remoting.ReqGetConsumeStats, map[string]string{"consumerGroup": "G", "topicList": "Other;Nope"}, nil)
	if resp.Code != 0 || !strings.Contains(string(resp.Body), `"topic":"Other"}:{"brokerOffset":0,"consumerOffset":1,`) ||
		strings.Contains(string(resp.Body), `"topic":"T"`) {
		t.Fatalf("GET_CONSUME_STATS topicList: %s", resp.Body)
	}
	expect(t, f.invoke(remoting.ReqGetConsumeStats, nil, nil), 1, "consumerGroup")

	resp = f.invoke(remoting.ReqGetTopicStatsInfo, map[string]string{"topic": "T"}, nil)
	want = `{"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"T"}:{"lastUpdateTimestamp":500,"maxOffset":5,"minOffset":1},` +
		`{"brokerName":"broker-a","queueId":1,"topic":"T"}:{"lastUpdateTimestamp":700,"maxOffset":2,"minOffset":0}}}`
	if resp.Code != 0 || string(resp.Body) != want {
		t.Fatalf("GET_TOPIC_STATS_INFO\n got %s\nwant %s", resp.Body, want)
	}
	expect(t, f.invoke(remoting.ReqGetTopicStatsInfo, map[string]string{"topic": "Nope"}, nil), 17, "not exist")

	resp = f.invoke(remoting.ReqQueryTopicConsumeByWho, map[string]string{"topic": "T"}, nil)
	if resp.Code != 0 || string(resp.Body) != `{"groupList":["G","G2","G3"]}` {
		t.Fatalf("QUERY_TOPIC_CONSUME_BY_WHO %s", resp.Body)
	}
	if resp = f.invoke(remoting.ReqQueryTopicConsumeByWho, map[string]string{"topic": "Nope"}, nil); string(resp.Body) != `{"groupList":[]}` {
		t.Fatalf("QUERY_TOPIC_CONSUME_BY_WHO of an unknown topic: %s", resp.Body)
	}
}

func TestRuntimeInfo(t *testing.T) {
	f := newFixture(t, nil, func(f *fixture) { f.counts.puts, f.counts.gets = 5, 3 })
	runtime.GC() // at least one pause in goGCPauses
	resp := f.invoke(remoting.ReqGetBrokerRuntimeInfo, nil, nil)
	var kv body.KVTable
	if err := json.Unmarshal(resp.Body, &kv); err != nil || resp.Code != 0 {
		t.Fatalf("%d %s: %v", resp.Code, resp.Body, err)
	}
	tb := kv.Table
	for k, v := range map[string]string{
		"brokerVersionDesc": "V4_9_4", "brokerVersion": "401", "brokerActive": "true", "msgPutTotalTodayNow": "5",
		"msgGetTotalTodayNow": "3", "msgPutTotalTodayMorning": "0", "msgGetTotalYesterdayMorning": "0",
		"sendThreadPoolQueueSize": "2", "sendThreadPoolQueueCapacity": "20000", "commitLogMinOffset": "0",
		"commitLogMaxOffset": "0", "earliestMessageTimeStamp": "-1", "dispatchBehindBytes": "0", "remainHowManyDataToFlush": "0 B",
	} {
		if tb[k] != v {
			t.Errorf("%s = %q, want %q", k, tb[k], v)
		}
	}
	if f := strings.Fields(tb["putTps"]); len(f) != 3 || tb["getTransferredTps"] != tb["getTransferedTps"] {
		t.Errorf("putTps %q getTransferredTps %q getTransferedTps %q", tb["putTps"], tb["getTransferredTps"], tb["getTransferedTps"])
	}
	if !strings.HasPrefix(tb["commitLogDirCapacity"], "Total : ") || tb["commitLogDiskRatio"] == "" ||
		!strings.HasPrefix(tb["runtime"], "[ 0 days, 0 hours, ") {
		t.Errorf("disk and runtime keys: %v", tb)
	}
	for _, k := range []string{"goHeapAlloc", "goGCPauseP99Us", "goGCCount"} {
		if n, err := strconv.ParseInt(tb[k], 10, 64); err != nil || n < 0 || (k == "goHeapAlloc" && n == 0) {
			t.Errorf("%s = %q", k, tb[k])
		}
	}
	if h, err := gchist.Parse(tb["goGCPauses"]); err != nil || h.Total() == 0 {
		t.Errorf("goGCPauses = %q: %v", tb["goGCPauses"], err)
	}
}

func TestBrokerConfigUpdate(t *testing.T) {
	f := newFixture(t, nil, nil)
	get := func() (string, string) {
		resp := f.invoke(remoting.ReqGetBrokerConfig, nil, nil)
		return string(resp.Body), resp.ExtFields["version"]
	}
	text, version := get()
	if !strings.Contains(text, "\nstoreReplyMessageEnable=true\n") || !strings.Contains(text, "\nbrokerName=broker-a\n") ||
		!strings.Contains(version, `"counter":0`) {
		t.Fatalf("GET_BROKER_CONFIG (version %s):\n%s", version, text)
	}
	for _, c := range []struct {
		body   string
		code   int32
		remark string
	}{
		{"rocketmqHome=/x", 16, "black list"},
		{"brokerConfigPath=/x", 16, "black list"},
		{"nope=1", 29, "unknown key"},
		{"notifyConsumerIdsChangedEnable=yes", 29, "notifyConsumerIdsChangedEnable"},
		{"storeReplyMessageEnable=false\ndeleteWhen=05", 16, "deleteWhen cannot change while the broker runs"},
	} {
		expect(t, f.invoke(remoting.ReqUpdateBrokerConfig, nil, []byte(c.body)), c.code, c.remark)
	}
	path := filepath.Join(f.dir, "config", "broker.properties")
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a refused update wrote %s: %v", path, err)
	}

	// A persist failure changes nothing.
	f.fs.armed.Store(true)
	expect(t, f.invoke(remoting.ReqUpdateBrokerConfig, nil, []byte("storeReplyMessageEnable=false")), 1, "persist")
	f.fs.armed.Store(false)
	if !f.a.StoreReplyEnabled() {
		t.Fatal("an update that was not persisted was applied")
	}

	expect(t, f.invoke(remoting.ReqUpdateBrokerConfig, nil, []byte("storeReplyMessageEnable=false\nnotifyConsumerIdsChangedEnable=false\n")), 0, "")
	if f.a.StoreReplyEnabled() || f.a.Config().NotifyConsumerIDsChanged {
		t.Fatal("update not applied")
	}
	if applied := f.clients.appliedConfigs(); len(applied) != 1 || applied[0].NotifyConsumerIDsChanged {
		t.Fatalf("client manager got %+v", applied)
	}
	text, version = get()
	if !strings.Contains(text, "\nstoreReplyMessageEnable=false\n") || !strings.Contains(text, "\nnotifyConsumerIdsChangedEnable=false\n") ||
		!strings.Contains(version, `"counter":1`) {
		t.Fatalf("after the update (version %s):\n%s", version, text)
	}
	// Without -c the updated keys go to <storePathRootDir>/config/broker.properties.
	readFile(t, path, "storeReplyMessageEnable=false\nnotifyConsumerIdsChangedEnable=false\n")
	expect(t, f.invoke(remoting.ReqUpdateBrokerConfig, nil, []byte("notifyConsumerIdsChangedEnable=TRUE")), 0, "")
	readFile(t, path, "storeReplyMessageEnable=false\nnotifyConsumerIdsChangedEnable=true\n")
	readFile(t, path+".bak", "storeReplyMessageEnable=false\nnotifyConsumerIdsChangedEnable=false\n")
	expect(t, f.invoke(remoting.ReqUpdateBrokerConfig, nil, nil), 0, "")
}

// TestBrokerConfigPersistedToTheConfigFile: an update changes only its
// keys' lines of the -c file; the operator's comments, unknown keys and
// other values stay, and the previous version is the .bak.
func TestBrokerConfigPersistedToTheConfigFile(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "broker.conf")
	original := "# operator's notes\nbrokerName=broker-a\nstoreReplyMessageEnable = true\nsendMessageThreadPoolNums=4\n"
	if err := os.WriteFile(conf, []byte(original), 0o644); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(c *Config) { c.Broker.ConfigPath = conf }, nil)
	expect(t, f.invoke(remoting.ReqUpdateBrokerConfig, nil, []byte("storeReplyMessageEnable=false\nnotifyConsumerIdsChangedEnable=false")), 0, "")
	readFile(t, conf, "# operator's notes\nbrokerName=broker-a\nstoreReplyMessageEnable=false\nsendMessageThreadPoolNums=4\n"+
		"notifyConsumerIdsChangedEnable=false\n")
	readFile(t, conf+".bak", original)

	// A crash between Save's renames leaves only the .bak: the next update
	// starts from it.
	if err := os.Rename(conf+".bak", conf+".tmp"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(conf, conf+".bak"); err != nil {
		t.Fatal(err)
	}
	expect(t, f.invoke(remoting.ReqUpdateBrokerConfig, nil, []byte("storeReplyMessageEnable=true")), 0, "")
	readFile(t, conf, "# operator's notes\nbrokerName=broker-a\nstoreReplyMessageEnable=true\nsendMessageThreadPoolNums=4\n"+
		"notifyConsumerIdsChangedEnable=false\n")
}

func readFile(t *testing.T, path, want string) {
	t.Helper()
	if b, err := os.ReadFile(path); err != nil || string(b) != want {
		t.Fatalf("%s: %v\n got %q\nwant %q", path, err, b, want)
	}
}

func TestDeleteTopicAndGroup(t *testing.T) {
	f := newFixture(t, nil, nil)
	expect(t, f.invoke(remoting.ReqDeleteTopicInBroker, map[string]string{"topic": "T"}, nil), 0, "")
	if got := f.calls.String(); got != "meta.DeleteTopic(T) offsets.CleanTopic(T) writer.ForgetTopic(T) queues.DeleteTopic(T)" {
		t.Fatalf("calls %s", got)
	}
	f.calls.reset()
	f.meta.failDeletes(errSystemTopic)
	expect(t, f.invoke(remoting.ReqDeleteTopicInBroker, map[string]string{"topic": "SCHEDULE_TOPIC_XXXX"}, nil), 29, "system topic")
	if got := f.calls.String(); got != "meta.DeleteTopic(SCHEDULE_TOPIC_XXXX)" {
		t.Fatalf("a refused deletion went on: %s", got)
	}
	expect(t, f.invoke(remoting.ReqDeleteTopicInBroker, nil, nil), 1, "topic")

	f.calls.reset()
	expect(t, f.invoke(remoting.ReqDeleteSubscriptionGroup, map[string]string{"groupName": "G"}, nil), 0, "")
	expect(t, f.invoke(remoting.ReqDeleteSubscriptionGroup, map[string]string{"groupName": "H", "cleanOffset": "true"}, nil), 0, "")
	expect(t, f.invoke(remoting.ReqDeleteSubscriptionGroup, map[string]string{"groupName": "I", "removeOffset": "true"}, nil), 0, "")
	expect(t, f.invoke(remoting.ReqDeleteSubscriptionGroup, map[string]string{"groupName": "J", "removeOffset": "false", "cleanOffset": "false"}, nil), 0, "")
	if got := f.calls.String(); got != "meta.DeleteGroup(G) meta.DeleteGroup(H) offsets.CleanGroup(H) meta.DeleteGroup(I) offsets.CleanGroup(I) meta.DeleteGroup(J)" {
		t.Fatalf("calls %s", got)
	}
}

func TestResetOffset(t *testing.T) {
	f := newFixture(t, nil, func(f *fixture) {
		f.meta.topics["T"] = body.TopicConfig{TopicName: "T", ReadQueueNums: 2, WriteQueueNums: 2, Perm: 6}
		f.queues.max[qk("T", 0)], f.queues.max[qk("T", 1)] = 4, 2
		f.queues.times[qk("T", 0)] = []int64{100, 200, 300, 400}
		f.queues.times[qk("T", 1)] = []int64{150, 250}
		f.offsets.offs[offKey{"G", "T", 0}] = 4
		f.offsets.offs[offKey{"G", "T", 1}] = 1
	})

	reset := func(ext map[string]string) *remoting.Command {
		return f.invoke(remoting.ReqInvokeBrokerToResetOffset, ext, nil)
	}
	expect(t, reset(map[string]string{"group": "G", "topic": "Nope", "timestamp": "1", "isForce": "true"}), 17, "no topic")
	expect(t, reset(map[string]string{"group": "G", "topic": "T", "timestamp": "200", "isForce": "true"}), 206, "Consumer not online")
	expect(t, reset(map[string]string{"group": "Unknown", "topic": "T", "timestamp": "200", "isForce": "true"}), 1, "not exist")
	if got := f.calls.String(); got != "" {
		t.Fatalf("a refused reset changed offsets: %s", got)
	}

	pushes := f.consumer("G", "10.0.0.9@c1", 317, func(*remoting.Command) *remoting.Command { return nil })
	// Not forced: queue 0 goes back to 1 (first message at or after 200),
	// queue 1 would move forward to 2, so it keeps its offset 1.
	resp := reset(map[string]string{"group": "G", "topic": "T", "timestamp": "200", "isForce": "false"})
	want := `{"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"T"}:1,{"brokerName":"broker-a","queueId":1,"topic":"T"}:1}}`
	if resp.Code != 0 || string(resp.Body) != want {
		t.Fatalf("reset %d %s: %s", resp.Code, resp.Remark, resp.Body)
	}
	push := testkit.Receive(t, pushes, "RESET_CONSUMER_CLIENT_OFFSET")
	if push.Code != remoting.ReqResetConsumerClientOffset || string(push.Body) != want || push.ExtFields["topic"] != "T" ||
		push.ExtFields["group"] != "G" || push.ExtFields["timestamp"] != "200" || push.Flag&remoting.FlagOneway == 0 {
		t.Fatalf("push %+v %s", push, push.Body)
	}
	if got := f.calls.String(); got != "offsets.Set(G,T,map[0:1 1:1])" {
		t.Fatalf("broker-side offsets: %s", got)
	}
	// Forced to the end (-1); a queue given alone with an explicit offset.
	resp = reset(map[string]string{"group": "G", "topic": "T", "timestamp": "-1", "isForce": "true"})
	if !strings.Contains(string(resp.Body), `"queueId":0,"topic":"T"}:4,`) || !strings.Contains(string(resp.Body), `"queueId":1,"topic":"T"}:2}`) {
		t.Fatalf("reset to the end: %s", resp.Body)
	}
	testkit.Receive(t, pushes, "second push")
	resp = reset(map[string]string{"group": "G", "topic": "T", "timestamp": "0", "isForce": "true", "queueId": "1", "offset": "0"})
	if resp.Code != 0 || string(resp.Body) != `{"offsetTable":{{"brokerName":"broker-a","queueId":1,"topic":"T"}:0}}` {
		t.Fatalf("reset of one queue: %d %s", resp.Code, resp.Body)
	}
	expect(t, reset(map[string]string{"group": "G", "topic": "T", "timestamp": "0", "isForce": "true", "queueId": "1", "offset": "9"}), 1, "not in consume queue range")

	f.consumer("Old", "10.0.0.9@old", 20, func(*remoting.Command) *remoting.Command { return nil })
	f.offsets.put(offKey{"Old", "T", 0}, 0)
	f.offsets.put(offKey{"Old", "T", 1}, 0)
	expect(t, reset(map[string]string{"group": "Old", "topic": "T", "timestamp": "-1", "isForce": "true"}), 1, "does not support")
}

func TestConsumerRunningInfo(t *testing.T) {
	// The default ClientTimeout (10 s): the client answers, and a relay
	// must not time out on a loaded machine (TestConsumerRunningInfoTimeout
	// times one out).
	f := newFixture(t, nil, nil)
	f.consumer("G", "10.0.0.9@c1", 317, func(cmd *remoting.Command) *remoting.Command {
		resp := remoting.NewResponse(cmd, remoting.RespSuccess, "")
		resp.Body = []byte(`{"properties":{"PROP_CONSUME_TYPE":"CONSUME_PASSIVELY"},"jstack":"` + cmd.ExtFields["jstackEnable"] + `"}`)
		return resp
	})

	resp := f.invoke(remoting.ReqGetConsumerRunningInfo, map[string]string{"consumerGroup": "G", "clientId": "10.0.0.9@c1", "jstackEnable": "false"}, nil)
	if resp.Code != 0 || string(resp.Body) != `{"properties":{"PROP_CONSUME_TYPE":"CONSUME_PASSIVELY"},"jstack":"false"}` {
		t.Fatalf("relayed %d %s %s", resp.Code, resp.Remark, resp.Body)
	}
	expect(t, f.invoke(remoting.ReqGetConsumerRunningInfo, map[string]string{"consumerGroup": "G", "clientId": "10.0.0.9@gone"}, nil),
		1, "The Consumer <G> <10.0.0.9@gone> not online")
}

// TestConsumerRunningInfoTimeout: a client that never answers is reported
// CONSUME_MSG_TIMEOUT once ClientTimeout passes.
func TestConsumerRunningInfoTimeout(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.ClientTimeout = 300 * time.Millisecond }, nil)
	silent := f.consumer("G", "10.0.0.9@silent", 317, func(*remoting.Command) *remoting.Command { return nil })
	expect(t, f.invoke(remoting.ReqGetConsumerRunningInfo, map[string]string{"consumerGroup": "G", "clientId": "10.0.0.9@silent"}, nil),
		207, "Timeout")
	if got := testkit.Receive(t, silent, "the forwarded request"); got.Code != remoting.ReqGetConsumerRunningInfo || got.ExtFields["clientId"] != "10.0.0.9@silent" {
		t.Fatalf("forwarded %+v", got)
	}
}

func TestWorkersAreBounded(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.WorkersMax, c.ClientTimeout = 1, time.Minute }, nil)
	forwarded := f.consumer("G", "10.0.0.9@silent", 317, func(*remoting.Command) *remoting.Command { return nil })
	done := make(chan *remoting.Command, 1)
	cli := netkit.Client(t, netio.ClientConfig{})
	// Bounded by testkit.Timeout, not the client's 3 s default: the answer
	// comes only after Stop, however long the steps before it take.
	ctx := testkit.Context(t)
	go func() {
		resp, err := cli.Invoke(ctx, f.addr, remoting.NewRequest(remoting.ReqGetConsumerRunningInfo,
			map[string]string{"consumerGroup": "G", "clientId": "10.0.0.9@silent"}, nil))
		if err != nil {
			resp = remoting.NewResponse(remoting.NewRequest(0, nil, nil), -1, err.Error())
		}
		done <- resp
	}()
	// Once the request reached the client it holds the only worker; another
	// is refused at once, and requests the actor answers itself still work.
	testkit.Receive(t, forwarded, "the forwarded request")
	expect(t, f.invoke(remoting.ReqDeleteSubscriptionGroup, map[string]string{"groupName": "G"}, nil), remoting.RespSystemBusy, "system busy")
	expect(t, f.invoke(remoting.ReqGetBrokerConfig, nil, nil), 0, "")
	if err := f.a.Stop(testkit.Context(t)); err != nil {
		t.Fatal(err)
	}
	// Stop cancels the worker's wait for the client, and refuses requests
	// from then on.
	expect(t, testkit.Receive(t, done, "the running-info answer after Stop"), 1, "invoke consumer")
	expect(t, f.invoke(remoting.ReqGetBrokerConfig, nil, nil), remoting.RespServiceNotAvailable, "stopping")
}

// TestAdmissionIsBounded: beyond InflightMax requests admitted and not
// answered, a request is refused on the loop.
func TestAdmissionIsBounded(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.InflightMax, c.ClientTimeout = 1, time.Minute }, nil)
	forwarded := f.consumer("G", "10.0.0.9@silent", 317, func(*remoting.Command) *remoting.Command { return nil })
	go func() {
		_, _ = f.cli.Invoke(context.Background(), f.addr, remoting.NewRequest(remoting.ReqGetConsumerRunningInfo,
			map[string]string{"consumerGroup": "G", "clientId": "10.0.0.9@silent"}, nil))
	}()
	testkit.Receive(t, forwarded, "the forwarded request")
	expect(t, f.invoke(remoting.ReqGetBrokerConfig, nil, nil), remoting.RespSystemBusy, "1 admin requests in flight")
}

func TestStatsRates(t *testing.T) {
	c := &fakeCounters{groups: map[queue.GroupTopic]int64{}}
	t0 := time.Date(2030, 1, 1, 23, 59, 0, 0, time.Local)
	s := newStats(t0, c)
	gt := queue.GroupTopic{Group: "G", Topic: "T"}
	for i := 1; i <= 70; i++ { // 10 messages stored, 4 pulled by G, every 10 s
		c.puts, c.gets, c.groups[gt] = int64(10*i), int64(4*i), int64(4*i)
		s.sample(t0.Add(time.Duration(i) * 10 * time.Second))
	}
	now := t0.Add(700 * time.Second)
	puts, gets := s.tps(now)
	if puts != [3]float64{1, 1, 1} || gets != [3]float64{0.4, 0.4, 0.4} {
		t.Fatalf("tps %v %v", puts, gets)
	}
	if got := s.consumeTps(now, "G", "T"); got != 0.4 {
		t.Fatalf("consumeTps %v", got)
	}
	if got := s.consumeTps(now, "H", "T"); got != 0 {
		t.Fatalf("consumeTps of an idle group %v", got)
	}
	// The samples cover the longest window, not more.
	if age := now.Sub(s.samples[0].at); age < tpsWindowMax || age > tpsWindowMax+10*time.Second || len(s.samples) > 62 {
		t.Fatalf("%d samples, oldest %v old", len(s.samples), age)
	}
	// The first sample of a new day moved the counters into the morning
	// totals: t0+60 s was the first sample after midnight.
	if s.todayMorning != [2]int64{60, 24} || s.yesterdayMorning != [2]int64{} {
		t.Fatalf("morning totals today %v yesterday %v", s.todayMorning, s.yesterdayMorning)
	}
}
