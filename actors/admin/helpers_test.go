package admin

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/actormq/actormq/actors/clients"
	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/queue"
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/internal/testkit/netkit"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/storage/vfs"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/rs/zerolog"
)

// calls records the order of the calls the fakes get.
type calls struct {
	mu  sync.Mutex
	log []string
}

func (c *calls) add(format string, args ...any) {
	c.mu.Lock()
	c.log = append(c.log, fmt.Sprintf(format, args...))
	c.mu.Unlock()
}

func (c *calls) reset() {
	c.mu.Lock()
	c.log = nil
	c.mu.Unlock()
}

func (c *calls) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.log, " ")
}

type fakeMeta struct {
	c         *calls
	topics    map[string]body.TopicConfig
	mu        sync.Mutex
	deleteErr error
}

func (m *fakeMeta) Topic(name string) (body.TopicConfig, bool) {
	tc, ok := m.topics[name]
	return tc, ok
}
func (m *fakeMeta) DeleteTopic(_ context.Context, topic string) (bool, error) {
	m.c.add("meta.DeleteTopic(%s)", topic)
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.deleteErr == nil, m.deleteErr
}
func (m *fakeMeta) failDeletes(err error) {
	m.mu.Lock()
	m.deleteErr = err
	m.mu.Unlock()
}
func (m *fakeMeta) DeleteGroup(_ context.Context, group string) (bool, error) {
	m.c.add("meta.DeleteGroup(%s)", group)
	return true, nil
}

// fakeClients keeps consumer connections registered by code 34 requests
// (ext consumerGroup, clientId, version).
type fakeClients struct {
	c          *calls
	mu         sync.Mutex
	channels   map[string][]clients.Channel
	subscribed map[string][]string
	groupsOf   map[string][]string
	applied    []config.Broker
}

func (f *fakeClients) ConsumerChannels(_ context.Context, group string) ([]clients.Channel, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]clients.Channel(nil), f.channels[group]...), nil
}
func (f *fakeClients) appliedConfigs() []config.Broker {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]config.Broker(nil), f.applied...)
}

func (f *fakeClients) SubscribedTopics(group string) []string  { return f.subscribed[group] }
func (f *fakeClients) GroupsSubscribing(topic string) []string { return f.groupsOf[topic] }
func (f *fakeClients) ApplyRuntimeConfig(_ context.Context, cfg config.Broker) error {
	f.mu.Lock()
	f.applied = append(f.applied, cfg)
	f.mu.Unlock()
	return nil
}

type offKey struct {
	group, topic string
	q            int32
}

type fakeOffsets struct {
	c    *calls
	mu   sync.Mutex
	offs map[offKey]int64
}

func (f *fakeOffsets) put(k offKey, v int64) {
	f.mu.Lock()
	f.offs[k] = v
	f.mu.Unlock()
}

func (f *fakeOffsets) Offset(group, topic string, q int32) (int64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.offs[offKey{group, topic, q}]
	return v, ok
}
func (f *fakeOffsets) TopicsOf(group string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for k := range f.offs {
		if k.group == group && !seen[k.topic] {
			seen[k.topic] = true
			out = append(out, k.topic)
		}
	}
	return out
}
func (f *fakeOffsets) GroupsOf(topic string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for k := range f.offs {
		if k.topic == topic && !seen[k.group] {
			seen[k.group] = true
			out = append(out, k.group)
		}
	}
	return out
}
func (f *fakeOffsets) CleanTopic(_ context.Context, topic string) error {
	f.c.add("offsets.CleanTopic(%s)", topic)
	return nil
}
func (f *fakeOffsets) CleanGroup(_ context.Context, group string) error {
	f.c.add("offsets.CleanGroup(%s)", group)
	return nil
}
func (f *fakeOffsets) Set(_ context.Context, group, topic string, offsets map[int32]int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for q, o := range offsets {
		f.offs[offKey{group, topic, q}] = o
	}
	f.c.add("offsets.Set(%s,%s,%v)", group, topic, offsets)
	return nil
}

type fakeQueues struct {
	c        *calls
	min, max map[store.QueueKey]int64
	times    map[store.QueueKey][]int64 // store time by queue offset
}

func (f *fakeQueues) MinOffset(topic string, q int32) int64 {
	return f.min[store.QueueKey{Topic: topic, QueueID: q}]
}
func (f *fakeQueues) ServedMaxOffset(topic string, q int32) int64 {
	return f.max[store.QueueKey{Topic: topic, QueueID: q}]
}
func (f *fakeQueues) StoreTime(topic string, q int32, off int64) (int64, bool) {
	ts := f.times[store.QueueKey{Topic: topic, QueueID: q}]
	if off < 0 || off >= int64(len(ts)) {
		return 0, false
	}
	return ts[off], true
}
func (f *fakeQueues) SearchOffset(topic string, q int32, at int64) int64 {
	k := store.QueueKey{Topic: topic, QueueID: q}
	for off, t := range f.times[k] {
		if t >= at {
			return int64(off)
		}
	}
	return f.max[k]
}
func (f *fakeQueues) DeleteTopic(_ context.Context, topic string) (int, error) {
	f.c.add("queues.DeleteTopic(%s)", topic)
	return 2, nil
}

type fakeCounters struct {
	mu         sync.Mutex
	puts, gets int64
	groups     map[queue.GroupTopic]int64
}

func (f *fakeCounters) Puts() int64 { f.mu.Lock(); defer f.mu.Unlock(); return f.puts }
func (f *fakeCounters) Gets() int64 { f.mu.Lock(); defer f.mu.Unlock(); return f.gets }
func (f *fakeCounters) GroupGets(fn func(queue.GroupTopic, int64)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, v := range f.groups {
		fn(k, v)
	}
}
func (f *fakeCounters) GroupGet(k queue.GroupTopic) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.groups[k]
}

