package retry_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/meta"
	"github.com/actormq/actormq/actors/retry"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// TestRetryRecords sends back messages and checks the stored copies:
// destination, delay level, delivery time, record fields and properties.
func TestRetryRecords(t *testing.T) {
	f := newFixture(t, true)
	const group = "GID_retry"
	retryTopic := body.RetryTopic(group)

	type check struct {
		name           string
		reconsumeTimes int32
		extra          map[string]string // extra properties of the original
		delayLevel     int
		maxTimes       int // -1: header field absent (group's retryMaxTimes, 16)
		wantLevel      int // 0: dead letter
		wantRetryTopic string
		wantOrigin     string // "" = the original's offset message id
	}
	cases := []check{
		{name: "first failure: broker picks level 3", maxTimes: 16, wantLevel: 3, wantRetryTopic: "TopicA"},
		{name: "second failure keeps the first topic and id", reconsumeTimes: 1, maxTimes: 16, wantLevel: 4,
			extra:          map[string]string{message.PropertyRetryTopic: "TopicA", message.PropertyOriginMessageID: "FIRSTID"},
			wantRetryTopic: "TopicA", wantOrigin: "FIRSTID"},
		{name: "consumer-chosen level", delayLevel: 2, maxTimes: 16, wantLevel: 2, wantRetryTopic: "TopicA"},
		{name: "one below the group maximum", reconsumeTimes: 15, maxTimes: -1, wantLevel: 18, wantRetryTopic: "TopicA"},
		{name: "level above the highest is clamped", delayLevel: 30, maxTimes: 16, wantLevel: 18, wantRetryTopic: "TopicA"},
		{name: "group maximum reached", reconsumeTimes: 16, maxTimes: -1, wantRetryTopic: "TopicA"},
		{name: "consumer maximum reached", reconsumeTimes: 2, maxTimes: 2, wantRetryTopic: "TopicA"},
		{name: "negative level: straight to the DLQ", delayLevel: -1, maxTimes: 16, wantRetryTopic: "TopicA"},
		{name: "stale DELAY is not carried into the DLQ", reconsumeTimes: 3, maxTimes: 3, wantRetryTopic: "TopicA",
			extra: map[string]string{message.PropertyDelay: "5"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f.t = t
			orig := f.put(original(c.reconsumeTimes, c.extra))
			f.units.reset()
			before := time.Now().UnixMilli()
			resp := f.sendBack(group, orig.PhysicalOffset, c.delayLevel, c.maxTimes)
			if resp.Code != remoting.RespSuccess {
				t.Fatalf("send-back: code %d %q", resp.Code, resp.Remark)
			}
			var got message.Message
			var tagsCode int64
			wantProps := props(orig)
			wantProps[message.PropertyWait] = "false"
			wantProps[message.PropertyRetryTopic] = c.wantRetryTopic
			wantProps[message.PropertyOriginMessageID] = c.wantOrigin
			if c.wantOrigin == "" {
				wantProps[message.PropertyOriginMessageID] = message.OffsetMsgID(orig.StoreHost, orig.PhysicalOffset)
			}
			if c.wantLevel > 0 {
				m, u := f.only(scheduleKey(c.wantLevel))
				got, tagsCode = m, u.TagsCode
				wantProps[message.PropertyDelay] = strconv.Itoa(c.wantLevel) // clamped, as Java does
				wantProps[message.PropertyRealTopic] = retryTopic
				wantProps[message.PropertyRealQueueID] = "0"
				due := time.Duration(c.wantLevel) * time.Second
				if tagsCode < before+due.Milliseconds() || tagsCode > time.Now().UnixMilli()+due.Milliseconds() {
					t.Fatalf("delivery time %d, want store time + %s (stored after %d)", tagsCode, due, before)
				}
				if got.Topic != body.ScheduleTopic || got.QueueID != int32(c.wantLevel-1) {
					t.Fatalf("stored in %s/%d, want the schedule queue of level %d", got.Topic, got.QueueID, c.wantLevel)
				}
			} else {
				got, _ = f.only(store.QueueKey{Topic: body.DLQTopic(group), QueueID: 0})
				delete(wantProps, message.PropertyDelay)
				tagsCode = f.units.of(store.QueueKey{Topic: body.DLQTopic(group)})[0].TagsCode
				if tagsCode != message.TagsHashCode("TagA") {
					t.Fatalf("DLQ tagsCode %d, want the TAGS hash", tagsCode)
				}
			}
			if got.ReconsumeTimes != orig.ReconsumeTimes+1 || got.Flag != orig.Flag || got.SysFlag != orig.SysFlag ||
				got.BornTimestamp != orig.BornTimestamp || got.BornHost != orig.BornHost || string(got.Body) != "payload" {
				t.Fatalf("record %+v does not carry the original %+v with reconsumeTimes+1", got, orig)
			}
			if gp := props(got); fmt.Sprint(gp) != fmt.Sprint(wantProps) {
				t.Fatalf("properties\n got %v\nwant %v", gp, wantProps)
			}
			if n := f.units.total(); n != 1 {
				t.Fatalf("%d records stored, want 1", n)
			}
		})
	}
	f.t = t
	var g body.SubscriptionGroupConfig
	testkit.Eventually(t, "group "+group+" auto-created", func() bool {
		var ok bool
		g, ok = f.md.Group(group)
		return ok
	})
	if g.RetryMaxTimes != 16 || g.RetryQueueNums != 1 {
		t.Fatalf("group auto-created as %+v", g)
	}
	if tc := f.waitTopic(retryTopic); tc.WriteQueueNums != 1 || tc.Perm != body.PermRead|body.PermWrite {
		t.Fatalf("retry topic %+v", tc)
	}
	if tc := f.waitTopic(body.DLQTopic(group)); tc.WriteQueueNums != 1 || tc.ReadQueueNums != 1 || tc.Perm != body.PermRead|body.PermWrite {
		t.Fatalf("DLQ topic %+v", tc)
	}
}

