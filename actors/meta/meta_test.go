package meta

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/vfs"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
)

func TestSpawnCreatesSystemTopics(t *testing.T) {
	dir := t.TempDir()
	m := spawnMeta(t, testkit.ActorSystem(t), testBroker(dir), nil)
	defer stopMeta(t, m)

	want := map[string]struct{ queues, perm int32 }{
		body.DefaultTopic:  {8, 7},
		body.SelfTestTopic: {1, 6},
		"DefaultCluster":   {1, 7},
		"broker-a":         {1, 7},

		body.ScheduleTopic:           {18, 6},
		body.TransHalfTopic:          {1, 6},
		body.TransOpHalfTopic:        {1, 6},
		body.OffsetMovedTopic:        {1, 6},
		"DefaultCluster_REPLY_TOPIC": {1, 6},
	}
	for name, w := range want {
		tc, ok := m.Topic(name)
		if !ok {
			t.Fatalf("topic %s missing", name)
		}
		if tc.ReadQueueNums != w.queues || tc.WriteQueueNums != w.queues || tc.Perm != w.perm || tc.TopicFilterType != "SINGLE_TAG" {
			t.Errorf("topic %s = %+v, want queues %d perm %d", name, tc, w.queues, w.perm)
		}
	}
	// The file holds the same table.
	data, err := os.ReadFile(filepath.Join(dir, "config", TopicsFile))
	if err != nil {
		t.Fatal(err)
	}
	var w body.TopicConfigSerializeWrapper
	if err := body.DecodeJSON(data, &w); err != nil {
		t.Fatal(err)
	}
	if len(w.TopicConfigTable) != len(want) || w.DataVersion.Counter != 1 {
		t.Errorf("file table has %d topics, counter %d; want %d, 1", len(w.TopicConfigTable), w.DataVersion.Counter, len(want))
	}
	if _, err := os.Stat(filepath.Join(dir, "config", GroupsFile)); err != nil {
		t.Errorf("groups file not written: %v", err)
	}
}

func TestAutoCreateDisabledRemovesTemplate(t *testing.T) {
	dir := t.TempDir()
	sys := testkit.ActorSystem(t)
	stopMeta(t, spawnMeta(t, sys, testBroker(dir), nil))

	cfg := testBroker(dir)
	cfg.AutoCreateTopicEnable = false
	m := spawnMeta(t, sys, cfg, nil)
	defer stopMeta(t, m)
	if _, ok := m.Topic(body.DefaultTopic); ok {
		t.Fatal("TBW102 kept although autoCreateTopicEnable=false")
	}
	_, err := m.AutoCreateTopic(testkit.Context(t), "T1", body.DefaultTopic, 4)
	if reply.CodeOf(err) != remoting.RespTopicNotExist {
		t.Fatalf("auto-create without template: err %v (code %d), want TOPIC_NOT_EXIST", err, reply.CodeOf(err))
	}
}