type fakeWriter struct{ c *calls }

func (w fakeWriter) ForgetTopic(_ context.Context, topic string) error {
	w.c.add("writer.ForgetTopic(%s)", topic)
	return nil
}

type fakeSends struct{}

func (fakeSends) Inflight() int64    { return 2 }
func (fakeSends) InflightMax() int64 { return 20000 }

// failFS fails the writes of files whose name contains substr while armed.
type failFS struct {
	vfs.FS
	substr string
	armed  atomic.Bool
}

func (f *failFS) OpenFile(name string, flag int, perm os.FileMode) (vfs.File, error) {
	if f.armed.Load() && flag&os.O_WRONLY != 0 && strings.Contains(name, f.substr) {
		return nil, fmt.Errorf("injected failure writing %s", name)
	}
	return f.FS.OpenFile(name, flag, perm)
}

// fixture is an admin actor with fake owners behind a real server. A
// request with code 34 registers the sending connection as a consumer of
// ext consumerGroup with ext clientId and version.
type fixture struct {
	t       *testing.T
	a       *Admin
	calls   *calls
	meta    *fakeMeta
	clients *fakeClients
	offsets *fakeOffsets
	queues  *fakeQueues
	counts  *fakeCounters
	fs      *failFS
	dir     string
	addr    string
	cli     *netio.Client
}

// newFixture builds the fixture; setup fills the fakes before the actor
// starts (later changes go through the fakes' locked methods).
func newFixture(t *testing.T, tune func(*Config), setup func(*fixture)) *fixture {
	t.Helper()
	c := &calls{}
	dir := t.TempDir()
	st, err := store.Open(store.Config{RootDir: dir, CommitLogFileSize: 1 << 16, CQFileSize: 200})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	f := &fixture{
		t: t, calls: c, dir: dir,
		meta:    &fakeMeta{c: c, topics: map[string]body.TopicConfig{}},
		clients: &fakeClients{c: c, channels: map[string][]clients.Channel{}, subscribed: map[string][]string{}, groupsOf: map[string][]string{}},
		offsets: &fakeOffsets{c: c, offs: map[offKey]int64{}},
		queues:  &fakeQueues{c: c, min: map[store.QueueKey]int64{}, max: map[store.QueueKey]int64{}, times: map[store.QueueKey][]int64{}},
		counts:  &fakeCounters{groups: map[queue.GroupTopic]int64{}},
		fs:      &failFS{FS: vfs.Default, substr: "broker.properties"},
	}
	b := config.DefaultBroker()
	b.BrokerName, b.StorePathRootDir, b.StorePathCommitLog = "broker-a", dir, dir+"/commitlog"
	cfg := Config{
		Broker: b, Meta: f.meta, Clients: f.clients, Offsets: f.offsets, Queues: f.queues, Counters: f.counts,
		Writer: fakeWriter{c: c}, Sends: fakeSends{}, Store: st, FS: f.fs, Logger: zerolog.Nop(),
	}
	if tune != nil {
		tune(&cfg)
	}
	if setup != nil {
		setup(f)
	}
	f.a, err = Spawn(testkit.ActorSystem(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.a.Stop(context.Background()) })
	handlers := f.a.Handlers()
	handlers[remoting.ReqHeartBeat] = func(conn *netio.Conn, cmd *remoting.Command) {
		var v int64
		fmt.Sscan(cmd.ExtFields["version"], &v)
		f.clients.mu.Lock()
		g := cmd.ExtFields["consumerGroup"]
		f.clients.channels[g] = append(f.clients.channels[g], clients.Channel{ClientID: cmd.ExtFields["clientId"], Conn: conn, Version: int32(v)})
		f.clients.mu.Unlock()
		_ = conn.Write(remoting.NewResponse(cmd, remoting.RespSuccess, ""))
	}
	f.addr = netkit.Serve(t, &netkit.Router{Handlers: handlers})
	f.cli = netkit.Client(t, netio.ClientConfig{})
	return f
}

func (f *fixture) invoke(code int32, ext map[string]string, b []byte) *remoting.Command {
	f.t.Helper()
	return netkit.Invoke(f.t, f.cli, f.addr, remoting.NewRequest(code, ext, b))
}

// consumer connects a client registered in group that serves broker
// requests with serve (nil answer: none) and records them.
func (f *fixture) consumer(group, clientID string, version int, serve func(*remoting.Command) *remoting.Command) <-chan *remoting.Command {
	got := make(chan *remoting.Command, 8)
	c := netkit.Client(f.t, netio.ClientConfig{OnRequest: func(_ string, cmd *remoting.Command) *remoting.Command {
		got <- cmd
		return serve(cmd)
	}})
	resp := netkit.Invoke(f.t, c, f.addr, remoting.NewRequest(remoting.ReqHeartBeat,
		map[string]string{"consumerGroup": group, "clientId": clientID, "version": fmt.Sprint(version)}, nil))
	if resp.Code != 0 {
		f.t.Fatalf("register consumer: %+v", resp)
	}
	return got
}

func expect(t *testing.T, resp *remoting.Command, code int32, remark string) {
	t.Helper()
	if resp.Code != code || !strings.Contains(resp.Remark, remark) {
		t.Fatalf("response %d %q, want %d containing %q", resp.Code, resp.Remark, code, remark)
	}
}

var errSystemTopic = reply.Errorf(reply.ErrInvalidParameter, "The topic[SCHEDULE_TOPIC_XXXX] is conflict with system topic.")