// TestRetryBadInputChangesNothing: unknown offsets, unknown groups, broken
// headers and read-only retry topics are answered with their codes, and no
// record, group or topic appears.
func TestRetryBadInputChangesNothing(t *testing.T) {
	f := newFixture(t, false)
	orig := f.put(original(0, nil))
	f.units.reset()
	type bad struct {
		name string
		cmd  *remoting.Command
		code int32
	}
	ext := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	off := strconv.FormatInt(orig.PhysicalOffset, 10)
	cases := []bad{
		{"unknown group, auto-create off", remoting.NewRequest(36, ext("offset", off, "group", "GID_none", "delayLevel", "0"), nil),
			remoting.RespSubscriptionGroupNotExist},
		{"missing offset", remoting.NewRequest(36, ext("group", "GID_none", "delayLevel", "0"), nil), remoting.RespSystemError},
		{"offset not a number", remoting.NewRequest(36, ext("offset", "x", "group", "GID_none", "delayLevel", "0"), nil), remoting.RespSystemError},
		{"bad group name", remoting.NewRequest(36, ext("offset", off, "group", "a b", "delayLevel", "0"), nil), remoting.RespInvalidParameter},
		{"bad maxReconsumeTimes", remoting.NewRequest(36, ext("offset", off, "group", "GID_none", "delayLevel", "0", "maxReconsumeTimes", "9999999999"), nil),
			remoting.RespSystemError},
	}
	for _, c := range cases {
		if resp := f.invoke(c.cmd); resp.Code != c.code {
			t.Errorf("%s: code %d %q, want %d", c.name, resp.Code, resp.Remark, c.code)
		}
	}

	// An existing group (created by an admin) but offsets that are not
	// record starts.
	const group = "GID_admin"
	createGroup(t, f, body.SubscriptionGroupConfig{GroupName: group, RetryQueueNums: 1, RetryMaxTimes: 16, ConsumeEnable: true})
	for _, offset := range []int64{orig.PhysicalOffset + 1, orig.PhysicalOffset + int64(orig.TotalSize), -5, 1 << 40} {
		resp := f.sendBack(group, offset, 0, 16)
		if resp.Code != remoting.RespSystemError || resp.Remark != "look message by offset failed, "+strconv.FormatInt(offset, 10) {
			t.Errorf("offset %d: code %d %q", offset, resp.Code, resp.Remark)
		}
	}
	if _, ok := f.md.Topic(body.RetryTopic(group)); ok {
		t.Error("an unknown offset created the retry topic")
	}
	if _, ok := f.md.Group("GID_none"); ok {
		t.Error("a refused send-back created its group")
	}

	// A read-only retry topic refuses copies.
	if _, err := f.md.CreateTopic(testkit.Context(t), body.TopicConfig{TopicName: body.RetryTopic(group),
		ReadQueueNums: 1, WriteQueueNums: 1, Perm: body.PermRead}); err != nil {
		t.Fatal(err)
	}
	if resp := f.sendBack(group, orig.PhysicalOffset, 0, 16); resp.Code != remoting.RespNoPermission {
		t.Errorf("read-only retry topic: code %d %q", resp.Code, resp.Remark)
	}

	// A group with retryQueueNums 0 opted out: SUCCESS, nothing stored.
	createGroup(t, f, body.SubscriptionGroupConfig{GroupName: "GID_noretry", RetryQueueNums: 0, RetryMaxTimes: 16, ConsumeEnable: true})
	if resp := f.sendBack("GID_noretry", orig.PhysicalOffset, 0, 16); resp.Code != remoting.RespSuccess {
		t.Errorf("retryQueueNums 0: code %d %q", resp.Code, resp.Remark)
	}
	// A later good send-back of GID_admin, once the topic is writable,
	// proves the actor still serves, and is the only record.
	if _, err := f.md.CreateTopic(testkit.Context(t), body.TopicConfig{TopicName: body.RetryTopic(group),
		ReadQueueNums: 1, WriteQueueNums: 1, Perm: body.PermRead | body.PermWrite}); err != nil {
		t.Fatal(err)
	}
	if resp := f.sendBack(group, orig.PhysicalOffset, 0, 16); resp.Code != remoting.RespSuccess {
		t.Fatalf("good send-back: code %d %q", resp.Code, resp.Remark)
	}
	f.only(scheduleKey(3))
	if n := f.units.total(); n != 1 {
		t.Fatalf("%d records stored, want only the good one", n)
	}
	if _, ok := f.md.Topic(body.RetryTopic("GID_noretry")); ok {
		t.Error("a group without retry queues got a retry topic")
	}
}

