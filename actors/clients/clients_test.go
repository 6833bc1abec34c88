package clients

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
)

func TestHeartbeatRegistersSubscriptions(t *testing.T) {
	f := newFixture(t, testBroker(t.TempDir()))
	c := f.client("10.0.0.1@100")

	// The Go client's captured form: codeSet as strings, subVersion in ns.
	raw := `{"clientID":"10.0.0.1@100","producerDataSet":[{"groupName":"PG1"}],"consumerDataSet":[{"groupName":"CG1",` +
		`"consumeType":"CONSUME_PASSIVELY","messageModel":"CLUSTERING","consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","unitMode":false,` +
		`"subscriptionDataSet":[{"classFilterMode":false,"topic":"T1","subString":"TagA || TagB","tagsSet":["TagA","TagB"],` +
		`"codeSet":["2598919","2598920"],"subVersion":1795237318589569934,"expressionType":"TAG"}]}]}`
	resp := c.invoke(remoting.NewRequest(remoting.ReqHeartBeat, nil, []byte(raw)))
	if resp.Code != remoting.RespSuccess {
		t.Fatalf("heartbeat: %d %s", resp.Code, resp.Remark)
	}
	// Applied before the answer: group, retry topic, subscription, model.
	if _, ok := f.meta.Group("CG1"); !ok {
		t.Error("group CG1 not auto-created before the heartbeat answer")
	}
	if tc, ok := f.meta.Topic("%RETRY%CG1"); !ok || tc.WriteQueueNums != 1 || tc.Perm != 6 {
		t.Errorf("retry topic = %+v, %v", tc, ok)
	}
	s, ok := f.mgr.Subscription("CG1", "T1")
	if !ok || !reflect.DeepEqual(s.CodeSet, []int32{2598919, 2598920}) || s.SubVersion != 1795237318589569934 ||
		s.SubString != "TagA || TagB" || !reflect.DeepEqual(s.TagsSet, []string{"TagA", "TagB"}) {
		t.Fatalf("Subscription = %+v, %v", s, ok)
	}
	if m, ok := f.mgr.MessageModel("CG1"); !ok || m != Clustering {
		t.Errorf("MessageModel = %q, %v", m, ok)
	}
	if got := consumerIDs(t, c.consumerList("CG1")); !reflect.DeepEqual(got, []string{"10.0.0.1@100"}) {
		t.Errorf("consumer ids %v", got)
	}

	// A bad body is a SYSTEM_ERROR, not a crash.
	if resp := c.invoke(remoting.NewRequest(remoting.ReqHeartBeat, nil, []byte("{"))); resp.Code != remoting.RespSystemError {
		t.Errorf("bad heartbeat body: code %d", resp.Code)
	}
}

func TestSubscriptionTableRules(t *testing.T) {
	f := newFixture(t, testBroker(t.TempDir()))
	c := f.client("c@1")

	steps := []struct {
		name   string
		subs   []body.SubscriptionData
		want   map[string]string // topic → subString afterwards
		notify bool              // NOTIFY expected for this heartbeat
	}{
		{"first", []body.SubscriptionData{sub("T1", "A", 100)}, map[string]string{"T1": "A"}, true},
		{"older version ignored", []body.SubscriptionData{sub("T1", "B", 50)}, map[string]string{"T1": "A"}, false},
		{"same version ignored", []body.SubscriptionData{sub("T1", "B", 100)}, map[string]string{"T1": "A"}, false},
		{"newer version replaces", []body.SubscriptionData{sub("T1", "C", 200)}, map[string]string{"T1": "C"}, false},
		{"absent topic removed, new inserted", []body.SubscriptionData{sub("T2", "*", 1)}, map[string]string{"T2": "*"}, true},
	}
	for _, st := range steps {
		before := len(c.notifications())
		if resp := c.heartbeat("G", Clustering, st.subs); resp.Code != remoting.RespSuccess {
			t.Fatalf("%s: heartbeat %d %s", st.name, resp.Code, resp.Remark)
		}
		for _, topic := range []string{"T1", "T2"} {
			s, ok := f.mgr.Subscription("G", topic)
			want, wantOK := st.want[topic]
			if ok != wantOK || s.SubString != want {
				t.Errorf("%s: Subscription(G, %s) = %q, %v; want %q, %v", st.name, topic, s.SubString, ok, want, wantOK)
			}
		}
		// The notify (if any) is written before the heartbeat answer on the
		// same connection, so it has arrived by now, modulo the client's
		// goroutine per request.
		if st.notify {
			testkit.Eventually(t, st.name+" notify", func() bool { return len(c.notifications()) == before+1 })
		} else if err := f.mgr.sync(testkit.Timeout); err != nil || len(c.notifications()) != before {
			t.Errorf("%s: unexpected notify (%v)", st.name, c.notifications())
		}
	}
	// The check above cannot see a notify still on its way; the final count
	// can, once the connection is closed.
	want := 0
	for _, st := range steps {
		if st.notify {
			want++
		}
	}
	closeAll(t, c)
	if got := c.notifications(); len(got) != want {
		t.Errorf("%d notifications in all (%v), want %d", len(got), got, want)
	}
}

