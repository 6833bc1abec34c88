package body

import (
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"strings"
	"testing"
)

func TestEncodeRouteDataGolden(t *testing.T) {
	r := &TopicRouteData{
		QueueDatas: []QueueData{
			{BrokerName: "broker-b", ReadQueueNums: 2, WriteQueueNums: 2, Perm: 6},
			{BrokerName: "broker-a", ReadQueueNums: 4, WriteQueueNums: 4, Perm: 6, TopicSysFlag: 1},
		},
		BrokerDatas: []BrokerData{
			{Cluster: "DefaultCluster", BrokerName: "broker-b", BrokerAddrs: map[int64]string{0: "10.0.0.2:10911"}},
			{Cluster: "DefaultCluster", BrokerName: "broker-a", BrokerAddrs: map[int64]string{
				10: "10.0.0.9:10911", 2: "10.0.0.3:10911", 0: "10.0.0.1:10911", 1: "10.0.0.4:10911"}},
		},
	}
	want := `{"queueDatas":[` +
		`{"brokerName":"broker-a","readQueueNums":4,"writeQueueNums":4,"perm":6,"topicSysFlag":1},` +
		`{"brokerName":"broker-b","readQueueNums":2,"writeQueueNums":2,"perm":6,"topicSysFlag":0}],` +
		`"brokerDatas":[` +
		`{"cluster":"DefaultCluster","brokerName":"broker-a","brokerAddrs":{"0":"10.0.0.1:10911","1":"10.0.0.4:10911","2":"10.0.0.3:10911","10":"10.0.0.9:10911"}},` +
		`{"cluster":"DefaultCluster","brokerName":"broker-b","brokerAddrs":{"0":"10.0.0.2:10911"}}],` +
		`"filterServerTable":{}}`
	got := string(EncodeRouteData(r))
	if got != want {
		t.Fatalf("EncodeRouteData\n got %s\nwant %s", got, want)
	}
	// The input is not reordered.
	if r.QueueDatas[0].BrokerName != "broker-b" || r.BrokerDatas[0].BrokerName != "broker-b" {
		t.Fatalf("input slices were sorted in place")
	}
	// json.Marshal and EncodeJSON go through the same encoder.
	if m, _ := json.Marshal(r); string(m) != want {
		t.Fatalf("json.Marshal differs: %s", m)
	}
	if e := string(EncodeJSON(r)); e != want {
		t.Fatalf("EncodeJSON differs: %s", e)
	}
	// And it decodes back to the same data.
	var back TopicRouteData
	if err := DecodeJSON([]byte(got), &back); err != nil {
		t.Fatalf("DecodeJSON: %v", err)
	}
	if len(back.BrokerDatas) != 2 || !maps.Equal(back.BrokerDatas[0].BrokerAddrs, r.BrokerDatas[1].BrokerAddrs) {
		t.Fatalf("decoded %+v", back)
	}
}