func TestAutoCreateTopicRules(t *testing.T) {
	m := spawnMeta(t, testkit.ActorSystem(t), testBroker(t.TempDir()), nil)
	defer stopMeta(t, m)

	tests := []struct {
		name, topic, defaultTopic string
		queueNums                 int32
		wantCode                  int32
		wantQueues, wantPerm      int32
		wantRemark                string
	}{
		{name: "from template", topic: "T4", defaultTopic: body.DefaultTopic, queueNums: 4, wantQueues: 4, wantPerm: 6},
		{name: "capped by template", topic: "T16", defaultTopic: body.DefaultTopic, queueNums: 16, wantQueues: 8, wantPerm: 6},
		{name: "retry topic without template", topic: "%RETRY%G1", defaultTopic: "nope", queueNums: 4, wantQueues: 1, wantPerm: 6},
		{name: "unknown template", topic: "T5", defaultTopic: "nope", queueNums: 4,
			wantCode: remoting.RespTopicNotExist, wantRemark: "topic[T5] not exist, apply first please!"},
		{name: "template without inherit", topic: "T6", defaultTopic: body.SelfTestTopic, queueNums: 4,
			wantCode: remoting.RespTopicNotExist, wantRemark: "topic[T6] not exist, apply first please!"},
		{name: "bad name", topic: "bad topic", defaultTopic: body.DefaultTopic, queueNums: 4, wantCode: remoting.RespInvalidParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc, err := m.AutoCreateTopic(testkit.Context(t), tt.topic, tt.defaultTopic, tt.queueNums)
			if code := reply.CodeOf(err); code != tt.wantCode {
				t.Fatalf("err %v: code %d, want %d", err, code, tt.wantCode)
			}
			if err != nil {
				if tt.wantRemark != "" && err.Error() != tt.wantRemark {
					t.Errorf("remark %q, want %q", err.Error(), tt.wantRemark)
				}
				if _, ok := m.Topic(tt.topic); ok {
					t.Errorf("topic %s exists after a failed auto-create", tt.topic)
				}
				return
			}
			if tc.ReadQueueNums != tt.wantQueues || tc.WriteQueueNums != tt.wantQueues || tc.Perm != tt.wantPerm {
				t.Errorf("created %+v, want queues %d perm %d", tc, tt.wantQueues, tt.wantPerm)
			}
			if got, ok := m.Topic(tt.topic); !ok || got.WriteQueueNums != tt.wantQueues {
				t.Errorf("Topic(%s) = %+v, %v", tt.topic, got, ok)
			}
		})
	}

	// Idempotent: an existing topic is returned as is, without a new version.
	before := m.TopicTable().DataVersion
	tc, err := m.AutoCreateTopic(testkit.Context(t), "T4", body.DefaultTopic, 8)
	if err != nil || tc.WriteQueueNums != 4 {
		t.Fatalf("second auto-create: %+v, %v", tc, err)
	}
	if after := m.TopicTable().DataVersion; after != before {
		t.Errorf("data version changed on an idempotent auto-create: %+v → %+v", before, after)
	}
}

func TestPersistenceRoundTrip(t *testing.T) {
	dir := t.TempDir()
	sys := testkit.ActorSystem(t)
	m := spawnMeta(t, sys, testBroker(dir), nil)
	var changes atomic.Int32
	m.OnTopicsChanged(func() { changes.Add(1) })

	v0 := m.TopicTable().DataVersion.Counter
	tc := body.TopicConfig{TopicName: "Orders", ReadQueueNums: 3, WriteQueueNums: 3, Perm: 6, Order: true}
	if _, err := m.CreateTopic(testkit.Context(t), tc); err != nil {
		t.Fatal(err)
	}
	tc.ReadQueueNums, tc.WriteQueueNums = 5, 5 // update in place
	if _, err := m.CreateTopic(testkit.Context(t), tc); err != nil {
		t.Fatal(err)
	}
	if _, err := m.EnsureGroup(testkit.Context(t), "G1"); err != nil {
		t.Fatal(err)
	}
	if got := changes.Load(); got != 2 {
		t.Errorf("OnTopicsChanged called %d times, want 2", got)
	}
	v2 := m.TopicTable().DataVersion.Counter
	if v2 != v0+2 {
		t.Errorf("counter %d → %d, want +2", v0, v2)
	}
	stopMeta(t, m)

	m2 := spawnMeta(t, sys, testBroker(dir), nil)
	defer stopMeta(t, m2)
	got, ok := m2.Topic("Orders")
	if !ok || got.WriteQueueNums != 5 || got.ReadQueueNums != 5 || !got.Order || got.Perm != 6 {
		t.Fatalf("reloaded topic = %+v, %v", got, ok)
	}
	if c := m2.TopicTable().DataVersion.Counter; c != v2 {
		t.Errorf("reloaded counter %d, want %d", c, v2)
	}
	g, ok := m2.Group("G1")
	if !ok || g.RetryMaxTimes != 16 || !g.ConsumeEnable || g.RetryQueueNums != 1 {
		t.Fatalf("reloaded group = %+v, %v", g, ok)
	}
}

