package meta

import (
	"encoding/json"
	"testing"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/internal/testkit/netkit"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
)

func TestHandlers(t *testing.T) {
	m := spawnMeta(t, testkit.ActorSystem(t), testBroker(t.TempDir()), nil)
	defer stopMeta(t, m)
	invoke := netkit.Invoker(t, &netkit.Router{Handlers: m.Handlers()})

	createTopic := func(topic, perm string) *remoting.Command {
		return remoting.NewRequest(remoting.ReqUpdateAndCreateTopic, map[string]string{
			"topic": topic, "defaultTopic": "TBW102", "readQueueNums": "4", "writeQueueNums": "4",
			"perm": perm, "topicFilterType": "SINGLE_TAG", "topicSysFlag": "0", "order": "false",
		}, nil)
	}
	tests := []struct {
		name     string
		cmd      *remoting.Command
		wantCode int32
	}{
		{"create topic", createTopic("Orders", "6"), remoting.RespSuccess},
		{"illegal topic name", createTopic("bad/topic", "6"), remoting.RespInvalidParameter},
		{"blank topic name", createTopic(" ", "6"), remoting.RespInvalidParameter},
		{"system topic", createTopic(body.DefaultTopic, "7"), remoting.RespInvalidParameter},
		{"bad perm", createTopic("P", "9"), remoting.RespInvalidParameter},
		{"missing perm", remoting.NewRequest(remoting.ReqUpdateAndCreateTopic,
			map[string]string{"topic": "X", "readQueueNums": "1", "writeQueueNums": "1"}, nil), remoting.RespSystemError},
		{"unknown topic config", remoting.NewRequest(remoting.ReqGetTopicConfig, map[string]string{"topic": "nope"}, nil),
			remoting.RespTopicNotExist},
		{"unknown group config", remoting.NewRequest(remoting.ReqGetSubscriptionGroupConfig, map[string]string{"group": "nope"}, nil),
			remoting.RespSubscriptionGroupNotExist},
		{"group config without body", remoting.NewRequest(remoting.ReqUpdateAndCreateSubscription, nil, nil),
			remoting.RespInvalidParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if resp := invoke(tt.cmd); resp.Code != tt.wantCode {
				t.Fatalf("code %d (%s), want %d", resp.Code, resp.Remark, tt.wantCode)
			}
		})
	}
	if _, ok := m.Topic("bad/topic"); ok {
		t.Error("invalid topic was created")
	}

	// GET_TOPIC_CONFIG returns what UPDATE_AND_CREATE_TOPIC stored.
	resp := invoke(remoting.NewRequest(remoting.ReqGetTopicConfig, map[string]string{"topic": "Orders"}, nil))
	var tc body.TopicConfig
	if err := json.Unmarshal(resp.Body, &tc); err != nil || tc.TopicName != "Orders" || tc.WriteQueueNums != 4 || tc.Perm != 6 {
		t.Fatalf("GET_TOPIC_CONFIG = %s (%v)", resp.Body, err)
	}

	// GET_ALL_TOPIC_CONFIG carries the table and its version.
	resp = invoke(remoting.NewRequest(remoting.ReqGetAllTopicConfig, nil, nil))
	var tw body.TopicConfigSerializeWrapper
	if err := json.Unmarshal(resp.Body, &tw); err != nil {
		t.Fatal(err)
	}
	if _, ok := tw.TopicConfigTable["Orders"]; !ok || tw.DataVersion != m.TopicTable().DataVersion {
		t.Fatalf("GET_ALL_TOPIC_CONFIG = %s", resp.Body)
	}

	// UPDATE_AND_CREATE_SUBSCRIPTIONGROUP: omitted fields keep Java's defaults.
	resp = invoke(remoting.NewRequest(remoting.ReqUpdateAndCreateSubscription, nil,
		[]byte(`{"groupName":"G1","retryMaxTimes":3,"consumeBroadcastEnable":false}`)))
	if resp.Code != remoting.RespSuccess {
		t.Fatalf("UPDATE_AND_CREATE_SUBSCRIPTIONGROUP: %d %s", resp.Code, resp.Remark)
	}
	resp = invoke(remoting.NewRequest(remoting.ReqGetSubscriptionGroupConfig, map[string]string{"group": "G1"}, nil))
	var g body.SubscriptionGroupConfig
	if err := json.Unmarshal(resp.Body, &g); err != nil {
		t.Fatal(err)
	}
	if g.RetryMaxTimes != 3 || g.ConsumeBroadcastEnable || !g.ConsumeEnable || g.RetryQueueNums != 1 {
		t.Fatalf("GET_SUBSCRIPTIONGROUP_CONFIG = %s", resp.Body)
	}

	// GET_ALL_SUBSCRIPTIONGROUP_CONFIG is standard JSON (the Go admin uses encoding/json).
	resp = invoke(remoting.NewRequest(remoting.ReqGetAllSubscriptionGroupConfig, nil, nil))
	var gw struct {
		SubscriptionGroupTable map[string]body.SubscriptionGroupConfig
		DataVersion            struct {
			Timestamp int64
			Counter   int32
		}
	}
	if err := json.Unmarshal(resp.Body, &gw); err != nil {
		t.Fatalf("GET_ALL_SUBSCRIPTIONGROUP_CONFIG not standard JSON: %v: %s", err, resp.Body)
	}
	if gw.SubscriptionGroupTable["G1"].RetryMaxTimes != 3 || gw.DataVersion.Counter != 1 {
		t.Fatalf("GET_ALL_SUBSCRIPTIONGROUP_CONFIG = %s", resp.Body)
	}
}