func TestConsumerListSortedAndCloseNotifies(t *testing.T) {
	f := newFixture(t, testBroker(t.TempDir()))
	b := f.client("10.0.0.2@200")
	a := f.client("10.0.0.1@100")
	subs := []body.SubscriptionData{sub("T1", "*", 1)}
	b.heartbeat("G", Clustering, subs)
	a.heartbeat("G", Clustering, subs)

	if got := consumerIDs(t, a.consumerList("G")); !reflect.DeepEqual(got, []string{"10.0.0.1@100", "10.0.0.2@200"}) {
		t.Fatalf("consumer ids %v, want sorted", got)
	}
	// b was notified of its own join and of a's; a of its own join.
	testkit.Eventually(t, "join notifications", func() bool { return len(a.notifications()) == 1 && len(b.notifications()) == 2 })

	// The Go client closes without UNREGISTER_CLIENT: the close must remove
	// it and tell the survivor at once.
	if err := b.cli.Close(); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "notify after close", func() bool { return len(a.notifications()) == 2 })
	if got := a.notifications(); got[1] != "G" {
		t.Errorf("notified group %q", got[1])
	}
	if got := consumerIDs(t, a.consumerList("G")); !reflect.DeepEqual(got, []string{"10.0.0.1@100"}) {
		t.Fatalf("consumer ids after close %v", got)
	}

	// The last member leaving removes the group and its subscriptions.
	resp := a.invoke(remoting.NewRequest(remoting.ReqUnregisterClient,
		map[string]string{"clientID": a.id, "consumerGroup": "G"}, nil))
	if resp.Code != remoting.RespSuccess {
		t.Fatalf("UNREGISTER_CLIENT: %d", resp.Code)
	}
	resp = a.consumerList("G")
	if resp.Code != remoting.RespSystemError || resp.Remark != "no consumer for this group, G" {
		t.Fatalf("empty group: code %d remark %q", resp.Code, resp.Remark)
	}
	if _, ok := f.mgr.Subscription("G", "T1"); ok {
		t.Error("subscription outlived the group")
	}
	if _, ok := f.mgr.MessageModel("G"); ok {
		t.Error("message model outlived the group")
	}
}

func TestUnregisterNotifiesRemaining(t *testing.T) {
	f := newFixture(t, testBroker(t.TempDir()))
	a, b := f.client("a@1"), f.client("b@2")
	subs := []body.SubscriptionData{sub("T1", "*", 1)}
	a.heartbeat("G", Clustering, subs)
	b.heartbeat("G", Clustering, subs)
	testkit.Eventually(t, "join notifications", func() bool { return len(a.notifications()) == 2 })

	resp := b.invoke(remoting.NewRequest(remoting.ReqUnregisterClient,
		map[string]string{"clientID": b.id, "consumerGroup": "G", "producerGroup": "P"}, nil))
	if resp.Code != remoting.RespSuccess {
		t.Fatalf("UNREGISTER_CLIENT: %d", resp.Code)
	}
	testkit.Eventually(t, "notify after unregister", func() bool { return len(a.notifications()) == 3 })
	if got := consumerIDs(t, a.consumerList("G")); !reflect.DeepEqual(got, []string{"a@1"}) {
		t.Fatalf("consumer ids %v", got)
	}
	if resp := b.invoke(remoting.NewRequest(remoting.ReqUnregisterClient, nil, nil)); resp.Code != remoting.RespSystemError {
		t.Errorf("UNREGISTER_CLIENT without clientID: code %d", resp.Code)
	}
}

func TestBroadcastingAndDisabledNotify(t *testing.T) {
	cfg := testBroker(t.TempDir())
	f := newFixture(t, cfg)
	a, b := f.client("a@1"), f.client("b@2")
	subs := []body.SubscriptionData{sub("T1", "*", 1)}
	a.heartbeat("BG", Broadcasting, subs)
	b.heartbeat("BG", Broadcasting, subs)
	if m, _ := f.mgr.MessageModel("BG"); m != Broadcasting {
		t.Fatalf("model %q", m)
	}
	if err := b.cli.Close(); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "close processed", func() bool { return len(consumerIDs(t, a.consumerList("BG"))) == 1 })
	closeAll(t, a)
	if n := len(a.notifications()) + len(b.notifications()); n != 0 {
		t.Errorf("%d notifications for a broadcasting group", n)
	}

	cfg.NotifyConsumerIDsChanged = false
	expectNoNotifications(t, newFixture(t, cfg), "notifyConsumerIdsChangedEnable=false")
}

