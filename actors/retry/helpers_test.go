package retry_test

import (
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/meta"
	"github.com/actormq/actormq/actors/queue"
	"github.com/actormq/actormq/actors/retry"
	"github.com/actormq/actormq/actors/writer"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/internal/testkit/netkit"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/rs/zerolog"
)

// testLevels are short delay levels: level n is n seconds.
const testLevels = "1s 2s 3s 4s 5s 6s 7s 8s 9s 10s 11s 12s 13s 14s 15s 16s 17s 18s"

// dispatched records the units the writer hands over, per queue.
type dispatched struct {
	mu    sync.Mutex
	units map[store.QueueKey][]queue.Unit
}

func (d *dispatched) Dispatch(key store.QueueKey, units []queue.Unit) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.units[key] = append(d.units[key], units...)
}

func (d *dispatched) of(key store.QueueKey) []queue.Unit {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]queue.Unit(nil), d.units[key]...)
}

func (d *dispatched) reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	clear(d.units)
}

func (d *dispatched) total() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, u := range d.units {
		n += len(u)
	}
	return n
}

// fixture is a store, the metadata actor, a writer and the retry actor,
// served on 127.0.0.1:0 together with meta's admin handlers.
type fixture struct {
	t      *testing.T
	cfg    config.Broker
	st     *store.Store
	md     *meta.Metadata
	w      *writer.Writer
	svc    *retry.Service
	units  *dispatched
	invoke func(*remoting.Command) *remoting.Command
}

func newFixture(t *testing.T, autoCreateGroup bool) *fixture {
	t.Helper()
	return newFixtureWith(t, autoCreateGroup, nil)
}

// newFixtureWith is newFixture with the retry actor's view of the metadata
// actor wrapped by wrap (nil: the metadata actor itself) and a creation
// deadline of an hour, so that a send-back waiting for a creation would
// show as a timeout.
func newFixtureWith(t *testing.T, autoCreateGroup bool, wrap func(retry.Meta) retry.Meta) *fixture {
	t.Helper()
	dir := t.TempDir()
	cfg := config.DefaultBroker()
	cfg.StorePathRootDir = dir
	cfg.BrokerIP1 = "127.0.0.1"
	cfg.MessageDelayLevel = testLevels
	cfg.AutoCreateSubscriptionGroup = autoCreateGroup
	cfg.BrokerClusterName = "TestCluster"
	f := &fixture{t: t, cfg: cfg, units: &dispatched{units: map[store.QueueKey][]queue.Unit{}}}
	var err error
	if f.st, err = store.Open(store.Config{RootDir: dir, CommitLogFileSize: 1 << 20, CQFileSize: 20 * 1000,
		CheckCRCOnRecover: true, DelayLevels: cfg.DelayLevels()}); err != nil {
		t.Fatal(err)
	}
	sys := testkit.ActorSystem(t)
	if f.md, err = meta.Spawn(sys, meta.Config{Broker: cfg, Logger: zerolog.Nop()}); err != nil {
		t.Fatal(err)
	}
	if f.w, err = writer.Spawn(sys, writer.Config{Broker: cfg, Store: f.st, Dispatcher: f.units,
		LogicsTimestamp: func() int64 { return 0 }}); err != nil {
		t.Fatal(err)
	}
	var md retry.Meta = f.md
	ensureTimeout := time.Duration(0) // the default
	if wrap != nil {
		md, ensureTimeout = wrap(f.md), time.Hour
	}
	if f.svc, err = retry.Spawn(sys, retry.Config{Broker: cfg, Meta: md, Messages: f.st.CommitLog, Writer: f.w,
		EnsureTimeout: ensureTimeout}); err != nil {
		t.Fatal(err)
	}
	handlers := f.svc.Handlers()
	for code, h := range f.md.Handlers() {
		handlers[code] = h
	}
	f.invoke = netkit.Invoker(t, &netkit.Router{Handlers: handlers})
	t.Cleanup(func() {
		ctx := testkit.Context(t)
		if err := f.svc.Stop(ctx); err != nil {
			t.Errorf("retry stop: %v", err)
		}
		if err := f.w.Stop(ctx); err != nil {
			t.Errorf("writer stop: %v", err)
		}
		if err := f.md.Stop(ctx); err != nil {
			t.Errorf("meta stop: %v", err)
		}
		if err := f.st.Close(); err != nil {
			t.Errorf("store close: %v", err)
		}
	})
	return f
}