func TestEncodeRouteDataEdges(t *testing.T) {
	tests := []struct {
		name string
		in   TopicRouteData
		want string
	}{
		{name: "empty", in: TopicRouteData{}, want: `{"queueDatas":[],"brokerDatas":[],"filterServerTable":{}}`},
		{
			name: "nil brokerAddrs, order conf, filter servers, escaping",
			in: TopicRouteData{
				OrderTopicConf:    "broker-a:4;broker-b:4",
				BrokerDatas:       []BrokerData{{Cluster: "c\"1", BrokerName: "b\\<1>\n\f"}},
				FilterServerTable: map[string][]string{"z:1": nil, "a:1": {"f1", "f2"}},
			},
			want: `{"orderTopicConf":"broker-a:4;broker-b:4","queueDatas":[],` +
				`"brokerDatas":[{"cluster":"c\"1","brokerName":"b\\<1>\n\f","brokerAddrs":{}}],` +
				`"filterServerTable":{"a:1":["f1","f2"],"z:1":[]}}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := string(EncodeRouteData(&tc.in))
			if got != tc.want {
				t.Fatalf("\n got %s\nwant %s", got, tc.want)
			}
			if !json.Valid([]byte(got)) {
				t.Fatalf("invalid JSON")
			}
		})
	}
}

// TestEncodeRouteDataGoClientSurgery replays the Go 2.1.2 client's raw
// brokerAddrs parsing (client-quirks A2.8) on our output.
func TestEncodeRouteDataGoClientSurgery(t *testing.T) {
	r := &TopicRouteData{BrokerDatas: []BrokerData{{Cluster: "c", BrokerName: "b",
		BrokerAddrs: map[int64]string{0: "127.0.0.1:10911", 1: "127.0.0.1:10921"}}}}
	out := string(EncodeRouteData(r))
	const marker = `"brokerAddrs":`
	i := strings.Index(out, marker) + len(marker)
	raw := out[i : i+strings.IndexByte(out[i:], '}')+1]
	got := map[string]string{}
	for _, piece := range strings.Split(raw[1:len(raw)-1], ",") {
		k, v, _ := strings.Cut(piece, ":")
		got[strings.ReplaceAll(k, `"`, "")] = strings.ReplaceAll(v, `"`, "")
	}
	want := map[string]string{"0": "127.0.0.1:10911", "1": "127.0.0.1:10921"}
	if !maps.Equal(got, want) {
		t.Fatalf("Go client would read %q", got)
	}
}

func TestEncodeJSONPresence(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{name: "TopicList", in: TopicList{}, want: `{"topicList":[]}`},
		{name: "TopicList with broker", in: &TopicList{TopicList: []string{"a<b"}, BrokerAddr: "1.2.3.4:5"}, want: `{"topicList":["a<b"],"brokerAddr":"1.2.3.4:5"}`},
		{name: "KVTable", in: KVTable{}, want: `{"table":{}}`},
		{name: "ConsumerIDList", in: ConsumerIDList{}, want: `{"consumerIdList":[]}`},
		{name: "ClusterInfo", in: ClusterInfo{}, want: `{"brokerAddrTable":{},"clusterAddrTable":{}}`},
		{
			name: "ClusterInfo with broker",
			in: ClusterInfo{
				BrokerAddrTable:  map[string]BrokerData{"b": {Cluster: "c", BrokerName: "b", BrokerAddrs: map[int64]string{0: "x:1"}}},
				ClusterAddrTable: map[string][]string{"c": {"b"}},
			},
			want: `{"brokerAddrTable":{"b":{"cluster":"c","brokerName":"b","brokerAddrs":{"0":"x:1"}}},"clusterAddrTable":{"c":["b"]}}`,
		},
		{
			name: "TopicConfig",
			in:   TopicConfig{TopicName: "T", ReadQueueNums: 4, WriteQueueNums: 4, Perm: 6, TopicFilterType: "SINGLE_TAG"},
			want: `{"topicName":"T","readQueueNums":4,"writeQueueNums":4,"perm":6,"topicFilterType":"SINGLE_TAG","topicSysFlag":0,"order":false,"attributes":{}}`,
		},
		{name: "RegisterBrokerBody", in: RegisterBrokerBody{}, want: `{"topicConfigSerializeWrapper":{"topicConfigTable":{},"dataVersion":{"stateVersion":0,"timestamp":0,"counter":0}},"filterServerList":[]}`},
		{name: "ConsumerOffsetWrapper", in: ConsumerOffsetWrapper{OffsetTable: map[string]map[int32]int64{"t@g": {1: 9, 0: 12}}}, want: `{"offsetTable":{"t@g":{"0":12,"1":9}},"dataVersion":{"stateVersion":0,"timestamp":0,"counter":0}}`},
		{name: "SubscriptionGroupWrapper", in: SubscriptionGroupWrapper{}, want: `{"subscriptionGroupTable":{},"forbiddenTable":{},"dataVersion":{"stateVersion":0,"timestamp":0,"counter":0}}`},
		{name: "HeartbeatData", in: HeartbeatData{ClientID: "c", ConsumerDataSet: []ConsumerData{{GroupName: "g", SubscriptionDataSet: []SubscriptionData{{Topic: "t", SubString: "*"}}}}},
			want: `{"clientID":"c","producerDataSet":[],"consumerDataSet":[{"groupName":"g","consumeType":"","messageModel":"","consumeFromWhere":"","subscriptionDataSet":[{"classFilterMode":false,"topic":"t","subString":"*","tagsSet":[],"codeSet":[],"subVersion":0,"expressionType":""}],"unitMode":false}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := string(EncodeJSON(tc.in))
			if got != tc.want {
				t.Fatalf("\n got %s\nwant %s", got, tc.want)
			}
		})
	}
	if EncodeJSON(make(chan int)) != nil {
		t.Fatalf("unmarshalable value should give nil")
	}
}

func TestDecodeJSONFastjson(t *testing.T) {
	// consumerOffset.json as Java writes it: pretty printed with tabs,
	// fields sorted, integer keys unquoted.
	offsets := "{\n\t\"dataVersion\":{\n\t\t\"counter\":3,\n\t\t\"stateVersion\":0,\n\t\t\"timestamp\":1700000000000\n\t},\n" +
		"\t\"offsetTable\":{\n\t\t\"T1@CG1\":{0:12,1:9,2:0,3:-1\n\t\t},\n\t\t\"%RETRY%CG1@CG1\":{0:5}\n\t}\n}"
	var w ConsumerOffsetWrapper
	if err := DecodeJSON([]byte(offsets), &w); err != nil {
		t.Fatalf("DecodeJSON offsets: %v", err)
	}
	want := map[string]map[int32]int64{"T1@CG1": {0: 12, 1: 9, 2: 0, 3: -1}, "%RETRY%CG1@CG1": {0: 5}}
	if !reflect.DeepEqual(w.OffsetTable, want) || w.DataVersion.Counter != 3 || w.DataVersion.Timestamp != 1700000000000 {
		t.Fatalf("offsets = %+v", w)
	}

	// A route as a Java namesrv sends it to old clients.
	route := `{"brokerDatas":[{"brokerAddrs":{0:"10.0.0.1:10911",1:"10.0.0.2:10911"},"brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false}],` +
		`"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}`
	var r TopicRouteData
	if err := DecodeJSON([]byte(route), &r); err != nil {
		t.Fatalf("DecodeJSON route: %v", err)
	}
	wantRoute := TopicRouteData{
		QueueDatas:        []QueueData{{BrokerName: "broker-a", ReadQueueNums: 4, WriteQueueNums: 4, Perm: 6}},
		BrokerDatas:       []BrokerData{{Cluster: "DefaultCluster", BrokerName: "broker-a", BrokerAddrs: map[int64]string{0: "10.0.0.1:10911", 1: "10.0.0.2:10911"}}},
		FilterServerTable: map[string][]string{},
	}
	if !reflect.DeepEqual(r, wantRoute) {
		t.Fatalf("route = %+v", r)
	}
}

func TestQuoteBareKeys(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "plain", in: `{0:"a",1:"b"}`, want: `{"0":"a","1":"b"}`},
		{name: "negative and spaces", in: "{ -1 : 2 ,\n 10:3}", want: "{ \"-1\" : 2 ,\n \"10\":3}"},
		{name: "nested", in: `{"o":{"t@g":{0:12,1:9}}}`, want: `{"o":{"t@g":{"0":12,"1":9}}}`},
		{name: "array values untouched", in: `{"a":[1,2,{3:4}],5:6}`, want: `{"a":[1,2,{"3":4}],"5":6}`},
		{name: "inside strings untouched", in: `{"k":"{0:1,2:3}","e":"\"{4:5}"}`, want: `{"k":"{0:1,2:3}","e":"\"{4:5}"}`},
		{name: "standard unchanged", in: `{"0":"a"}`, want: `{"0":"a"}`},
		{name: "number value not a key", in: `{"a":1,"b":2}`, want: `{"a":1,"b":2}`},
		{name: "lone minus left alone", in: `{-:1}`, want: `{-:1}`},
		{name: "no colon left alone", in: `{1}`, want: `{1}`},
		{name: "unbalanced", in: `]]}{1:`, want: `]]}{"1":`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(quoteBareKeys([]byte(tc.in))); got != tc.want {
				t.Fatalf("quoteBareKeys(%s) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
	std := []byte(`{"a":{"0":1}}`)
	if got := quoteBareKeys(std); &got[0] != &std[0] {
		t.Fatalf("standard JSON was copied")
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	var r TopicRouteData
	for _, in := range []string{``, `{`, `{0:}`, `[1,2]`, `{"queueDatas":{}}`} {
		if err := DecodeJSON([]byte(in), &r); !errors.Is(err, ErrJSON) {
			t.Errorf("DecodeJSON(%q) err = %v", in, err)
		}
	}
}
