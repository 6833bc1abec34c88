package clients

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
)

func TestProducerConnectionsAndAdminLookups(t *testing.T) {
	cfg := testBroker(t.TempDir())
	f := newFixture(t, cfg)
	a, b := f.client("10.0.0.1@a"), f.client("10.0.0.2@b")
	a.heartbeat("CG", Clustering, []body.SubscriptionData{sub("T", "*", 1), sub("U", "x", 1)}, "PG")
	b.heartbeat("", "", nil, "PG", "PG2")

	resp := a.invoke(remoting.NewRequest(remoting.ReqGetProducerConnectionList, map[string]string{"producerGroup": "PG"}, nil))
	var pc ProducerConnection
	if err := json.Unmarshal(resp.Body, &pc); err != nil || resp.Code != 0 {
		t.Fatalf("GET_PRODUCER_CONNECTION_LIST %d %s: %v", resp.Code, resp.Body, err)
	}
	if len(pc.ConnectionSet) != 2 || pc.ConnectionSet[0].ClientID != "10.0.0.1@a" || pc.ConnectionSet[1].ClientID != "10.0.0.2@b" ||
		pc.ConnectionSet[0].Language != "GO" || pc.ConnectionSet[0].Version != remoting.Version ||
		!strings.HasPrefix(pc.ConnectionSet[0].ClientAddr, "127.0.0.1:") {
		t.Fatalf("connection set %s", resp.Body)
	}
	resp = a.invoke(remoting.NewRequest(remoting.ReqGetProducerConnectionList, map[string]string{"producerGroup": "None"}, nil))
	if resp.Code != remoting.RespSystemError || resp.Remark != "the producer group[None] not exist" {
		t.Fatalf("unknown producer group: %d %q", resp.Code, resp.Remark)
	}

	ctx := testkit.Context(t)
	ch, ok := f.mgr.ProducerChannel("10.0.0.2@b")
	if !ok || ch.ClientID != "10.0.0.2@b" || ch.Conn == nil {
		t.Fatalf("ProducerChannel = %+v %v", ch, ok)
	}
	if _, ok := f.mgr.ProducerChannel("10.0.0.1@gone"); ok {
		t.Fatal("ProducerChannel found an unknown client")
	}
	chs, err := f.mgr.ConsumerChannels(ctx, "CG")
	if err != nil || len(chs) != 1 || chs[0].ClientID != "10.0.0.1@a" || chs[0].Version != remoting.Version {
		t.Fatalf("ConsumerChannels = %+v %v", chs, err)
	}
	if chs, _ := f.mgr.ConsumerChannels(ctx, "None"); len(chs) != 0 {
		t.Fatalf("ConsumerChannels of an unknown group = %+v", chs)
	}
	if got := fmt.Sprint(f.mgr.SubscribedTopics("CG"), f.mgr.GroupsSubscribing("U"), f.mgr.GroupsSubscribing("V")); got != "[T U] [CG] []" {
		t.Fatalf("SubscribedTopics/GroupsSubscribing = %s", got)
	}

	// The producer channel goes with the connection.
	if err := b.cli.Close(); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "b's close processed", func() bool {
		_, ok := f.mgr.ProducerChannel("10.0.0.2@b")
		return !ok
	})
}

func TestApplyRuntimeConfigStopsNotifications(t *testing.T) {
	f := newFixture(t, testBroker(t.TempDir()))
	cfg := testBroker("")
	cfg.NotifyConsumerIDsChanged = false
	if err := f.mgr.ApplyRuntimeConfig(testkit.Context(t), cfg); err != nil {
		t.Fatal(err)
	}
	expectNoNotifications(t, f, "notifyConsumerIdsChangedEnable=false applied")
}
