package main

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/actormq/actormq/cmd/mqadmin/internal/admin"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
)

func TestVersionDesc(t *testing.T) {
	for ordinal, want := range map[int32]string{
		0: "V3_0_0_SNAPSHOT", 15: "V3_0_0_FINAL", 16: "V3_0_1_SNAPSHOT", 28: "V3_0_7_SNAPSHOT", 37: "V3_0_11",
		121: "V3_4_9", 213: "V4_0_0", 317: "V4_5_2", 355: "V4_7_1", 401: "V4_9_4", 409: "V4_9_8",
		413: "V5_0_0", 479: "V5_3_3", 611: "V5_9_9", 612: "HIGHER_VERSION", 9999: "HIGHER_VERSION",
	} {
		if got := versionDesc(ordinal); got != want {
			t.Errorf("versionDesc(%d) = %s, want %s", ordinal, got, want)
		}
	}
}

func TestJavaRenderings(t *testing.T) {
	tests := []struct{ name, got, want string }{
		{"perm RW", permString(6), "RW-"},
		{"perm inherit", permString(7), "RWX"},
		{"perm write only", permString(2), "-W-"},
		{"signed bytes", javaBytes([]byte{104, 0, 255, 128}), "[104, 0, -1, -128]"},
		{"empty bytes", javaBytes(nil), "[]"},
		{"map", javaMap(map[string]string{"b": "2", "a": "1"}), "{a=1, b=2}"},
		{"front string cuts", frontString("abcdef", 4), "abcd"},
		{"front string keeps", frontString("ab", 4), "ab"},
		{"socket addr", socketAddr(netip.MustParseAddrPort("127.0.0.1:10911")), "/127.0.0.1:10911"},
		{"mapped v4", hostPort(netip.AddrPortFrom(netip.MustParseAddr("::ffff:10.0.0.1"), 80)), "10.0.0.1:80"},
		{"order conf merge", mergeOrderConf("b:4;a:8", "b:16"), "a:8;b:16"},
		{"order conf new", mergeOrderConf("", "a:8"), "a:8"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	if ms, err := parseTimestamp("1700000000123"); err != nil || ms != 1700000000123 {
		t.Fatalf("millis: %d, %v", ms, err)
	}
	want := time.Date(2024, 3, 5, 14, 7, 9, 45e6, time.Local).UnixMilli()
	if ms, err := parseTimestamp("2024-03-05#14:07:09:045"); err != nil || ms != want {
		t.Fatalf("date form: %d, %v; want %d", ms, err, want)
	}
	if _, err := parseTimestamp("yesterday"); err == nil {
		t.Fatal("a bad timestamp parsed")
	}
}

// pad left-aligns s in n columns, as Java's %-ns does.
func pad(s string, n int) string { return s + strings.Repeat(" ", max(n-len(s), 0)) }

// TestTables prints each report from fixed input and compares the whole
// output with the layout of Java's tool, byte for byte.
func TestTables(t *testing.T) {
	route := &body.TopicRouteData{
		QueueDatas: []body.QueueData{{BrokerName: "broker-b", ReadQueueNums: 2, WriteQueueNums: 2, Perm: 6},
			{BrokerName: "broker-a", ReadQueueNums: 4, WriteQueueNums: 4, Perm: 6}},
		BrokerDatas: []body.BrokerData{{Cluster: "C", BrokerName: "broker-b", BrokerAddrs: map[int64]string{1: "10.0.0.3:10911", 0: "10.0.0.2:10911"}},
			{Cluster: "C", BrokerName: "broker-a", BrokerAddrs: map[int64]string{0: "10.0.0.1:10911"}}},
	}
	ts := time.Date(2024, 1, 2, 3, 4, 5, 6e6, time.Local).UnixMilli()
	q0, q1 := body.MessageQueue{Topic: "T", BrokerName: "b", QueueID: 0}, body.MessageQueue{Topic: "T", BrokerName: "b", QueueID: 1}
	cs := body.ConsumeStats{ConsumeTps: 2.5, OffsetTable: map[body.MessageQueue]body.OffsetWrapper{
		q1: {BrokerOffset: 10, ConsumerOffset: 4, LastTimestamp: ts},
		q0: {BrokerOffset: 3, ConsumerOffset: 3},
	}}
	progressRow := func(qid, bo, co, diff, last string) string {
		return pad("T", 64) + "  " + pad("b", 32) + "  " + pad(qid, 4) + "  " + pad(bo, 20) + "  " + pad(co, 20) + "  " + pad(diff, 20) + "  " + last + "\n"
	}
	progressIPRow := func(qid, bo, co, ip, diff, last string) string {
		return pad("T", 64) + "  " + pad("b", 32) + "  " + pad(qid, 4) + "  " + pad(bo, 20) + "  " + pad(co, 20) + "  " + pad(ip, 20) + " " + pad(diff, 20) + "  " + last + "\n"
	}
	cc := &body.ConsumerConnection{
		ConnectionSet: []body.Connection{{ClientID: "10.0.0.2@2", ClientAddr: "10.0.0.2:5001", Language: "GO", Version: 317},
			{ClientID: "10.0.0.1@1", ClientAddr: "10.0.0.1:5000", Language: "JAVA", Version: 401}},
		SubscriptionTable: map[string]body.SubscriptionData{"T": {Topic: "T", SubString: "A || B"}, "%RETRY%G": {Topic: "%RETRY%G", SubString: "*"}},
		ConsumeType:       "CONSUME_PASSIVELY", MessageModel: "CLUSTERING", ConsumeFromWhere: "CONSUME_FROM_LAST_OFFSET",
	}
	brokers := []brokerRow{{cluster: "C", brokerName: "b", id: 0, addr: "127.0.0.1:10911"}, {cluster: "C", brokerName: "b", id: 1, addr: "127.0.0.1:10921"}}
	runtime := []map[string]string{{
		"brokerVersionDesc": "V4_9_4", "putTps": "12.5 10.0 9.0", "getTransferedTps": "3.25 1 1",
		"sendThreadPoolQueueSize": "0", "sendThreadPoolQueueHeadWaitTimeMills": "1",
		"pullThreadPoolQueueSize": "2", "pullThreadPoolQueueHeadWaitTimeMills": "3",
		"pageCacheLockTimeMills": "0", "earliestMessageTimeStamp": "0", "commitLogDiskRatio": "0.25",
	}, nil}
	m := testMessage()

	tests := []struct {
		name  string
		print func(w io.Writer)
		want  string
	}{
		{
			name:  "topicRoute -l",
			print: func(w io.Writer) { printRouteList(w, route) },
			want: "" +
				"#ClusterName                                  #BrokerName                      #BrokerAddrs                                       #ReadQueue #WriteQueue #Perm\n" +
				"C                                             broker-a                         {0=10.0.0.1:10911}                                 4          4           6    \n" +
				"C                                             broker-b                         {0=10.0.0.2:10911, 1=10.0.0.3:10911}               2          2           6    \n" +
				strings.Repeat("-", 158) + "\n" +
				"Total:                                        2                                                                                   6          6                \n",
		},
		{
			name: "topicRoute JSON: keys sorted, tab indented",
			print: func(w io.Writer) {
				// An error shows in the output, which then differs.
				if err := printRouteJSON(w, &body.TopicRouteData{
					QueueDatas:  []body.QueueData{{BrokerName: "a", ReadQueueNums: 4, WriteQueueNums: 4, Perm: 6}},
					BrokerDatas: []body.BrokerData{{Cluster: "C", BrokerName: "a", BrokerAddrs: map[int64]string{0: "1.1.1.1:1"}}},
				}); err != nil {
					fmt.Fprintf(w, "error: %v", err)
				}
			},
			want: "{\n\t\"brokerDatas\": [\n\t\t{\n\t\t\t\"brokerAddrs\": {\n\t\t\t\t\"0\": \"1.1.1.1:1\"\n\t\t\t},\n\t\t\t\"brokerName\": \"a\",\n" +
				"\t\t\t\"cluster\": \"C\"\n\t\t}\n\t],\n\t\"filterServerTable\": {},\n\t\"queueDatas\": [\n\t\t{\n\t\t\t\"brokerName\": \"a\",\n" +
				"\t\t\t\"perm\": 6,\n\t\t\t\"readQueueNums\": 4,\n\t\t\t\"topicSysFlag\": 0,\n\t\t\t\"writeQueueNums\": 4\n\t\t}\n\t]\n}\n",
		},
		{
			name: "topicStatus",
			print: func(w io.Writer) {
				printTopicStatus(w, map[body.MessageQueue]body.TopicOffset{q1: {MinOffset: 0, MaxOffset: 7, LastUpdateTimestamp: ts}, q0: {}})
			},
			want: "" +
				"#Broker Name                      #QID  #Min Offset           #Max Offset             #Last Updated\n" +
				"b                                 0     0                     0                       \n" +
				"b                                 1     0                     7                       2024-01-02 03:04:05,006\n",
		},
		{
			name:  "consumerProgress -g",
			print: func(w io.Writer) { printGroupProgress(w, cs, nil) },
			want: pad("#Topic", 64) + "  " + pad("#Broker Name", 32) + "  #QID  " + pad("#Broker Offset", 20) + "  " + pad("#Consumer Offset", 20) + "  " + pad("#Diff", 20) + "  #LastTime\n" +
				progressRow("0", "3", "3", "0", "N/A") + progressRow("1", "10", "4", "6", "2024-01-02 03:04:05") +
				"\nConsume TPS: 2.50\nDiff Total: 6\n",
		},
		{
			name: "consumerProgress -g -s true",
			print: func(w io.Writer) {
				printGroupProgress(w, cs, map[body.MessageQueue]string{q1: "10.0.0.9"})
			},
			want: pad("#Topic", 64) + "  " + pad("#Broker Name", 32) + "  #QID  " + pad("#Broker Offset", 20) + "  " + pad("#Consumer Offset", 20) + "  " + pad("#Client IP", 20) + " " + pad("#Diff", 20) + "  #LastTime\n" +
				progressIPRow("0", "3", "3", "N/A", "0", "N/A") + progressIPRow("1", "10", "4", "10.0.0.9", "6", "2024-01-02 03:04:05") +
				"\nConsume TPS: 2.50\nDiff Total: 6\n",
		},
		{
			name: "consumerProgress without -g",
			print: func(w io.Writer) {
				printGroupSummaries(w, []groupSummary{
					{group: "G1", count: 2, version: 317, model: "CLUSTERING", tps: 3, diffTotal: 5},
					{group: "G2", count: 1, version: 401, pull: true},
					{group: "G3"},
				})
			},
			want: "" +
				"#Group                                                            #Count  #Version                 #Type  #Model          #TPS     #Diff Total\n" +
				"G1                                                                2       V4_5_2                   PUSH   CLUSTERING      3        5\n" +
				"G2                                                                1       V4_9_4                   PULL                   0        0\n" +
				"G3                                                                0       OFFLINE                                         0        0\n",
		},
		{
			name:  "consumerConnection",
			print: func(w io.Writer) { printConsumerConnection(w, cc) },
			want: "" +
				"#ClientId                            #ClientAddr            #Language  #Version\n" +
				"10.0.0.1@1                           10.0.0.1:5000          JAVA       V4_9_4\n" +
				"10.0.0.2@2                           10.0.0.2:5001          GO         V4_5_2\n" +
				"\nBelow is subscription:\n" +
				"#Topic               #SubExpression\n" +
				"%RETRY%G             *\n" +
				"T                    A || B\n" +
				"\nConsumeType: CONSUME_PASSIVELY\nMessageModel: CLUSTERING\nConsumeFromWhere: CONSUME_FROM_LAST_OFFSET\n",
		},
		{
			name: "clusterList",
			print: func(w io.Writer) {
				printClusterBaseInfo(w, brokers, runtime, time.UnixMilli(10*3600*1000))
			},
			want: "" +
				"#Cluster Name     #Broker Name            #BID  #Addr                  #Version                #InTPS(LOAD)       #OutTPS(LOAD) #PCWait(ms) #Hour #SPACE\n" +
				"C                 b                       0     127.0.0.1:10911        V4_9_4                  12.50(0,1ms)         3.25(2,3ms)          0  0.00 0.2500\n" +
				"C                 b                       1     127.0.0.1:10921                                   0.00(,ms)           0.00(,ms)             0.00 0.0000\n",
		},
		{
			name:  "queryMsgById detail",
			print: func(w io.Writer) { printMessageDetail(w, m, "/tmp/x", true) },
			want: "" +
				"OffsetID:            7F00000100002A9F0000000000000064\n" +
				"Topic:               T\n" +
				"Tags:                [A]\n" +
				"Keys:                [null]\n" +
				"Queue ID:            1\n" +
				"Queue Offset:        3\n" +
				"CommitLog Offset:    100\n" +
				"Reconsume Times:     0\n" +
				"Born Timestamp:      " + humanTime2(m.BornTimestamp) + "\n" +
				"Store Timestamp:     " + humanTime2(m.StoreTimestamp) + "\n" +
				"Born Host:           127.0.0.1:5000\n" +
				"Store Host:          127.0.0.1:10911\n" +
				"System Flag:         0\n" +
				"Properties:          {TAGS=A, UNIQ_KEY=U1}\n" +
				"Message Body Path:   /tmp/x\n" +
				"Message Body:        hi\n",
		},
		{
			name: "resetOffsetByTime, group online",
			print: func(w io.Writer) {
				printResetOffsets(w, "G", "T", true, "now", -1, map[body.MessageQueue]int64{q1: 9, q0: 5})
			},
			want: "rollback consumer offset by specified group[G], topic[T], force[true], timestamp(string)[now], timestamp(long)[-1]\n" +
				pad("#brokerName", 40) + "  " + pad("#queueId", 40) + "  " + pad("#offset", 40) + "\n" +
				pad("b", 40) + "  " + pad("0", 40) + "  " + pad("5", 40) + "\n" +
				pad("b", 40) + "  " + pad("1", 40) + "  " + pad("9", 40) + "\n",
		},
		{
			name: "resetOffsetByTime, group offline",
			print: func(w io.Writer) {
				printRollbackStats(w, "G", "T", false, "1", 1, []admin.RollbackStats{{Queue: q0, BrokerOffset: 8, ConsumerOffset: 2, TimestampOffset: 4, RollbackOffset: 2}})
			},
			want: "rollback consumer offset by specified consumerGroup[G], topic[T], force[false], timestamp(string)[1], timestamp(long)[1]\n" +
				pad("#brokerName", 20) + "  " + pad("#queueId", 20) + "  " + pad("#brokerOffset", 20) + "  " + pad("#consumerOffset", 20) + "  " + pad("#timestampOffset", 20) + "  " + pad("#rollbackOffset", 20) + "\n" +
				pad("b", 20) + "  " + pad("0", 20) + "  " + pad("8", 20) + "  " + pad("2", 20) + "  " + pad("4", 20) + "  " + pad("2", 20) + "\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			tc.print(&b)
			if b.String() != tc.want {
				t.Fatalf("got\n%q\nwant\n%q", b.String(), tc.want)
			}
		})
	}
}

func testMessage() *admin.Message {
	m := &admin.Message{BrokerName: "b", OffsetMsgID: "7F00000100002A9F0000000000000064"}
	m.Topic, m.QueueID, m.QueueOffset, m.PhysicalOffset = "T", 1, 3, 100
	m.TotalSize, m.BodyCRC, m.SysFlag, m.Flag = 180, 3055489385, 0, 0
	m.BornTimestamp, m.StoreTimestamp = 1700000000000, 1700000000001
	m.BornHost, m.StoreHost = netip.MustParseAddrPort("127.0.0.1:5000"), netip.MustParseAddrPort("127.0.0.1:10911")
	m.Body = []byte("hi")
	m.Props = map[string]string{message.PropertyTags: "A", message.PropertyUniqKey: "U1"}
	return m
}

func TestMessageExtString(t *testing.T) {
	want := "MessageExt [brokerName=b, queueId=1, storeSize=180, queueOffset=3, sysFlag=0, bornTimestamp=1700000000000, " +
		"bornHost=/127.0.0.1:5000, storeTimestamp=1700000000001, storeHost=/127.0.0.1:10911, msgId=7F00000100002A9F0000000000000064, " +
		"commitLogOffset=100, bodyCRC=-1239477911, reconsumeTimes=0, preparedTransactionOffset=0, toString()=Message{topic='T', flag=0, " +
		"properties={TAGS=A, UNIQ_KEY=U1}, body=[104, 105], transactionId='null'}]"
	if got := messageExtString(testMessage()); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}
