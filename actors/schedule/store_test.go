package schedule

import (
	"testing"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/queue"
	"github.com/actormq/actormq/actors/writer"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/rs/zerolog"
)

type noTopics struct{}

func (noTopics) Topic(string) (body.TopicConfig, bool) { return body.TopicConfig{}, false }

type noSubscriptions struct{}

func (noSubscriptions) Subscription(string, string) (body.SubscriptionData, bool) {
	return body.SubscriptionData{}, false
}

// TestDeliversThroughRealStore runs the levels over a real store, queue
// registry and writer: a message diverted and Put while its level is idle
// (watching its queue) lands in its real queue at its delivery time.
func TestDeliversThroughRealStore(t *testing.T) {
	dir := t.TempDir()
	cfg := config.DefaultBroker()
	cfg.StorePathRootDir, cfg.BrokerIP1, cfg.ListenPort = dir, "127.0.0.1", 10911
	cfg.MessageDelayLevel = "1s 2s"
	levels := cfg.DelayLevels()
	st, err := store.Open(store.Config{RootDir: dir, CommitLogFileSize: 1 << 20, CQFileSize: 20 * 1000,
		CheckCRCOnRecover: true, DelayLevels: levels})
	if err != nil {
		t.Fatal(err)
	}
	sys := testkit.ActorSystem(t)
	qr, err := queue.Spawn(sys, queue.Config{Broker: cfg, Store: st, Topics: noTopics{}, Subscriptions: noSubscriptions{}, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	w, err := writer.Spawn(sys, writer.Config{Broker: cfg, Store: st, Dispatcher: qr, LogicsTimestamp: qr.FlushedTimestamp, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Spawn(sys, Config{Broker: cfg, Queues: qr, Records: st.CommitLog, Writer: w, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The broker's order: the levels Put, so they stop before the writer.
		ctx := testkit.Context(t)
		for _, err := range []error{s.Stop(ctx), w.Stop(ctx), qr.Stop(ctx), st.Close()} {
			if err != nil {
				t.Errorf("stop: %v", err)
			}
		}
	})

	m := message.Message{
		Topic: "RealTopic", QueueID: 1, Body: []byte("payload"), BornHost: bornHost,
		Properties: message.FormatProperties(map[string]string{message.PropertyDelay: "1", message.PropertyTags: "TagA"}),
	}
	deliverAt, ok := Divert(&m, levels, time.Now().UnixMilli())
	if !ok {
		t.Fatal("not diverted")
	}
	res := make(chan writer.PutResult, 1)
	w.Put(&m, deliverAt, false, func(r writer.PutResult) { res <- r })
	if r := testkit.Receive(t, res, "put"); r.Err != nil {
		t.Fatal(r.Err)
	}
	real := store.QueueKey{Topic: "RealTopic", QueueID: 1}
	testkit.Eventually(t, "delivery to RealTopic/1", func() bool { return qr.MaxOffset(real.Topic, real.QueueID) == 1 })
	units, err := qr.ReadUnits(real, 0, make([]consumequeue.Unit, 0, 1))
	if err != nil || len(units) != 1 {
		t.Fatalf("ReadUnits: %v %v", units, err)
	}
	got, err := st.CommitLog.ReadMessage(units[0].CommitLogOffset)
	if err != nil {
		t.Fatal(err)
	}
	if got.StoreTimestamp < deliverAt {
		t.Errorf("delivered %d ms early", deliverAt-got.StoreTimestamp)
	}
	if string(got.Body) != "payload" || units[0].TagsCode != message.TagsHashCode("TagA") {
		t.Errorf("delivered %+v with tagsCode %d", got, units[0].TagsCode)
	}
	if v, _ := message.PropertyValue(got.Properties, message.PropertyDelay); v != "" {
		t.Errorf("delivered with DELAY=%s", v)
	}
	// The level commits its offset when the writer's answer reaches it,
	// which may be after the queue already shows the delivery.
	waitOffsets(t, s, map[int32]int64{1: 1, 2: 0})
}
