package schedule

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/writer"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

// testLevels: level n waits n seconds.
const testLevels = "1s 2s 3s"

var (
	bornHost  = netip.MustParseAddrPort("10.0.0.7:50123")
	storeHost = netip.MustParseAddrPort("127.0.0.1:10911")
)

// fakeQueues is an in-memory SCHEDULE_TOPIC_XXXX with watches.
type fakeQueues struct {
	mu      sync.Mutex
	units   map[int32][]consumequeue.Unit
	min     map[int32]int64
	watches []fakeWatch
	reads   int
}

type fakeWatch struct {
	key  store.QueueKey
	from int64
	fn   func()
}

func newFakeQueues() *fakeQueues {
	return &fakeQueues{units: map[int32][]consumequeue.Unit{}, min: map[int32]int64{}}
}

func (f *fakeQueues) ReadUnits(key store.QueueKey, from int64, dst []consumequeue.Unit) ([]consumequeue.Unit, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if key.Topic != body.ScheduleTopic {
		return dst[:0], nil
	}
	if from < f.min[key.QueueID] {
		return dst[:0], consumequeue.ErrOffsetGone
	}
	units := f.units[key.QueueID]
	dst = dst[:0]
	for i := from; i < int64(len(units)) && len(dst) < cap(dst); i++ {
		dst = append(dst, units[i])
	}
	return dst, nil
}

func (f *fakeQueues) MinOffset(_ string, q int32) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.min[q]
}

func (f *fakeQueues) MaxOffset(_ string, q int32) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return int64(len(f.units[q]))
}

func (f *fakeQueues) Watch(key store.QueueKey, from int64, fn func()) {
	f.mu.Lock()
	if int64(len(f.units[key.QueueID])) > from {
		f.mu.Unlock()
		fn()
		return
	}
	f.watches = append(f.watches, fakeWatch{key: key, from: from, fn: fn})
	f.mu.Unlock()
}

// add appends u to queue q and fires the watches it satisfies.
func (f *fakeQueues) add(q int32, u consumequeue.Unit) {
	f.mu.Lock()
	f.units[q] = append(f.units[q], u)
	var fire []func()
	kept := f.watches[:0]
	for _, w := range f.watches {
		if w.key.QueueID == q && int64(len(f.units[q])) > w.from {
			fire = append(fire, w.fn)
			continue
		}
		kept = append(kept, w)
	}
	f.watches = kept
	f.mu.Unlock()
	for _, fn := range fire {
		fn()
	}
}

func (f *fakeQueues) watchCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.watches)
}

// fakeRecords is an in-memory commit log of stored messages.
type fakeRecords struct {
	mu   sync.Mutex
	msgs map[int64]message.Message
	next int64
}

var errNoRecord = errors.New("fake log: no record at this offset")

func (f *fakeRecords) ReadMessage(off int64) (message.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.msgs[off]
	if !ok {
		return message.Message{}, fmt.Errorf("%w: %d", errNoRecord, off)
	}
	return m, nil
}

func (f *fakeRecords) add(m message.Message) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next += 1000
	m.PhysicalOffset = f.next
	f.msgs[f.next] = m
	return f.next
}

// put is one Put the fake writer stored.
type put struct {
	m        message.Message
	tagsCode int64
	noWait   bool
	at       time.Time
}

// fakeWriter stores Puts in memory; fail decides a Put's error (nil:
// stored) from the body and the attempt number of that body (1-based).
type fakeWriter struct {
	mu       sync.Mutex
	puts     []put
	attempts map[string]int
	fail     func(body string, attempt int) error
	// hold, when set, delays every answer until it is closed.
	hold chan struct{}
}

func newFakeWriter() *fakeWriter { return &fakeWriter{attempts: map[string]int{}} }

func (w *fakeWriter) Put(m *message.Message, tagsCode int64, noWait bool, done func(writer.PutResult)) {
	w.mu.Lock()
	b := string(m.Body)
	w.attempts[b]++
	var err error
	if w.fail != nil {
		err = w.fail(b, w.attempts[b])
	}
	res := writer.PutResult{Err: err}
	if err == nil {
		c := *m
		c.Body = append([]byte(nil), m.Body...)
		res.QueueOffset = int64(len(w.puts))
		w.puts = append(w.puts, put{m: c, tagsCode: tagsCode, noWait: noWait, at: time.Now()})
	}
	hold := w.hold
	w.mu.Unlock()
	if hold != nil {
		go func() { <-hold; done(res) }()
		return
	}
	done(res)
}