// put stores m as a producer's message would be and returns it as read
// back from the commit log (store fields filled in).
func (f *fixture) put(m message.Message) message.Message {
	f.t.Helper()
	m.BornHost = netip.MustParseAddrPort("10.0.0.7:50000")
	done := make(chan writer.PutResult, 1)
	tags, _ := message.PropertyValue(m.Properties, message.PropertyTags)
	f.w.Put(&m, message.TagsHashCode(tags), false, func(r writer.PutResult) { done <- r })
	res := testkit.Receive(f.t, done, "put of the original message")
	if res.Err != nil {
		f.t.Fatalf("put: %v", res.Err)
	}
	stored, err := f.st.CommitLog.ReadMessage(res.PhysOffset)
	if err != nil {
		f.t.Fatal(err)
	}
	return stored
}

// sendBack invokes CONSUMER_SEND_MSG_BACK with the Go client's fields;
// maxTimes < 0 leaves maxReconsumeTimes out.
func (f *fixture) sendBack(group string, offset int64, delayLevel, maxTimes int) *remoting.Command {
	f.t.Helper()
	ext := map[string]string{
		"offset": strconv.FormatInt(offset, 10), "group": group, "delayLevel": strconv.Itoa(delayLevel),
		"originMsgId": "ignored-by-the-broker", "originTopic": "TopicA", "unitMode": "false",
	}
	if maxTimes >= 0 {
		ext["maxReconsumeTimes"] = strconv.Itoa(maxTimes)
	}
	return f.invoke(remoting.NewRequest(remoting.ReqConsumerSendMsgBack, ext, nil))
}

// only returns the one record dispatched to key, read from the commit log
// with its unit, failing unless exactly one arrived.
func (f *fixture) only(key store.QueueKey) (message.Message, queue.Unit) {
	f.t.Helper()
	var units []queue.Unit
	testkit.Eventually(f.t, "a record in "+key.Topic, func() bool {
		units = f.units.of(key)
		return len(units) > 0
	})
	if len(units) != 1 {
		f.t.Fatalf("%d records in %v, want 1", len(units), key)
	}
	m, err := f.st.CommitLog.ReadMessage(units[0].PhysOffset)
	if err != nil {
		f.t.Fatal(err)
	}
	return m, units[0]
}

func props(m message.Message) map[string]string { return message.ParseProperties(m.Properties) }

// original is a producer's message on TopicA queue 1.
func original(reconsumeTimes int32, extra map[string]string) message.Message {
	p := map[string]string{
		message.PropertyUniqKey: "C0A80001DEAD00000000681372a80001", message.PropertyTags: "TagA",
		message.PropertyKeys: "k1", message.PropertyCluster: "TestCluster",
	}
	for k, v := range extra {
		p[k] = v
	}
	return message.Message{
		Topic: "TopicA", QueueID: 1, Flag: 7, SysFlag: 0, BornTimestamp: 1700000000123,
		ReconsumeTimes: reconsumeTimes, Body: []byte("payload"), Properties: message.FormatProperties(p),
	}
}

func scheduleKey(level int) store.QueueKey {
	return store.QueueKey{Topic: body.ScheduleTopic, QueueID: int32(level - 1)}
}

// waitTopic waits until the metadata actor has published topic.
func (f *fixture) waitTopic(topic string) body.TopicConfig {
	f.t.Helper()
	var tc body.TopicConfig
	testkit.Eventually(f.t, "topic "+topic, func() bool {
		var ok bool
		tc, ok = f.md.Topic(topic)
		return ok
	})
	return tc
}
