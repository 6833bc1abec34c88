package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// mqadmin runs the mqadmin binary against one NameServer.
type mqadmin struct{ ns string }

// run runs mqadmin with args and -n, returning stdout, stderr and the exit code.
func (m mqadmin) run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return runBinary(t, "mqadmin", append(args, "-n", m.ns)...)
}

// ok runs mqadmin and fails the test unless it exits 0 with empty stderr.
func (m mqadmin) ok(t *testing.T, args ...string) string {
	t.Helper()
	stdout, stderr, code := m.run(t, args...)
	if code != 0 || stderr != "" {
		t.Fatalf("mqadmin %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout, stderr)
	}
	return stdout
}

// eventually retries an mqadmin command until it exits 0 and its output
// satisfies cond (an index or offset commit may lag the action that
// feeds it), and returns that output.
func (m mqadmin) eventually(t *testing.T, timeout time.Duration, cond func(stdout string) bool, args ...string) string {
	t.Helper()
	var stdout, stderr string
	var code int
	deadline := time.Now().Add(timeout)
	for {
		stdout, stderr, code = m.run(t, args...)
		if code == 0 && cond(stdout) {
			return stdout
		}
		if time.Now().After(deadline) {
			t.Fatalf("mqadmin %s: no wanted output within %s; last exit %d\nstdout:\n%s\nstderr:\n%s",
				strings.Join(args, " "), timeout, code, stdout, stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// tableRows returns the whitespace-split fields of each output line after the
// header line that starts with header.
func tableRows(t *testing.T, out, header string) [][]string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, header) {
			var r [][]string
			for _, l := range lines[i+1:] {
				if strings.TrimSpace(l) == "" {
					break
				}
				r = append(r, strings.Fields(l))
			}
			return r
		}
	}
	t.Fatalf("no header %q in:\n%s", header, out)
	return nil
}

// detailField returns the value of a "Label:   value" line of a message detail.
func detailField(t *testing.T, out, label string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, label+":") {
			return strings.TrimSpace(strings.TrimPrefix(l, label+":"))
		}
	}
	t.Fatalf("no %q line in:\n%s", label, out)
	return ""
}

func hasOutputLine(out, line string) bool {
	for _, l := range strings.Split(out, "\n") {
		if l == line {
			return true
		}
	}
	return false
}

