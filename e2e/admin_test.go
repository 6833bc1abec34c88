package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/producer"
)

// Admin requests checked with hand-built frames and an independent reading
// of the bodies (fastjson object keys are matched by regular expression,
// so the exact text Java tools and the Go client parse is what is checked).

// mqKey matches one `{"brokerName":…,"queueId":…,"topic":…}:` key of a
// fastjson MessageQueue-keyed map.
const mqKey = `\{"brokerName":"([^"]*)","queueId":(\d+),"topic":"([^"]*)"\}:`

var (
	consumeStatsRe   = regexp.MustCompile(`^\{"consumeTps":-?[0-9.E]+,"offsetTable":\{(.*)\}\}$`)
	consumeStatsItem = regexp.MustCompile(mqKey + `\{"brokerOffset":(\d+),"consumerOffset":(\d+),"lastTimestamp":(\d+),"pullOffset":(\d+)\}`)
	topicStatsRe     = regexp.MustCompile(`^\{"offsetTable":\{(.*)\}\}$`)
	topicStatsItem   = regexp.MustCompile(mqKey + `\{"lastUpdateTimestamp":(\d+),"maxOffset":(\d+),"minOffset":(\d+)\}`)
	resetRe          = regexp.MustCompile(`^\{"offsetTable":\{(.*)\}\}$`)
	resetItem        = regexp.MustCompile(mqKey + `(\d+)`)
)

// parseMQMap checks that body is exactly outer with a comma-separated list
// of items inside, and returns each item's submatches by queue id.
func parseMQMap(t *testing.T, body []byte, outer, item *regexp.Regexp) map[int][]int64 {
	t.Helper()
	m := outer.FindSubmatch(body)
	if m == nil {
		t.Fatalf("body %s does not have the expected shape", body)
	}
	out := map[int][]int64{}
	inner := string(m[1])
	for _, idx := range item.FindAllStringSubmatchIndex(inner, -1) {
		sub := item.FindStringSubmatch(inner[idx[0]:idx[1]])
		q, _ := strconv.Atoi(sub[2])
		var nums []int64
		for _, s := range sub[4:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			nums = append(nums, n)
		}
		out[q] = nums
	}
	rebuilt := item.ReplaceAllString(inner, "X")
	if strings.Trim(strings.ReplaceAll(rebuilt, "X,", ""), "X") != "" {
		t.Fatalf("offset table %s has entries of an unexpected shape", inner)
	}
	return out
}

// clientIDOf asks GET_CONSUMER_LIST_BY_GROUP for the group's only client.
func clientIDOf(t *testing.T, b *broker, group string) string {
	t.Helper()
	var ids []string
	waitFor(t, 20*time.Second, "one consumer of "+group, func() bool {
		resp, err := rawInvoke(b.addr, rawRequest{code: 38, ext: map[string]string{"consumerGroup": group}})
		if err != nil || resp.code != 0 {
			return false
		}
		ids = decodeIDList(t, resp.body)
		return len(ids) == 1
	})
	return ids[0]
}

// newNamedProducer is newProducer with a fixed instance name.
func newNamedProducer(t *testing.T, ns *namesrv, group, instance string) rocketmq.Producer {
	t.Helper()
	return newProducer(t, ns, group, producer.WithInstanceName(instance))
}

func mustInvoke(t *testing.T, addr string, req rawRequest) rawResponse {
	t.Helper()
	resp, err := rawInvoke(addr, req)
	if err != nil {
		t.Fatalf("code %d: %v", req.code, err)
	}
	return resp
}