// expectNoNotifications has two consumers join a clustering group of f and
// leave, and checks that neither was notified (why: the reason).
func expectNoNotifications(t *testing.T, f *fixture, why string) {
	t.Helper()
	a, b := f.client("a@1"), f.client("b@2")
	subs := []body.SubscriptionData{sub("T1", "*", 1)}
	a.heartbeat("G", Clustering, subs)
	b.heartbeat("G", Clustering, subs)
	// Both joined (so a notify was due), and a's answer follows any notify
	// written to a for b's join.
	if got := consumerIDs(t, a.consumerList("G")); !reflect.DeepEqual(got, []string{"a@1", "b@2"}) {
		t.Fatalf("consumer ids %v", got)
	}
	closeAll(t, a, b)
	if n := len(a.notifications()) + len(b.notifications()); n != 0 {
		t.Errorf("%d notifications with %s", n, why)
	}
}

func TestUnknownGroupSkippedWhenAutoCreateOff(t *testing.T) {
	cfg := testBroker(t.TempDir())
	cfg.AutoCreateSubscriptionGroup = false
	f := newFixture(t, cfg)
	c := f.client("c@1")
	if resp := c.heartbeat("G", Clustering, []body.SubscriptionData{sub("T1", "*", 1)}, "PG"); resp.Code != remoting.RespSuccess {
		t.Fatalf("heartbeat: %d %s", resp.Code, resp.Remark)
	}
	if _, ok := f.mgr.Subscription("G", "T1"); ok {
		t.Error("unknown group registered although auto-create is off")
	}
	if resp := c.consumerList("G"); resp.Code != remoting.RespSystemError {
		t.Errorf("consumer list: code %d", resp.Code)
	}
	if _, ok := f.meta.Topic("%RETRY%G"); ok {
		t.Error("retry topic created for a skipped group")
	}
}

func TestChannelExpiry(t *testing.T) {
	f := newFixture(t, testBroker(t.TempDir()))
	a, b := f.client("a@1"), f.client("b@2")
	subs := []body.SubscriptionData{sub("T1", "*", 1)}
	a.heartbeat("G", Clustering, subs)
	f.now.Add(100 * time.Second)
	b.heartbeat("G", Clustering, subs, "PG")
	testkit.Eventually(t, "join notifications", func() bool { return len(b.notifications()) == 1 })

	f.now.Add(30 * time.Second) // a is 130 s old, b 30 s
	f.mgr.system.Root.Send(f.mgr.pid, &expiryTick{})
	if err := f.mgr.sync(testkit.Timeout); err != nil {
		t.Fatal(err)
	}
	if got := consumerIDs(t, b.consumerList("G")); !reflect.DeepEqual(got, []string{"b@2"}) {
		t.Fatalf("consumer ids after expiry %v", got)
	}
	testkit.Eventually(t, "notify after expiry", func() bool { return len(b.notifications()) == 2 })

	// A client that comes back (on a new connection) rejoins.
	a2 := f.client("a@1")
	a2.heartbeat("G", Clustering, subs)
	if got := consumerIDs(t, a2.consumerList("G")); !reflect.DeepEqual(got, []string{"a@1", "b@2"}) {
		t.Fatalf("consumer ids after a came back %v", got)
	}
}

func TestConsumerConnectionList(t *testing.T) {
	f := newFixture(t, testBroker(t.TempDir()))
	c := f.client("c@1")
	resp := c.invoke(remoting.NewRequest(remoting.ReqGetConsumerConnectionList, map[string]string{"consumerGroup": "G"}, nil))
	if resp.Code != remoting.RespConsumerNotOnline {
		t.Fatalf("offline group: code %d", resp.Code)
	}
	c.heartbeat("G", Clustering, []body.SubscriptionData{sub("T1", "TagA", 7)})
	resp = c.invoke(remoting.NewRequest(remoting.ReqGetConsumerConnectionList, map[string]string{"consumerGroup": "G"}, nil))
	if resp.Code != remoting.RespSuccess {
		t.Fatalf("code %d %s", resp.Code, resp.Remark)
	}
	var cc body.ConsumerConnection
	if err := json.Unmarshal(resp.Body, &cc); err != nil {
		t.Fatal(err)
	}
	if len(cc.ConnectionSet) != 1 || cc.ConnectionSet[0].ClientID != "c@1" || cc.ConnectionSet[0].Language != "GO" ||
		cc.ConnectionSet[0].ClientAddr == "" || cc.MessageModel != Clustering || cc.ConsumeType != "CONSUME_PASSIVELY" ||
		cc.SubscriptionTable["T1"].SubString != "TagA" {
		t.Fatalf("ConsumerConnection = %s", resp.Body)
	}
	if cc.ConsumeFromWhere != "CONSUME_FROM_LAST_OFFSET" {
		t.Errorf("consumeFromWhere %q", cc.ConsumeFromWhere)
	}
}