// TestMqadminCommands drives every mqadmin command against a real
// NameServer and broker, in the order an operator would use them.
func TestMqadminCommands(t *testing.T) {
	// Message details save bodies under $TMPDIR/rocketmq/msgbodys.
	t.Setenv("TMPDIR", t.TempDir())
	ns := startNamesrv(t)
	b := startBroker(t, ns, defaultBrokerOpts())
	m := mqadmin{ns: ns.addr}
	const (
		cluster    = "E2ECluster"
		brokerName = "broker-e2e"
		topic      = "MqaTopic"
	)

	t.Run("clusterList", func(t *testing.T) {
		r := tableRows(t, m.ok(t, "clusterList"), "#Cluster Name")
		if len(r) != 1 || strings.Join(r[0][:4], " ") != cluster+" "+brokerName+" 0 "+b.addr {
			t.Fatalf("rows %q", r)
		}
	})

	t.Run("updateTopic and topicRoute", func(t *testing.T) {
		out := m.ok(t, "updateTopic", "-c", cluster, "-t", topic, "-r", "4", "-w", "4")
		want := "create topic to " + b.addr + " success.\n" +
			"TopicConfig [topicName=MqaTopic, readQueueNums=4, writeQueueNums=4, perm=RW-, topicFilterType=SINGLE_TAG, topicSysFlag=0, order=false]\n"
		if out != want {
			t.Fatalf("updateTopic:\n%s\nwant\n%s", out, want)
		}
		waitRoute(t, b, topic, 4)
		r := tableRows(t, m.ok(t, "topicRoute", "-t", topic, "-l"), "#ClusterName")
		if len(r) != 3 || strings.Join(r[0], " ") != cluster+" "+brokerName+" {0="+b.addr+"} 4 4 6" ||
			strings.Join(r[2], " ") != "Total: 1 4 4" {
			t.Fatalf("topicRoute -l rows %q", r)
		}
		var route struct {
			BrokerDatas []struct {
				BrokerAddrs map[string]string `json:"brokerAddrs"`
				Cluster     string            `json:"cluster"`
			} `json:"brokerDatas"`
			QueueDatas []struct {
				ReadQueueNums, WriteQueueNums, Perm int
			} `json:"queueDatas"`
		}
		if err := json.Unmarshal([]byte(m.ok(t, "topicRoute", "-t", topic)), &route); err != nil {
			t.Fatal(err)
		}
		if len(route.QueueDatas) != 1 || route.QueueDatas[0].WriteQueueNums != 4 || route.QueueDatas[0].ReadQueueNums != 4 ||
			route.BrokerDatas[0].BrokerAddrs["0"] != b.addr || route.BrokerDatas[0].Cluster != cluster {
			t.Fatalf("route %+v", route)
		}
	})

	t.Run("topicList", func(t *testing.T) {
		if out := m.ok(t, "topicList"); !hasOutputLine(out, topic) || !hasOutputLine(out, "TBW102") {
			t.Fatalf("topicList:\n%s", out)
		}
		found := false
		for _, r := range tableRows(t, m.ok(t, "topicList", "-c"), "#Cluster Name") {
			if len(r) >= 2 && r[0] == cluster && r[1] == topic {
				found = true
			}
		}
		if !found {
			t.Fatal("topicList -c does not list the topic in its cluster")
		}
	})

	var uniqID, offsetID string
	const msgBody, msgKey = "mqadmin body 1", "mqa-key-1"
	t.Run("sendMessage", func(t *testing.T) {
		r := tableRows(t, m.ok(t, "sendMessage", "-t", topic, "-p", msgBody, "-k", msgKey, "-c", "TagA", "-b", brokerName, "-i", "2"), "#Broker Name")
		if len(r) != 1 || len(r[0]) != 4 || r[0][0] != brokerName || r[0][1] != "2" || r[0][2] != "SEND_OK" || len(r[0][3]) != 32 {
			t.Fatalf("sendMessage rows %q", r)
		}
		uniqID = r[0][3]
	})

	checkDetail := func(t *testing.T, out string) {
		t.Helper()
		if detailField(t, out, "Topic") != topic || detailField(t, out, "Tags") != "[TagA]" || detailField(t, out, "Keys") != "["+msgKey+"]" ||
			detailField(t, out, "Queue ID") != "2" || detailField(t, out, "Queue Offset") != "0" || detailField(t, out, "Message Body") != msgBody ||
			detailField(t, out, "Store Host") != b.addr {
			t.Fatalf("message detail:\n%s", out)
		}
		if !strings.Contains(detailField(t, out, "Properties"), "UNIQ_KEY="+uniqID) {
			t.Fatalf("properties without the unique key %s:\n%s", uniqID, out)
		}
		saved, err := os.ReadFile(detailField(t, out, "Message Body Path"))
		if err != nil || string(saved) != msgBody {
			t.Fatalf("saved body %q, %v", saved, err)
		}
	}

	t.Run("queryMsgByOffset", func(t *testing.T) {
		out := m.ok(t, "queryMsgByOffset", "-t", topic, "-b", brokerName, "-i", "2", "-o", "0", "-f", "UTF-8")
		checkDetail(t, out)
		offsetID = detailField(t, out, "OffsetID")
		_, stderr, code := m.run(t, "queryMsgByOffset", "-t", topic, "-b", brokerName, "-i", "2", "-o", "1")
		if code != 1 || !strings.HasPrefix(stderr, "mqadmin: queryMsgByOffset: no message at offset 1 of MessageQueue [topic=MqaTopic, brokerName=broker-e2e, queueId=2]") {
			t.Fatalf("past the end: exit %d, stderr %q", code, stderr)
		}
	})

	t.Run("queryMsgById", func(t *testing.T) {
		checkDetail(t, m.ok(t, "queryMsgById", "-i", offsetID, "-f", "UTF-8"))
		// A unique key is looked up in the topic's index, which may lag the send.
		out := m.eventually(t, 10*time.Second, func(string) bool { return true }, "queryMsgById", "-i", uniqID, "-t", topic, "-f", "UTF-8")
		checkDetail(t, out)
		if detailField(t, out, "OffsetID") != offsetID {
			t.Fatalf("unique key found %s, want %s", detailField(t, out, "OffsetID"), offsetID)
		}
	})

	t.Run("queryMsgByKey", func(t *testing.T) {
		out := m.eventually(t, 10*time.Second, func(string) bool { return true }, "queryMsgByKey", "-t", topic, "-k", msgKey)
		if r := tableRows(t, out, "#Message ID"); len(r) != 1 || strings.Join(r[0], " ") != uniqID+" 2 0" {
			t.Fatalf("queryMsgByKey rows %q", r)
		}
		_, stderr, code := m.run(t, "queryMsgByKey", "-t", topic, "-k", "no-such-key")
		if code != 1 || !strings.HasPrefix(stderr, "mqadmin: queryMsgByKey: NO_MESSAGE (208)") || strings.Count(stderr, "\n") != 1 {
			t.Fatalf("unknown key: exit %d, stderr %q", code, stderr)
		}
	})

	t.Run("printMsg", func(t *testing.T) {
		out := m.ok(t, "printMsg", "-t", topic)
		for q := 0; q < 4; q++ {
			max := 0
			if q == 2 {
				max = 1
			}
			line := fmt.Sprintf("minOffset=0, maxOffset=%d, MessageQueue [topic=%s, brokerName=%s, queueId=%d]", max, topic, brokerName, q)
			if !hasOutputLine(out, line) {
				t.Fatalf("no line %q in:\n%s", line, out)
			}
		}
		re := regexp.MustCompile(`(?m)^MSGID: ` + uniqID + ` MessageExt \[brokerName=broker-e2e, queueId=2, .*msgId=` + offsetID + `, .* BODY: ` + msgBody + `$`)
		if !re.MatchString(out) || strings.Count(out, "MSGID: ") != 1 {
			t.Fatalf("printMsg:\n%s", out)
		}
		if out := m.ok(t, "printMsg", "-t", topic, "-d", "false"); !strings.Contains(out, " BODY: NOT PRINT BODY\n") {
			t.Fatalf("printMsg -d false:\n%s", out)
		}
	})

	t.Run("topicStatus", func(t *testing.T) {
		r := tableRows(t, m.ok(t, "topicStatus", "-t", topic), "#Broker Name")
		if len(r) != 4 {
			t.Fatalf("rows %q", r)
		}
		for q, row := range r {
			want := fmt.Sprintf("%s %d 0 0", brokerName, q)
			if q == 2 {
				want = fmt.Sprintf("%s 2 0 1", brokerName)
			}
			if strings.Join(row[:4], " ") != want || (q == 2) != (len(row) == 6) {
				t.Fatalf("row %d %q, want %s (last-updated time only on queue 2)", q, row, want)
			}
		}
	})

	t.Run("consumers", func(t *testing.T) { testMqadminConsumers(t, m, ns, b) })

	t.Run("clusterList -m", func(t *testing.T) {
		// Seven messages were stored since the broker started (sendMessage's
		// and the six of the consumer tests), and read back more than once.
		r := tableRows(t, m.ok(t, "clusterList", "-m"), "#Cluster Name")
		if len(r) != 1 || len(r[0]) != 6 || strings.Join(r[0][:5], " ") != cluster+" "+brokerName+" 0 0 7" {
			t.Fatalf("-m rows %q", r)
		}
		if out, _ := strconv.Atoi(r[0][5]); out < 12 {
			t.Fatalf("-m rows %q: fewer messages out today than the consumer tests read", r)
		}
	})

	t.Run("brokerStatus", func(t *testing.T) {
		out := m.ok(t, "brokerStatus", "-b", b.addr)
		re := regexp.MustCompile(`(?m)^commitLogMaxOffset {14}: ([0-9]+)$`)
		sub := re.FindStringSubmatch(out)
		if sub == nil {
			t.Fatalf("brokerStatus:\n%s", out)
		}
		if n, _ := strconv.ParseInt(sub[1], 10, 64); n <= 0 {
			t.Fatalf("commitLogMaxOffset %s after sends", sub[1])
		}
		if out := m.ok(t, "brokerStatus", "-c", cluster); !strings.Contains(out, b.addr+" ") || !strings.Contains(out, "commitLogMaxOffset") {
			t.Fatalf("brokerStatus -c:\n%s", out)
		}
	})

	t.Run("getBrokerConfig and updateBrokerConfig", func(t *testing.T) {
		line := func(key, value string) string { return fmt.Sprintf("%-50s=  %s", key, value) }
		out := m.ok(t, "getBrokerConfig", "-b", b.addr)
		if !strings.HasPrefix(out, "============"+b.addr+"============\n") || !hasOutputLine(out, line("brokerName", brokerName)) ||
			!hasOutputLine(out, line("notifyConsumerIdsChangedEnable", "true")) {
			t.Fatalf("getBrokerConfig:\n%s", out)
		}
		if out := m.ok(t, "updateBrokerConfig", "-b", b.addr, "-k", "notifyConsumerIdsChangedEnable", "-v", "false"); out != "update broker config success, "+b.addr+"\n" {
			t.Fatalf("updateBrokerConfig: %q", out)
		}
		out = m.ok(t, "getBrokerConfig", "-c", cluster)
		if !strings.HasPrefix(out, "============Master: "+b.addr+"============\n") || !hasOutputLine(out, line("notifyConsumerIdsChangedEnable", "false")) {
			t.Fatalf("getBrokerConfig after the update:\n%s", out)
		}
		_, stderr, code := m.run(t, "updateBrokerConfig", "-b", b.addr, "-k", "noSuchKey", "-v", "1")
		if code != 1 || !strings.HasPrefix(stderr, "mqadmin: updateBrokerConfig: broker "+b.addr+": INVALID_PARAMETER (29)") || strings.Count(stderr, "\n") != 1 {
			t.Fatalf("unknown key: exit %d, stderr %q", code, stderr)
		}
	})

	t.Run("updateSubGroup and deleteSubGroup", func(t *testing.T) {
		out := m.ok(t, "updateSubGroup", "-b", b.addr, "-g", "MqaSubGroup", "-r", "5", "-q", "2")
		if !strings.HasPrefix(out, "create subscription group to "+b.addr+" success.\nSubscriptionGroupConfig [groupName=MqaSubGroup, consumeEnable=true, consumeFromMinEnable=false, consumeBroadcastEnable=false, retryQueueNums=2, retryMaxTimes=5,") {
			t.Fatalf("updateSubGroup:\n%s", out)
		}
		group := func() (map[string]any, int) {
			resp, err := rawInvoke(b.addr, rawRequest{code: 352, ext: map[string]string{"group": "MqaSubGroup"}})
			if err != nil {
				t.Fatal(err)
			}
			var g map[string]any
			if resp.code == 0 {
				if err := json.Unmarshal(resp.body, &g); err != nil {
					t.Fatal(err)
				}
			}
			return g, resp.code
		}
		if g, code := group(); code != 0 || g["retryMaxTimes"] != 5.0 || g["retryQueueNums"] != 2.0 {
			t.Fatalf("group after updateSubGroup: code %d %v", code, g)
		}
		if out := m.ok(t, "deleteSubGroup", "-b", b.addr, "-g", "MqaSubGroup"); out != "delete subscription group [MqaSubGroup] from broker ["+b.addr+"] success.\n" {
			t.Fatalf("deleteSubGroup: %q", out)
		}
		if _, code := group(); code != 26 {
			t.Fatalf("group after deleteSubGroup: code %d, want SUBSCRIPTION_GROUP_NOT_EXIST", code)
		}
	})

	t.Run("deleteTopic", func(t *testing.T) {
		m.ok(t, "updateTopic", "-b", b.addr, "-t", "MqaDoomed", "-r", "1", "-w", "1")
		waitRoute(t, b, "MqaDoomed", 1)
		out := m.ok(t, "deleteTopic", "-c", cluster, "-t", "MqaDoomed")
		if out != "delete topic [MqaDoomed] from cluster ["+cluster+"] success.\ndelete topic [MqaDoomed] from NameServer success.\n" {
			t.Fatalf("deleteTopic: %q", out)
		}
		_, stderr, code := m.run(t, "topicRoute", "-t", "MqaDoomed")
		if code != 1 || !strings.HasPrefix(stderr, "mqadmin: topicRoute: topic MqaDoomed: TOPIC_NOT_EXIST (17)") {
			t.Fatalf("route after deleteTopic: exit %d, stderr %q", code, stderr)
		}
		if hasOutputLine(m.ok(t, "topicList"), "MqaDoomed") {
			t.Fatal("topicList still lists the deleted topic")
		}
		if brokerHasTopic(t, b, "MqaDoomed") {
			t.Fatal("the broker still has the deleted topic")
		}
	})
}