// invokeWithin is rawInvoke with a read deadline of timeout instead of 10 s.
func invokeWithin(t *testing.T, addr string, req rawRequest, timeout time.Duration) rawResponse {
	t.Helper()
	rc, err := dialRaw(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.close()
	if _, err := rc.c.Write(encodeRawFrame(req, 1)); err != nil {
		t.Fatal(err)
	}
	_ = rc.c.SetDeadline(time.Now().Add(timeout))
	for {
		resp, err := readRawFrame(rc.c)
		if err != nil {
			t.Fatalf("code %d: %v", req.code, err)
		}
		if resp.flag&1 == 1 && resp.opaque == 1 {
			return resp
		}
	}
}

func expectCode(t *testing.T, resp rawResponse, code int, what string) {
	t.Helper()
	if resp.code != code {
		t.Fatalf("%s: code %d (%s), want %d", what, resp.code, resp.remark, code)
	}
}

// TestAdminConnectionsStatsAndConsumers covers GET_CONSUMER_CONNECTION_LIST,
// GET_PRODUCER_CONNECTION_LIST, GET_CONSUME_STATS, GET_TOPIC_STATS_INFO,
// QUERY_TOPIC_CONSUME_BY_WHO and GET_BROKER_RUNTIME_INFO's message totals
// after a known number of sends and deliveries.
func TestAdminConnectionsStatsAndConsumers(t *testing.T) {
	const topic, group, pgroup = "AdminStatsTopic", "CG_admin_stats", "PG_admin_stats"
	start := time.Now().UnixMilli()
	ns, b := startWithTopic(t, defaultBrokerOpts(), topic, 2)
	p := newNamedProducer(t, ns, pgroup, "adminprod")
	first := makeBodies("stats", 10)
	sendSync(t, p, topic, first, "")

	r := newReceived()
	c := startPushConsumer(t, ns, "stats", consumerOpts{group: group, topic: topic, fromFirst: true}, r)
	r.waitAll(t, first, 30*time.Second)
	clientID := clientIDOf(t, b, group)
	ip, _, _ := strings.Cut(clientID, "@")

	// Consumer connections: the Go consumer's client id, language, version
	// and subscriptions (the topic and the group's retry topic).
	resp := mustInvoke(t, b.addr, rawRequest{code: 203, ext: map[string]string{"consumerGroup": group}})
	expectCode(t, resp, 0, "GET_CONSUMER_CONNECTION_LIST")
	var cc struct {
		ConnectionSet []struct {
			ClientID, ClientAddr, Language string
			Version                        int
		}
		SubscriptionTable                           map[string]struct{ Topic, SubString string }
		ConsumeType, MessageModel, ConsumeFromWhere string
	}
	if err := jsonUnmarshal(resp.body, &cc); err != nil {
		t.Fatalf("%s: %v", resp.body, err)
	}
	if len(cc.ConnectionSet) != 1 || cc.ConnectionSet[0].ClientID != clientID || cc.ConnectionSet[0].Language != "GO" ||
		cc.ConnectionSet[0].Version != 317 || !strings.HasPrefix(cc.ConnectionSet[0].ClientAddr, "127.0.0.1:") {
		t.Fatalf("connection set %+v, want one GO/317 connection of %s", cc.ConnectionSet, clientID)
	}
	if cc.ConsumeType != "CONSUME_PASSIVELY" || cc.MessageModel != "CLUSTERING" || cc.ConsumeFromWhere != "CONSUME_FROM_FIRST_OFFSET" ||
		len(cc.SubscriptionTable) != 2 || cc.SubscriptionTable[topic].SubString != "*" || cc.SubscriptionTable["%RETRY%"+group].Topic == "" {
		t.Fatalf("consumer connection %s", resp.body)
	}
	expectCode(t, mustInvoke(t, b.addr, rawRequest{code: 203, ext: map[string]string{"consumerGroup": "CG_nobody"}}), 206, "unknown consumer group")

	// Producer connections: the producer's client id is ip@instance (its
	// first heartbeat comes about a second after start).
	waitFor(t, 35*time.Second, "the producer registered", func() bool {
		resp = mustInvoke(t, b.addr, rawRequest{code: 204, ext: map[string]string{"producerGroup": pgroup}})
		return resp.code == 0
	})
	var pc struct {
		ConnectionSet []struct {
			ClientID, Language string
			Version            int
		}
	}
	if err := jsonUnmarshal(resp.body, &pc); err != nil {
		t.Fatalf("%s: %v", resp.body, err)
	}
	if len(pc.ConnectionSet) != 1 || pc.ConnectionSet[0].ClientID != ip+"@adminprod" || pc.ConnectionSet[0].Language != "GO" {
		t.Fatalf("producer connection %s, want one of %s@adminprod", resp.body, ip)
	}
	resp = mustInvoke(t, b.addr, rawRequest{code: 204, ext: map[string]string{"producerGroup": "PG_nobody"}})
	if resp.code != 1 || !strings.Contains(resp.remark, "not exist") {
		t.Fatalf("unknown producer group: %d %s", resp.code, resp.remark)
	}

	// Everything consumed: consumer offsets equal the queue ends once the
	// consumer persisted them; then it stops and three more messages wait.
	ends := maxOffsets(t, b, topic, 2)
	waitFor(t, 15*time.Second, "committed offsets at the queue ends", func() bool {
		return fmt.Sprint(consumerOffsets(t, b, group, topic, 2)) == fmt.Sprint(ends)
	})
	if err := c.Shutdown(); err != nil {
		t.Fatal(err)
	}
	sendSync(t, p, topic, makeBodies("waiting", 3), "")
	now := time.Now().UnixMilli()
	var after []int64
	waitFor(t, 5*time.Second, "13 messages in the consume queues", func() bool {
		after = maxOffsets(t, b, topic, 2)
		return after[0]+after[1] == 13
	})

	resp = mustInvoke(t, b.addr, rawRequest{code: 208, ext: map[string]string{"consumerGroup": group, "topic": topic}})
	expectCode(t, resp, 0, "GET_CONSUME_STATS")
	stats := parseMQMap(t, resp.body, consumeStatsRe, consumeStatsItem)
	diff := int64(0)
	for q := 0; q < 2; q++ {
		s := stats[q] // brokerOffset, consumerOffset, lastTimestamp, pullOffset
		if len(s) != 4 || s[0] != after[q] || s[1] != ends[q] || s[3] != ends[q] {
			t.Fatalf("queue %d stats %v, want broker %d consumer %d (body %s)", q, s, after[q], ends[q], resp.body)
		}
		if ends[q] > 0 && (s[2] < start || s[2] > now) {
			t.Fatalf("queue %d lastTimestamp %d outside [%d, %d]", q, s[2], start, now)
		}
		diff += s[0] - s[1]
	}
	if diff != 3 || !strings.Contains(string(resp.body), `"brokerName":"broker-e2e"`) {
		t.Fatalf("consume stats diff %d, want 3: %s", diff, resp.body)
	}
	// Without a topic: every topic the group has offsets on (here the topic
	// and its retry topic).
	resp = mustInvoke(t, b.addr, rawRequest{code: 208, ext: map[string]string{"consumerGroup": group}})
	if resp.code != 0 || !strings.Contains(string(resp.body), `"topic":"`+topic+`"`) {
		t.Fatalf("GET_CONSUME_STATS without topic: %d %s", resp.code, resp.body)
	}

	resp = mustInvoke(t, b.addr, rawRequest{code: 202, ext: map[string]string{"topic": topic}})
	expectCode(t, resp, 0, "GET_TOPIC_STATS_INFO")
	ts := parseMQMap(t, resp.body, topicStatsRe, topicStatsItem)
	for q := 0; q < 2; q++ {
		s := ts[q] // lastUpdateTimestamp, maxOffset, minOffset
		if len(s) != 3 || s[1] != after[q] || s[2] != 0 || (after[q] > 0 && (s[0] < start || s[0] > now)) {
			t.Fatalf("queue %d topic stats %v, want max %d min 0 (body %s)", q, s, after[q], resp.body)
		}
	}
	expectCode(t, mustInvoke(t, b.addr, rawRequest{code: 202, ext: map[string]string{"topic": "NoSuchTopic"}}), 17, "stats of an unknown topic")

	resp = mustInvoke(t, b.addr, rawRequest{code: 300, ext: map[string]string{"topic": topic}})
	if resp.code != 0 || string(resp.body) != `{"groupList":["`+group+`"]}` {
		t.Fatalf("QUERY_TOPIC_CONSUME_BY_WHO: %d %s", resp.code, resp.body)
	}

	// Runtime info: 13 messages stored in the topic; pulls counted exactly
	// (a raw pull of queue 0 adds its length; the Go consumer may have
	// pulled a message twice, so its count is only a lower bound).
	var tb map[string]string
	waitFor(t, 5*time.Second, "13 stored messages counted", func() bool {
		tb = runtimeInfo(t, b)
		return tb["msgPutTotalTodayNow"] == "13"
	})
	gets, _ := strconv.ParseInt(tb["msgGetTotalTodayNow"], 10, 64)
	if gets < 10 || tb["brokerVersionDesc"] != "V4_9_4" ||
		tb["brokerActive"] != "true" || tb["commitLogMinOffset"] != "0" || tb["dispatchBehindBytes"] != "0" {
		t.Fatalf("runtime info %v", tb)
	}
	for _, k := range []string{"putTps", "getTransferredTps", "getTransferedTps"} {
		if f := strings.Fields(tb[k]); len(f) != 3 {
			t.Fatalf("%s = %q, want three rates", k, tb[k])
		}
	}
	if n, _ := strconv.ParseInt(tb["commitLogMaxOffset"], 10, 64); n <= 0 {
		t.Fatalf("commitLogMaxOffset %q", tb["commitLogMaxOffset"])
	}
	if n, _ := strconv.ParseInt(tb["earliestMessageTimeStamp"], 10, 64); n < start || n > now {
		t.Fatalf("earliestMessageTimeStamp %q outside [%d, %d]", tb["earliestMessageTimeStamp"], start, now)
	}
	for _, k := range []string{"commitLogDiskRatio", "commitLogDirCapacity", "sendThreadPoolQueueSize", "msgPutTotalTodayMorning",
		"msgGetTotalYesterdayMorning", "bootTimestamp", "runtime", "remainHowManyDataToFlush"} {
		if tb[k] == "" {
			t.Fatalf("runtime info lacks %s: %v", k, tb)
		}
	}
	pull := mustInvoke(t, b.addr, rawRequest{code: 11, ext: map[string]string{
		"consumerGroup": "CG_raw", "topic": topic, "queueId": "0", "queueOffset": "0", "maxMsgNums": "32",
		"sysFlag": "4", "commitOffset": "0", "suspendTimeoutMillis": "0", "subscription": "*", "subVersion": "0", "expressionType": "TAG"}})
	expectCode(t, pull, 0, "raw pull")
	sendSync(t, p, topic, makeBodies("more", 2), "")
	waitFor(t, 5*time.Second, "15 stored messages counted", func() bool {
		tb = runtimeInfo(t, b)
		return tb["msgPutTotalTodayNow"] == "15"
	})
	if tb["msgGetTotalTodayNow"] != strconv.FormatInt(gets+after[0], 10) {
		t.Fatalf("after a pull of %d: gets %s, was %d", after[0], tb["msgGetTotalTodayNow"], gets)
	}
}

func runtimeInfo(t *testing.T, b *broker) map[string]string {
	t.Helper()
	resp := mustInvoke(t, b.addr, rawRequest{code: 28})
	expectCode(t, resp, 0, "GET_BROKER_RUNTIME_INFO")
	var kv struct{ Table map[string]string }
	if err := jsonUnmarshal(resp.body, &kv); err != nil {
		t.Fatalf("runtime info %s: %v", resp.body, err)
	}
	return kv.Table
}

// TestAdminBrokerConfigRoundTrip updates a runtime key, reads it back, sees
// it set in the -c file (every other line of which stays, a key this broker
// does not know included) and kept across a restart, and checks the
// refusals.
func TestAdminBrokerConfigRoundTrip(t *testing.T) {
	ns := startNamesrv(t)
	opts := defaultBrokerOpts()
	opts.extra = map[string]string{"sendMessageThreadPoolNums": "4"} // a Java key unknown here
	b := startBroker(t, ns, opts)
	original, err := os.ReadFile(b.conf)
	if err != nil {
		t.Fatal(err)
	}

	get := func() (string, string) {
		resp := mustInvoke(t, b.addr, rawRequest{code: 26})
		expectCode(t, resp, 0, "GET_BROKER_CONFIG")
		return string(resp.body), resp.ext["version"]
	}
	text, version := get()
	if !strings.Contains(text, "\nstoreReplyMessageEnable=true\n") || !strings.Contains(text, "brokerName=broker-e2e\n") ||
		!strings.Contains(version, `"counter":0`) {
		t.Fatalf("config before the update (version %s):\n%s", version, text)
	}

	for _, c := range []struct {
		body string
		code int
	}{
		{"brokerConfigPath=/tmp/x\n", 16},
		{"configBlackList=x\n", 16},
		{"noSuchKey=1\n", 29},
		{"storeReplyMessageEnable=maybe\n", 29},
		{"listenPort=70000\n", 29},
		{"listenPort=1\n", 16},
		{"storeReplyMessageEnable=false\nflushDiskType=SYNC_FLUSH\n", 16},
	} {
		resp := mustInvoke(t, b.addr, rawRequest{code: 25, body: []byte(c.body)})
		expectCode(t, resp, c.code, "UPDATE_BROKER_CONFIG "+c.body)
	}
	if text2, _ := get(); text2 != text {
		t.Fatalf("a refused update changed the config")
	}

	resp := mustInvoke(t, b.addr, rawRequest{code: 25, body: []byte("storeReplyMessageEnable=false\n")})
	expectCode(t, resp, 0, "UPDATE_BROKER_CONFIG")
	text, version = get()
	if !strings.Contains(text, "\nstoreReplyMessageEnable=false\n") || !strings.Contains(version, `"counter":1`) {
		t.Fatalf("config after the update (version %s):\n%s", version, text)
	}
	if file, err := os.ReadFile(b.conf); err != nil || string(file) != string(original)+"storeReplyMessageEnable=false\n" {
		t.Fatalf("config file %s after the update: %v\n%s\nwant the original plus storeReplyMessageEnable=false:\n%s", b.conf, err, file, original)
	}
	if bak, err := os.ReadFile(b.conf + ".bak"); err != nil || string(bak) != string(original) {
		t.Fatalf("backup %s.bak is not the original file: %v\n%s", b.conf, err, bak)
	}

	b.stop()
	b.start()
	if text, _ = get(); !strings.Contains(text, "\nstoreReplyMessageEnable=false\n") {
		t.Fatalf("update lost across a restart:\n%s", text)
	}
}

// TestAdminDeleteTopicAndGroup deletes a consumed topic (route, pulls,
// offsets and consume-queue files go; a re-created topic starts empty) and a
// subscription group with its offsets (removeOffset).
func TestAdminDeleteTopicAndGroup(t *testing.T) {
	const topic, group = "DeleteMeTopic", "CG_delete"
	ns, b := startWithTopic(t, defaultBrokerOpts(), topic, 2)
	p := newProducer(t, ns, "PG_delete")
	old := makeBodies("old", 6)
	sendSync(t, p, topic, old, "")
	r := newReceived()
	c := startPushConsumer(t, ns, "del", consumerOpts{group: group, topic: topic, fromFirst: true}, r)
	r.waitAll(t, old, 30*time.Second)
	ends := maxOffsets(t, b, topic, 2)
	waitFor(t, 15*time.Second, "committed offsets", func() bool {
		return fmt.Sprint(consumerOffsets(t, b, group, topic, 2)) == fmt.Sprint(ends)
	})
	if err := c.Shutdown(); err != nil {
		t.Fatal(err)
	}
	cqDir := filepath.Join(b.storeAt, "consumequeue", topic)
	if _, err := os.Stat(cqDir); err != nil {
		t.Fatalf("consume queues of %s missing before the deletion: %v", topic, err)
	}

	expectCode(t, mustInvoke(t, b.addr, rawRequest{code: 215, ext: map[string]string{"topic": "SCHEDULE_TOPIC_XXXX"}}), 29, "delete a system topic")
	expectCode(t, mustInvoke(t, b.addr, rawRequest{code: 215, ext: map[string]string{"topic": " "}}), 29, "delete a blank topic")
	expectCode(t, mustInvoke(t, b.addr, rawRequest{code: 215, ext: map[string]string{"topic": topic}}), 0, "DELETE_TOPIC_IN_BROKER")

	waitFor(t, 15*time.Second, "route of the deleted topic gone", func() bool {
		resp, err := rawInvoke(ns.addr, rawRequest{code: 105, ext: map[string]string{"topic": topic}})
		return err == nil && resp.code == 17
	})
	pull := mustInvoke(t, b.addr, rawRequest{code: 11, ext: map[string]string{
		"consumerGroup": group, "topic": topic, "queueId": "0", "queueOffset": "0", "maxMsgNums": "32",
		"sysFlag": "4", "commitOffset": "0", "suspendTimeoutMillis": "0", "subscription": "*", "subVersion": "0", "expressionType": "TAG"}})
	expectCode(t, pull, 17, "pull of the deleted topic")
	for q := 0; q < 2; q++ {
		resp := mustInvoke(t, b.addr, rawRequest{code: 14, ext: map[string]string{
			"consumerGroup": group, "topic": topic, "queueId": strconv.Itoa(q), "setZeroIfNotFound": "false"}})
		expectCode(t, resp, 22, "offset of the deleted topic")
	}
	if _, err := os.Stat(cqDir); !os.IsNotExist(err) {
		t.Fatalf("consume queue dir %s still there: %v", cqDir, err)
	}
	resp := mustInvoke(t, b.addr, rawRequest{code: 21})
	if resp.code != 0 || strings.Contains(string(resp.body), `"`+topic+`"`) {
		t.Fatalf("topic config still listed: %s", resp.body)
	}

	// Re-created, the topic holds only what is sent afterwards.
	createTopic(t, b, topic, 2)
	fresh := makeBodies("fresh", 4)
	sendSync(t, p, topic, fresh, "")
	r2 := newReceived()
	startPushConsumer(t, ns, "del2", consumerOpts{group: "CG_delete_again", topic: topic, fromFirst: true}, r2)
	r2.waitAll(t, fresh, 30*time.Second)
	r2.mu.Lock()
	total := r2.total
	r2.mu.Unlock()
	if total != len(fresh) {
		t.Fatalf("re-created topic delivered %d messages, want only the %d fresh ones", total, len(fresh))
	}
	if got := maxOffsets(t, b, topic, 2); got[0]+got[1] != int64(len(fresh)) {
		t.Fatalf("re-created topic's queues end at %v, want offsets from 0 again", got)
	}

	// A subscription group made by UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, with
	// an offset, deleted with cleanOffset.
	const delGroup = "CG_admin_made"
	cfg := `{"groupName":"` + delGroup + `","consumeEnable":true,"retryMaxTimes":3,"retryQueueNums":1}`
	expectCode(t, mustInvoke(t, b.addr, rawRequest{code: 200, body: []byte(cfg)}), 0, "UPDATE_AND_CREATE_SUBSCRIPTIONGROUP")
	resp = mustInvoke(t, b.addr, rawRequest{code: 352, ext: map[string]string{"group": delGroup}})
	if resp.code != 0 || !strings.Contains(string(resp.body), `"retryMaxTimes":3`) || !strings.Contains(string(resp.body), `"consumeBroadcastEnable":true`) {
		t.Fatalf("created group: %d %s", resp.code, resp.body)
	}
	expectCode(t, mustInvoke(t, b.addr, rawRequest{code: 15, ext: map[string]string{
		"consumerGroup": delGroup, "topic": topic, "queueId": "0", "commitOffset": "1"}}), 0, "UPDATE_CONSUMER_OFFSET")
	queryOffset := func() rawResponse {
		return mustInvoke(t, b.addr, rawRequest{code: 14, ext: map[string]string{
			"consumerGroup": delGroup, "topic": topic, "queueId": "0", "setZeroIfNotFound": "false"}})
	}
	expectCode(t, queryOffset(), 0, "offset before the group deletion")
	// Java 4.x's mqadmin deleteSubGroup -r sends removeOffset (5.x: cleanOffset).
	expectCode(t, mustInvoke(t, b.addr, rawRequest{code: 207, ext: map[string]string{"groupName": delGroup, "removeOffset": "true"}}), 0, "DELETE_SUBSCRIPTIONGROUP")
	expectCode(t, mustInvoke(t, b.addr, rawRequest{code: 352, ext: map[string]string{"group": delGroup}}), 26, "deleted group")
	expectCode(t, queryOffset(), 22, "offset after the group deletion")
}

// TestAdminResetOffsetByTime resets a running Go push consumer to a moment
// between two batches: the client takes RESET_CONSUMER_CLIENT_OFFSET and
// consumes the second batch again, never the first.
func TestAdminResetOffsetByTime(t *testing.T) {
	const topic, group = "ResetTopic", "CG_reset"
	ns, b := startWithTopic(t, defaultBrokerOpts(), topic, 2)
	p := newProducer(t, ns, "PG_reset")
	r := newReceived()
	startPushConsumer(t, ns, "reset", consumerOpts{group: group, topic: topic, fromFirst: true}, r)
	clientIDOf(t, b, group)

	batchA := makeBodies("batchA", 6)
	sendSync(t, p, topic, batchA, "")
	r.waitAll(t, batchA, 30*time.Second)
	var resetAt int64
	for _, body := range batchA {
		resetAt = max(resetAt, r.message(body).StoreTimestamp+1)
	}
	waitFor(t, 5*time.Second, "the clock past the first batch", func() bool { return time.Now().UnixMilli() > resetAt })
	batchB := makeBodies("batchB", 6)
	results := sendSync(t, p, topic, batchB, "")
	r.waitAll(t, batchB, 30*time.Second)
	ends := maxOffsets(t, b, topic, 2)
	waitFor(t, 15*time.Second, "committed offsets at the queue ends", func() bool {
		return fmt.Sprint(consumerOffsets(t, b, group, topic, 2)) == fmt.Sprint(ends)
	})
	// Expected target per queue: the first batch-B message in it, or the
	// queue end when batch B put nothing there.
	want := map[int]int64{0: ends[0], 1: ends[1]}
	for _, res := range results {
		q := res.MessageQueue.QueueId
		want[q] = min(want[q], res.QueueOffset)
	}

	expectCode(t, mustInvoke(t, b.addr, rawRequest{code: 222, ext: map[string]string{
		"group": "CG_no_offsets", "topic": topic, "timestamp": strconv.FormatInt(resetAt, 10), "isForce": "true"}}), 1, "reset of a group without offsets")
	resp := mustInvoke(t, b.addr, rawRequest{code: 222, ext: map[string]string{
		"group": group, "topic": topic, "timestamp": strconv.FormatInt(resetAt, 10), "isForce": "true"}})
	expectCode(t, resp, 0, "INVOKE_BROKER_TO_RESET_OFFSET")
	table := parseMQMap(t, resp.body, resetRe, resetItem)
	for q := 0; q < 2; q++ {
		if len(table[q]) != 1 || table[q][0] != want[q] {
			t.Fatalf("reset table %s, want %v", resp.body, want)
		}
	}

	// The client drops its queues, waits 10 s, stores the new offsets and
	// pulls again: batch B arrives a second time. Within each queue batch A
	// precedes batch B, so batch B's second delivery proves A was skipped.
	waitFor(t, 35*time.Second, "batch B consumed again", func() bool {
		for _, body := range batchB {
			if r.count(body) < 2 {
				return false
			}
		}
		return true
	})
	for _, body := range batchA {
		if n := r.count(body); n != 1 {
			t.Fatalf("%s delivered %d times, want 1", body, n)
		}
	}

	// A group with offsets but no consumer online.
	for q := 0; q < 2; q++ {
		expectCode(t, mustInvoke(t, b.addr, rawRequest{code: 15, ext: map[string]string{
			"consumerGroup": "CG_reset_gone", "topic": topic, "queueId": strconv.Itoa(q), "commitOffset": "1"}}), 0, "UPDATE_CONSUMER_OFFSET")
	}
	expectCode(t, mustInvoke(t, b.addr, rawRequest{code: 222, ext: map[string]string{
		"group": "CG_reset_gone", "topic": topic, "timestamp": "-1", "isForce": "true"}}), 206, "reset of an offline group")
}

// TestAdminConsumerRunningInfo relays GET_CONSUMER_RUNNING_INFO to the Go
// consumer and back, and answers for absent and silent clients.
func TestAdminConsumerRunningInfo(t *testing.T) {
	const topic, group = "RunningTopic", "CG_running"
	ns, b := startWithTopic(t, defaultBrokerOpts(), topic, 1)
	startPushConsumer(t, ns, "running", consumerOpts{group: group, topic: topic}, newReceived())
	clientID := clientIDOf(t, b, group)

	resp := mustInvoke(t, b.addr, rawRequest{code: 307, ext: map[string]string{
		"consumerGroup": group, "clientId": clientID, "jstackEnable": "false"}})
	expectCode(t, resp, 0, "GET_CONSUMER_RUNNING_INFO")
	// Go writes mqTable with object keys (not valid JSON), so the relayed
	// body is checked as text.
	if !containsAll(string(resp.body), `{"properties":{`, `"PROP_CONSUME_TYPE":"CONSUME_PASSIVELY"`, `"subscriptionSet":[`,
		`"`+topic+`"`, `"%RETRY%`+group+`"`, `"mqTable":{`) {
		t.Fatalf("running info relayed: %s", resp.body)
	}

	resp = mustInvoke(t, b.addr, rawRequest{code: 307, ext: map[string]string{"consumerGroup": group, "clientId": "10.9.9.9@nobody"}})
	if resp.code != 1 || !strings.Contains(resp.remark, "not online") {
		t.Fatalf("absent client: %d %s", resp.code, resp.remark)
	}

	// A consumer that never answers broker requests: CONSUME_MSG_TIMEOUT
	// after the broker's 10 s wait.
	silent, err := dialRaw(b.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.close()
	hb := `{"clientID":"127.0.0.1@silent","producerDataSet":[],"consumerDataSet":[{"groupName":"CG_silent","consumeType":"CONSUME_PASSIVELY",` +
		`"messageModel":"CLUSTERING","consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","unitMode":false,"subscriptionDataSet":[]}]}`
	if resp, err := silent.invoke(rawRequest{code: 34, body: []byte(hb)}); err != nil || resp.code != 0 {
		t.Fatalf("heartbeat: %v %+v", err, resp)
	}
	resp = invokeWithin(t, b.addr, rawRequest{code: 307, ext: map[string]string{"consumerGroup": "CG_silent", "clientId": "127.0.0.1@silent"}}, 20*time.Second)
	if resp.code != 207 || !strings.Contains(resp.remark, "Timeout") {
		t.Fatalf("silent client: %d %s", resp.code, resp.remark)
	}
}