func TestLoadsJavaFormattedFiles(t *testing.T) {
	dir := t.TempDir()
	cfgDir := filepath.Join(dir, "config")
	if err := os.MkdirAll(cfgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// fastjson pretty print as Java writes it: tabs, alphabetical fields.
	topics := "{\n\t\"dataVersion\":{\n\t\t\"counter\":7,\n\t\t\"stateVersion\":0,\n\t\t\"timestamp\":1700000000000\n\t},\n" +
		"\t\"topicConfigTable\":{\n\t\t\"JavaTopic\":{\n\t\t\t\"order\":false,\n\t\t\t\"perm\":6,\n\t\t\t\"readQueueNums\":4,\n" +
		"\t\t\t\"topicFilterType\":\"SINGLE_TAG\",\n\t\t\t\"topicName\":\"JavaTopic\",\n\t\t\t\"topicSysFlag\":0,\n\t\t\t\"writeQueueNums\":4\n\t\t}\n\t}\n}"
	groups := "{\n\t\"dataVersion\":{\n\t\t\"counter\":3,\n\t\t\"stateVersion\":0,\n\t\t\"timestamp\":1700000000000\n\t},\n" +
		"\t\"forbiddenTable\":{},\n\t\"subscriptionGroupTable\":{\n\t\t\"JavaGroup\":{\n\t\t\t\"brokerId\":0,\n\t\t\t\"consumeBroadcastEnable\":true,\n" +
		"\t\t\t\"consumeEnable\":true,\n\t\t\t\"consumeFromMinEnable\":true,\n\t\t\t\"groupName\":\"JavaGroup\",\n\t\t\t\"retryMaxTimes\":5,\n" +
		"\t\t\t\"retryQueueNums\":1,\n\t\t\t\"whichBrokerWhenConsumeSlowly\":1\n\t\t}\n\t}\n}"
	for name, content := range map[string]string{TopicsFile: topics, GroupsFile: groups} {
		if err := os.WriteFile(filepath.Join(cfgDir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := spawnMeta(t, testkit.ActorSystem(t), testBroker(dir), nil)
	defer stopMeta(t, m)
	tc, ok := m.Topic("JavaTopic")
	if !ok || tc.WriteQueueNums != 4 || tc.Attributes == nil {
		t.Fatalf("JavaTopic = %+v, %v", tc, ok)
	}
	// System topics were added, so the version moved on from the file's 7.
	if c := m.TopicTable().DataVersion.Counter; c != 8 {
		t.Errorf("counter %d, want 8", c)
	}
	if g, ok := m.Group("JavaGroup"); !ok || g.RetryMaxTimes != 5 {
		t.Fatalf("JavaGroup = %+v, %v", g, ok)
	}
}

func TestEnsureGroup(t *testing.T) {
	dir := t.TempDir()
	sys := testkit.ActorSystem(t)
	cfg := testBroker(dir)
	cfg.AutoCreateSubscriptionGroup = false
	m := spawnMeta(t, sys, cfg, nil)
	_, err := m.EnsureGroup(testkit.Context(t), "G1")
	if reply.CodeOf(err) != remoting.RespSubscriptionGroupNotExist {
		t.Fatalf("EnsureGroup with auto-create off: %v", err)
	}
	if err := m.PrepareConsumerGroups(testkit.Context(t), []ConsumerGroupSpec{{Group: "G1"}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Topic(body.RetryTopic("G1")); ok {
		t.Error("retry topic created for a group that may not be created")
	}
	stopMeta(t, m)

	m = spawnMeta(t, sys, testBroker(dir), nil)
	defer stopMeta(t, m)
	if err := m.PrepareConsumerGroups(testkit.Context(t), []ConsumerGroupSpec{{Group: "G1"}, {Group: "G2", UnitMode: true}}); err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"G1", "G2"} {
		if _, ok := m.Group(g); !ok {
			t.Errorf("group %s not created", g)
		}
		tc, ok := m.Topic(body.RetryTopic(g))
		if !ok || tc.WriteQueueNums != 1 || tc.Perm != 6 {
			t.Errorf("retry topic of %s = %+v, %v", g, tc, ok)
		}
	}
	if tc, _ := m.Topic(body.RetryTopic("G2")); tc.TopicSysFlag != topicSysFlagUnitSub {
		t.Errorf("unit-mode retry topic sysFlag %d", tc.TopicSysFlag)
	}
}

func TestPersistFailureDropsChange(t *testing.T) {
	fs := &errFS{FS: vfs.Default, substr: TopicsFile}
	m := spawnMeta(t, testkit.ActorSystem(t), testBroker(t.TempDir()), fs)
	defer stopMeta(t, m)
	var changes atomic.Int32
	m.OnTopicsChanged(func() { changes.Add(1) })
	before := m.TopicTable().DataVersion

	fs.armed.Store(true)
	_, err := m.CreateTopic(testkit.Context(t), body.TopicConfig{TopicName: "T1", ReadQueueNums: 1, WriteQueueNums: 1, Perm: 6})
	if !errors.Is(err, ErrPersist) || !errors.Is(err, errInjected) || reply.CodeOf(err) != remoting.RespSystemError {
		t.Fatalf("CreateTopic with failing disk: %v", err)
	}
	if _, ok := m.Topic("T1"); ok {
		t.Error("topic published although it was not persisted")
	}
	if m.TopicTable().DataVersion != before || changes.Load() != 0 {
		t.Error("a dropped change moved the version or notified listeners")
	}
	fs.armed.Store(false)
	if _, err := m.CreateTopic(testkit.Context(t), body.TopicConfig{TopicName: "T1", ReadQueueNums: 1, WriteQueueNums: 1, Perm: 6}); err != nil {
		t.Fatalf("CreateTopic after the disk recovered: %v", err)
	}
}

func TestSpawnFailsOnCorruptFile(t *testing.T) {
	dir := t.TempDir()
	cfgDir := filepath.Join(dir, "config")
	if err := os.MkdirAll(cfgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfgDir, TopicsFile), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Spawn(testkit.ActorSystem(t), Config{Broker: testBroker(dir)})
	if !errors.Is(err, ErrLoad) {
		t.Fatalf("Spawn over a corrupt topics.json: %v, want ErrLoad", err)
	}
}

func TestRestartReloads(t *testing.T) {
	m := spawnMeta(t, testkit.ActorSystem(t), testBroker(t.TempDir()), nil)
	defer stopMeta(t, m)
	var calls atomic.Int32
	m.OnTopicsChanged(func() {
		if calls.Add(1) == 1 {
			panic("broken invariant in a listener")
		}
	})

	// The listener's panic restarts the actor after T1 was persisted and
	// published; the request itself is never answered.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := m.CreateTopic(ctx, body.TopicConfig{TopicName: "T1", ReadQueueNums: 2, WriteQueueNums: 2, Perm: 6}); !errors.Is(err, ErrTimeout) {
		t.Fatalf("CreateTopic with a panicking listener: %v", err)
	}
	if tc, err := m.CreateTopic(testkit.Context(t), body.TopicConfig{TopicName: "T2", ReadQueueNums: 1, WriteQueueNums: 1, Perm: 6}); err != nil || tc.TopicName != "T2" {
		t.Fatalf("CreateTopic after restart: %+v, %v", tc, err)
	}
	for _, name := range []string{"T1", "T2", body.DefaultTopic} {
		if _, ok := m.Topic(name); !ok {
			t.Errorf("topic %s missing after restart", name)
		}
	}
}