// createGroup creates a subscription group through the admin request.
func createGroup(t *testing.T, f *fixture, g body.SubscriptionGroupConfig) {
	t.Helper()
	resp := f.invoke(remoting.NewRequest(remoting.ReqUpdateAndCreateSubscription, nil, body.EncodeJSON(g)))
	if resp.Code != remoting.RespSuccess {
		t.Fatalf("create group %s: code %d %q", g.GroupName, resp.Code, resp.Remark)
	}
}

// TestRetryConcurrentFirstUse: send-backs of a group nobody created yet
// arrive together while the group and its topics are being created, and
// are all stored where they belong.
func TestRetryConcurrentFirstUse(t *testing.T) {
	f := newFixture(t, true)
	const group, n = "GID_burst", 40
	origs := make([]message.Message, n)
	for i := range origs {
		origs[i] = f.put(original(int32(i%3), nil))
	}
	f.units.reset()
	var wg sync.WaitGroup
	codes := make([]int32, n)
	for i := range origs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// maxReconsumeTimes 2: reconsumeTimes 2 goes to the DLQ.
			ext := map[string]string{"offset": strconv.FormatInt(origs[i].PhysicalOffset, 10), "group": group,
				"delayLevel": "0", "maxReconsumeTimes": "2"}
			codes[i] = f.invoke(remoting.NewRequest(remoting.ReqConsumerSendMsgBack, ext, nil)).Code
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != remoting.RespSuccess {
			t.Fatalf("send-back %d: code %d", i, c)
		}
	}
	testkit.Eventually(t, "every copy stored", func() bool { return f.units.total() == n })
	want := map[store.QueueKey]int{scheduleKey(3): 14, scheduleKey(4): 13, {Topic: body.DLQTopic(group)}: 13}
	for key, count := range want {
		if got := len(f.units.of(key)); got != count {
			t.Errorf("%v: %d records, want %d", key, got, count)
		}
	}
	f.waitTopic(body.RetryTopic(group))
	f.waitTopic(body.DLQTopic(group))
}