func (w *fakeWriter) stored() []put {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]put(nil), w.puts...)
}

func (w *fakeWriter) bodies() []string {
	var out []string
	for _, p := range w.stored() {
		out = append(out, string(p.m.Body))
	}
	return out
}

func (w *fakeWriter) attemptsOf(body string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.attempts[body]
}

// harness runs a Scheduler over the fakes; its store directory survives
// re-spawns within a test.
type harness struct {
	t       *testing.T
	system  *actor.ActorSystem
	dir     string
	queues  *fakeQueues
	records *fakeRecords
	w       *fakeWriter
}

func newHarness(t *testing.T) *harness {
	return &harness{t: t, system: testkit.ActorSystem(t), dir: t.TempDir(), queues: newFakeQueues(),
		records: &fakeRecords{msgs: map[int64]message.Message{}}, w: newFakeWriter()}
}

func (h *harness) config() Config {
	return Config{
		Broker: config.Broker{
			StorePathRootDir: h.dir, BrokerRole: config.RoleAsyncMaster, MessageDelayLevel: testLevels,
			FlushDelayOffsetInterval: time.Hour,
		},
		Queues: h.queues, Records: h.records, Writer: h.w, Logger: zerolog.Nop(),
		RetryBackoff: 20 * time.Millisecond,
	}
}

// spawn starts a Scheduler (mutate adjusts the config) that the test's
// cleanup stops.
func (h *harness) spawn(mutate func(*Config)) *Scheduler {
	h.t.Helper()
	cfg := h.config()
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := Spawn(h.system, cfg)
	if err != nil {
		h.t.Fatalf("Spawn: %v", err)
	}
	h.t.Cleanup(func() { _ = s.Stop(testkit.Context(h.t)) })
	return s
}

// delayed stores a message sent with level and diverted to its schedule
// queue with delivery time deliverAt, and adds its unit.
func (h *harness) delayed(level int, text string, deliverAt int64) {
	h.t.Helper()
	m := message.Message{
		Topic: "RealTopic", QueueID: 3, Flag: 7, SysFlag: message.SysFlagMultiTags,
		BornTimestamp: 1_700_000_000_123, BornHost: bornHost, StoreHost: storeHost, ReconsumeTimes: 2,
		Body: []byte(text),
		Properties: message.FormatProperties(map[string]string{
			message.PropertyTags: "Tag" + text, message.PropertyKeys: "key-" + text,
			message.PropertyDelay: strconv.Itoa(level), "userProp": "v-" + text,
		}),
	}
	levels, _ := config.ParseDelayLevels(testLevels)
	if _, ok := Divert(&m, levels, 0); !ok {
		h.t.Fatalf("Divert(%s) did not divert", text)
	}
	m.StoreTimestamp = deliverAt - levels[min(level, len(levels))-1].Milliseconds()
	h.addUnit(m.QueueID, h.records.add(m), deliverAt)
}

func (h *harness) addUnit(queueID int32, phys, tagsCode int64) {
	h.queues.add(queueID, consumequeue.Unit{CommitLogOffset: phys, Size: 200, TagsCode: tagsCode})
}

// waitBodies waits until the writer stored exactly want, in order.
func (h *harness) waitBodies(want ...string) {
	h.t.Helper()
	testkit.Eventually(h.t, fmt.Sprintf("puts %v", want), func() bool {
		return fmt.Sprint(h.w.bodies()) == fmt.Sprint(want)
	})
}

// waitSet waits until the writer stored exactly want, in any order (levels
// deliver independently of each other).
func (h *harness) waitSet(want ...string) {
	h.t.Helper()
	sorted := func(b []string) string { return fmt.Sprint(slices.Sorted(slices.Values(b))) }
	testkit.Eventually(h.t, fmt.Sprintf("puts of %v", want), func() bool {
		return sorted(h.w.bodies()) == sorted(want)
	})
}

// waitOffsets waits until s publishes want as its whole offset table.
func waitOffsets(t *testing.T, s *Scheduler, want map[int32]int64) {
	t.Helper()
	testkit.Eventually(t, fmt.Sprintf("delay offsets %v", want), func() bool {
		return fmt.Sprint(s.Offsets()) == fmt.Sprint(want)
	})
}

// fakeConn records responses.
type fakeConn struct{ ch chan *remoting.Command }

func (c *fakeConn) Write(cmd *remoting.Command) error {
	c.ch <- cmd
	return nil
}