// brokerHasTopic asks the broker for the topic's config (GET_TOPIC_CONFIG).
func brokerHasTopic(t *testing.T, b *broker, topic string) bool {
	t.Helper()
	resp, err := rawInvoke(b.addr, rawRequest{code: 351, ext: map[string]string{"topic": topic}})
	if err != nil {
		t.Fatal(err)
	}
	return resp.code == 0
}

// storedOffsetCodes asks QUERY_CONSUMER_OFFSET for each queue with
// setZeroIfNotFound=false, so a missing offset answers QUERY_NOT_FOUND
// instead of 0, and returns the response codes.
func storedOffsetCodes(t *testing.T, b *broker, group, topic string, queues int) []int {
	t.Helper()
	var codes []int
	for q := 0; q < queues; q++ {
		resp, err := rawInvoke(b.addr, rawRequest{code: 14, ext: map[string]string{
			"consumerGroup": group, "topic": topic, "queueId": strconv.Itoa(q), "setZeroIfNotFound": "false"}})
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, resp.code)
	}
	return codes
}

// testMqadminConsumers covers the group commands with a real Go consumer:
// progress, connections and offset resets, online and offline.
func testMqadminConsumers(t *testing.T, m mqadmin, ns *namesrv, b *broker) {
	const topic, group = "MqaConsume", "MqaGroup"
	m.ok(t, "updateTopic", "-c", "E2ECluster", "-t", topic, "-r", "2", "-w", "2")
	waitRoute(t, b, topic, 2)

	beforeSends := time.Now().Add(-time.Second).UnixMilli()
	bodies := makeBodies("mqa", 6)
	sendSync(t, newProducer(t, ns, "MqaProducer"), topic, bodies, "")

	r := newReceived()
	c := startPushConsumer(t, ns, "mqa", consumerOpts{group: group, topic: topic, fromFirst: true}, r)
	r.waitAll(t, bodies, 20*time.Second)

	t.Run("consumerProgress", func(t *testing.T) {
		// The client commits consumed offsets with its next pull or its
		// periodic persist (every 5 s).
		caughtUp := func(out string) bool { return strings.Contains(out, "\nDiff Total: 0\n") }
		out := m.eventually(t, 20*time.Second, caughtUp, "consumerProgress", "-g", group)
		var total int64
		for _, row := range tableRows(t, out, "#Topic") {
			if row[0] != topic {
				continue
			}
			brokerOffset, _ := strconv.ParseInt(row[3], 10, 64)
			total += brokerOffset
			if row[1] != "broker-e2e" || row[3] != row[4] || row[5] != "0" {
				t.Fatalf("row %q", row)
			}
		}
		if total != int64(len(bodies)) {
			t.Fatalf("broker offsets add up to %d, want %d:\n%s", total, len(bodies), out)
		}
		found := false
		for _, row := range tableRows(t, m.ok(t, "consumerProgress"), "#Group") {
			if row[0] == group {
				found = true
				if strings.Join(row, " ") != group+" 1 V4_5_2 PUSH CLUSTERING "+row[5]+" 0" {
					t.Fatalf("group summary %q", row)
				}
			}
		}
		if !found {
			t.Fatal("consumerProgress does not list the group")
		}
	})

	t.Run("consumerConnection", func(t *testing.T) {
		out := m.ok(t, "consumerConnection", "-g", group)
		conns := tableRows(t, out, "#ClientId")
		if len(conns) != 1 || !regexp.MustCompile(`@mqa-[0-9]+$`).MatchString(conns[0][0]) || conns[0][2] != "GO" || conns[0][3] != "V4_5_2" {
			t.Fatalf("connections %q", conns)
		}
		subs := tableRows(t, out, "#Topic")
		if !hasOutputLine(out, fmt.Sprintf("%-20s %s", topic, "*")) || len(subs) != 2 {
			t.Fatalf("subscriptions %q", subs)
		}
		for _, l := range []string{"ConsumeType: CONSUME_PASSIVELY", "MessageModel: CLUSTERING", "ConsumeFromWhere: CONSUME_FROM_FIRST_OFFSET"} {
			if !hasOutputLine(out, l) {
				t.Fatalf("no %q in:\n%s", l, out)
			}
		}

		// -s asks the client, through the broker, which queues it holds.
		// The Go client 2.1.2 often cannot encode its answer (a NaN in its
		// status table) and then answers SUCCESS with only a remark saying
		// so; as in Java, the column says N/A and the failure is one
		// warning. Any other failure (a broken relay) fails the test.
		clientID := conns[0][0]
		want, _, _ := strings.Cut(clientID, "@")
		progress, stderr, code := m.run(t, "consumerProgress", "-g", group, "-s", "true")
		if code != 0 {
			t.Fatalf("consumerProgress -s: exit %d, stderr %q", code, stderr)
		}
		if stderr != "" {
			nan := "mqadmin: warning: client IPs: running info of " + clientID + ": client " + clientID +
				" answered without running info: json marshal error: json: unsupported value: NaN\n"
			if stderr != nan {
				t.Fatalf("consumerProgress -s stderr %q, want none or %q", stderr, nan)
			}
			want = "N/A"
		}
		n := 0
		for _, row := range tableRows(t, progress, "#Topic") {
			if row[0] == topic {
				n++
				if row[5] != want {
					t.Fatalf("client IP of %q, want %s (stderr %q)", row, want, stderr)
				}
			}
		}
		if n != 2 || !strings.Contains(progress, "#Client IP") {
			t.Fatalf("consumerProgress -s:\n%s", progress)
		}
	})

	ts := strconv.FormatInt(beforeSends, 10)
	t.Run("resetOffsetByTime online", func(t *testing.T) {
		out := m.ok(t, "resetOffsetByTime", "-g", group, "-t", topic, "-s", ts)
		first := fmt.Sprintf("rollback consumer offset by specified group[%s], topic[%s], force[true], timestamp(string)[%s], timestamp(long)[%s]", group, topic, ts, ts)
		r0 := tableRows(t, out, "#brokerName")
		if !strings.HasPrefix(out, first+"\n") || len(r0) != 2 || strings.Join(r0[0], " ") != "broker-e2e 0 0" || strings.Join(r0[1], " ") != "broker-e2e 1 0" {
			t.Fatalf("resetOffsetByTime:\n%s", out)
		}
		// The broker pushed the reset to the Go client, which consumes every
		// message again (after its fixed 10 s pause).
		waitFor(t, 30*time.Second, "every message delivered again", func() bool {
			for _, body := range bodies {
				if r.count(body) < 2 {
					return false
				}
			}
			return true
		})
	})

	t.Run("resetOffsetByTime offline", func(t *testing.T) {
		m.eventually(t, 20*time.Second, func(string) bool { return true }, "consumerProgress", "-g", group) // offsets exist
		if err := c.Shutdown(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 15*time.Second, "the group offline", func() bool {
			_, stderr, code := m.run(t, "consumerConnection", "-g", group)
			return code == 1 && strings.Contains(stderr, "CONSUMER_NOT_ONLINE (206)")
		})
		out := m.ok(t, "resetOffsetByTime", "-g", group, "-t", topic, "-s", ts)
		r0 := tableRows(t, out, "#brokerName")
		if !strings.HasPrefix(out, "rollback consumer offset by specified consumerGroup["+group+"]") || len(r0) != 2 {
			t.Fatalf("offline reset:\n%s", out)
		}
		for q, row := range r0 {
			// brokerName, queueId, brokerOffset, consumerOffset, timestampOffset, rollbackOffset
			if row[0] != "broker-e2e" || row[1] != strconv.Itoa(q) || row[2] != row[3] || row[4] != "0" || row[5] != "0" {
				t.Fatalf("row %q", row)
			}
		}
		if got := consumerOffsets(t, b, group, topic, 2); got[0] != 0 || got[1] != 0 {
			t.Fatalf("offsets after the offline reset %v, want [0 0]", got)
		}
	})

	t.Run("deleteSubGroup -c -r true", func(t *testing.T) {
		const cluster = "E2ECluster"
		retry, dlq := "%RETRY%"+group, "%DLQ%"+group
		if got := storedOffsetCodes(t, b, group, topic, 2); !slices.Equal(got, []int{0, 0}) {
			t.Fatalf("QUERY_CONSUMER_OFFSET before the deletion answers %v, want stored offsets", got)
		}
		out := m.ok(t, "deleteSubGroup", "-c", cluster, "-g", group, "-r", "true")
		want := "delete subscription group [" + group + "] from broker [" + b.addr + "] in cluster [" + cluster + "] success.\n" +
			"delete topic [" + retry + "] from cluster [" + cluster + "] success.\n" +
			"delete topic [" + retry + "] from NameServer success.\n" +
			"delete topic [" + dlq + "] from cluster [" + cluster + "] success.\n" +
			"delete topic [" + dlq + "] from NameServer success.\n"
		if out != want {
			t.Fatalf("deleteSubGroup:\n%s\nwant\n%s", out, want)
		}
		if got := storedOffsetCodes(t, b, group, topic, 2); !slices.Equal(got, []int{22, 22}) {
			t.Fatalf("QUERY_CONSUMER_OFFSET after deleteSubGroup -r true answers %v, want QUERY_NOT_FOUND (22) for each queue", got)
		}
		if brokerHasTopic(t, b, retry) {
			t.Fatalf("the broker still has %s", retry)
		}
		if hasOutputLine(m.ok(t, "topicList"), retry) {
			t.Fatalf("the name server still lists %s", retry)
		}
	})
}

// TestMqadminErrors checks that failures are one line on stderr with exit
// 1, and usage errors exit 2.
func TestMqadminErrors(t *testing.T) {
	ns := startNamesrv(t)
	m := mqadmin{ns: ns.addr}

	stdout, stderr, code := m.run(t, "topicRoute", "-t", "NoSuchTopic")
	if code != 1 || stdout != "" ||
		stderr != "mqadmin: topicRoute: topic NoSuchTopic: TOPIC_NOT_EXIST (17): No topic route info in name server for the topic: NoSuchTopic\n" {
		t.Fatalf("unknown topic: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	dead := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	stdout, stderr, code = runBinary(t, "mqadmin", "clusterList", "-n", dead)
	if code != 1 || stdout != "" || stderr != "mqadmin: clusterList: connect to name server "+dead+": connection refused\n" {
		t.Fatalf("unreachable name server: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	_, stderr, code = m.run(t, "queryMsgByKey", "-t", "T")
	if code != 2 || !strings.Contains(stderr, `required flag(s) "msgKey" not set`) {
		t.Fatalf("missing flag: exit %d, stderr %q", code, stderr)
	}
}