// stuckMeta is a metadata actor whose creations never finish: each blocks
// until its deadline or until the test releases it.
type stuckMeta struct {
	retry.Meta
	release chan struct{}
	mu      sync.Mutex
	calls   int
}

func (m *stuckMeta) wait(ctx context.Context) error {
	m.mu.Lock()
	m.calls++
	m.mu.Unlock()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-m.release:
		return errors.New("metadata actor unavailable")
	}
}

func (m *stuckMeta) PrepareConsumerGroups(ctx context.Context, _ []meta.ConsumerGroupSpec) error {
	return m.wait(ctx)
}

func (m *stuckMeta) CreateTopic(ctx context.Context, _ body.TopicConfig) (body.TopicConfig, error) {
	return body.TopicConfig{}, m.wait(ctx)
}

func (m *stuckMeta) started() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

// TestSendBackNeverWaitsForCreation: Go consumers lose a send-back answered
// with an error, so while the group, its retry topic and its DLQ topic
// cannot be created (creations stuck for an hour), send-backs of the new
// group are still answered SUCCESS and stored, a retry and a dead letter
// alike, and a burst starts one creation of each.
func TestSendBackNeverWaitsForCreation(t *testing.T) {
	stuck := &stuckMeta{release: make(chan struct{})}
	f := newFixtureWith(t, true, func(m retry.Meta) retry.Meta { stuck.Meta = m; return stuck })
	t.Cleanup(func() { close(stuck.release) }) // before the fixture stops
	const group = "GID_stuck"
	retried, dead := f.put(original(0, nil)), f.put(original(5, nil))
	f.units.reset()
	for range 3 {
		if resp := f.sendBack(group, retried.PhysicalOffset, 0, 5); resp.Code != remoting.RespSuccess {
			t.Fatalf("retry send-back: code %d %q", resp.Code, resp.Remark)
		}
		if resp := f.sendBack(group, dead.PhysicalOffset, 0, 5); resp.Code != remoting.RespSuccess {
			t.Fatalf("dead-letter send-back: code %d %q", resp.Code, resp.Remark)
		}
	}
	testkit.Eventually(t, "every copy stored", func() bool { return f.units.total() == 6 })
	if n, m := len(f.units.of(scheduleKey(3))), len(f.units.of(store.QueueKey{Topic: body.DLQTopic(group)})); n != 3 || m != 3 {
		t.Fatalf("%d retries at level 3 and %d dead letters, want 3 and 3", n, m)
	}
	// The group (with its retry topic) and the DLQ topic: two creations.
	testkit.Eventually(t, "the creations started", func() bool { return stuck.started() >= 2 })
	if n := stuck.started(); n != 2 {
		t.Fatalf("%d creations started, want 2", n)
	}
	if _, ok := f.md.Group(group); ok {
		t.Fatal("the stuck metadata actor created the group")
	}
}

// TestRetryStopped: after Stop a send-back is refused with
// SERVICE_NOT_AVAILABLE.
func TestRetryStopped(t *testing.T) {
	f := newFixture(t, true)
	orig := f.put(original(0, nil))
	if err := f.svc.Stop(testkit.Context(t)); err != nil {
		t.Fatal(err)
	}
	if resp := f.sendBack("GID_x", orig.PhysicalOffset, 0, 16); resp.Code != remoting.RespServiceNotAvailable {
		t.Fatalf("code %d %q", resp.Code, resp.Remark)
	}
}
