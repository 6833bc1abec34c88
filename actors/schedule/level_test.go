package schedule

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// allLevels is the offset table of testLevels with the given entries.
func allLevels(nonZero map[int32]int64) map[int32]int64 {
	t := map[int32]int64{1: 0, 2: 0, 3: 0}
	for n, off := range nonZero {
		t[n] = off
	}
	return t
}

func TestDueUnitsDeliveredInOrder(t *testing.T) {
	h := newHarness(t)
	past := time.Now().UnixMilli() - 10
	h.delayed(2, "a", past)
	h.delayed(2, "b", past)
	h.delayed(3, "c", past)
	s := h.spawn(nil)
	testkit.Eventually(t, "three puts", func() bool { return len(h.w.stored()) == 3 })
	waitOffsets(t, s, allLevels(map[int32]int64{2: 2, 3: 1}))
	byBody := map[string]put{}
	for _, p := range h.w.stored() {
		byBody[string(p.m.Body)] = p
	}
	// One level delivers in queue order (levels are independent).
	if got := h.w.bodies(); slices.Index(got, "a") > slices.Index(got, "b") {
		t.Fatalf("puts %v: level 2 out of order", got)
	}
	for _, text := range []string{"a", "b", "c"} {
		p := byBody[text]
		m := p.m
		if m.Topic != "RealTopic" || m.QueueID != 3 || m.Flag != 7 || m.SysFlag != message.SysFlagMultiTags ||
			m.BornTimestamp != 1_700_000_000_123 || m.BornHost != bornHost || m.StoreHost != storeHost || m.ReconsumeTimes != 2 {
			t.Errorf("%s: delivered %+v", text, m)
		}
		props := message.ParseProperties(m.Properties)
		want := map[string]string{
			message.PropertyTags: "Tag" + text, message.PropertyKeys: "key-" + text, "userProp": "v-" + text,
			message.PropertyRealTopic: "RealTopic", message.PropertyRealQueueID: "3", message.PropertyWait: "false",
		}
		if fmt.Sprint(props) != fmt.Sprint(want) {
			t.Errorf("%s: properties %v, want %v", text, props, want)
		}
		if p.tagsCode != message.TagsHashCode("Tag"+text) || p.noWait {
			t.Errorf("%s: tagsCode %d noWait %v", text, p.tagsCode, p.noWait)
		}
	}
}

func TestUnitNotDueWaitsForItsTime(t *testing.T) {
	h := newHarness(t)
	due := time.Now().UnixMilli() + 300
	h.delayed(1, "soon", due)
	h.delayed(1, "after", due+100)
	s := h.spawn(nil)
	h.waitBodies("soon", "after")
	for _, p := range h.w.stored() {
		want := due
		if string(p.m.Body) == "after" {
			want = due + 100
		}
		if p.at.UnixMilli() < want {
			t.Errorf("%s put %d ms before its delivery time", p.m.Body, want-p.at.UnixMilli())
		}
	}
	waitOffsets(t, s, allLevels(map[int32]int64{1: 2}))
}

// A delivery time more than one delay ahead (e.g. written under a longer
// messageDelayLevel) is corrected to now, as Java does.
func TestDeliverTimeBeyondOneDelayIsCorrectedToNow(t *testing.T) {
	h := newHarness(t)
	h.delayed(1, "far", time.Now().Add(time.Hour).UnixMilli())
	s := h.spawn(nil)
	h.waitBodies("far")
	waitOffsets(t, s, allLevels(map[int32]int64{1: 1}))
}

func TestIdleLevelWakesOnNewUnit(t *testing.T) {
	h := newHarness(t)
	s := h.spawn(nil)
	// Every level reads once, finds nothing and watches its queue.
	testkit.Eventually(t, "three watches", func() bool { return h.queues.watchCount() == 3 })
	h.delayed(2, "late", time.Now().UnixMilli()-1)
	h.waitBodies("late")
	waitOffsets(t, s, allLevels(map[int32]int64{2: 1}))
	testkit.Eventually(t, "level 2 watching again", func() bool { return h.queues.watchCount() == 3 })
}

func TestUnreadableUnitsSkipped(t *testing.T) {
	h := newHarness(t)
	past := time.Now().UnixMilli() - 1
	h.delayed(1, "first", past)
	h.addUnit(0, 999_999, past) // record deleted or corrupt
	// More fillers than the window holds: skipping them must not stall.
	for range 5 {
		h.queues.add(0, consumequeue.Unit{Size: consumequeue.FillerSize})
	}
	noReal := message.Message{Topic: body.ScheduleTopic, Body: []byte("no real topic"),
		Properties: message.FormatProperties(map[string]string{message.PropertyDelay: "1"})}
	h.addUnit(0, h.records.add(noReal), past)
	h.delayed(1, "last", past)
	s := h.spawn(func(c *Config) { c.InflightMax = 2 })
	h.waitBodies("first", "last")
	waitOffsets(t, s, allLevels(map[int32]int64{1: 9}))
}

func TestPutErrorRetriedInOrder(t *testing.T) {
	h := newHarness(t)
	h.w.fail = func(body string, attempt int) error {
		if body == "flaky" && attempt <= 2 {
			return reply.Errorf(reply.ErrServiceNotAvailable, "injected")
		}
		if body == "illegal" {
			return reply.Errorf(reply.ErrMessageIllegal, "injected")
		}
		return nil
	}
	past := time.Now().UnixMilli() - 1
	h.delayed(1, "flaky", past)
	h.delayed(1, "illegal", past)
	h.delayed(1, "fine", past)
	s := h.spawn(func(c *Config) { c.InflightMax = 1 })
	h.waitBodies("flaky", "fine")
	if got := h.w.attemptsOf("flaky"); got != 3 {
		t.Errorf("flaky attempted %d times, want 3", got)
	}
	if got := h.w.attemptsOf("illegal"); got != 1 {
		t.Errorf("illegal attempted %d times, want 1 (a refused message is skipped)", got)
	}
	waitOffsets(t, s, allLevels(map[int32]int64{1: 3}))
}

// With several Puts in flight, a later success does not move the committed
// offset past an earlier failure.
func TestCommittedOffsetWaitsForFailedPut(t *testing.T) {
	h := newHarness(t)
	release := make(chan struct{})
	h.w.fail = func(body string, attempt int) error {
		if body == "stuck" {
			select {
			case <-release:
				return nil
			default:
				return reply.Errorf(reply.ErrServiceNotAvailable, "injected")
			}
		}
		return nil
	}
	past := time.Now().UnixMilli() - 1
	h.delayed(1, "stuck", past)
	h.delayed(1, "next", past)
	s := h.spawn(nil)
	testkit.Eventually(t, "next stored and stuck retried", func() bool {
		return fmt.Sprint(h.w.bodies()) == "[next]" && h.w.attemptsOf("stuck") >= 3
	})
	if got := s.Offsets()[1]; got != 0 {
		t.Fatalf("level 1 committed %d past a failed put", got)
	}
	close(release)
	h.waitBodies("next", "stuck")
	waitOffsets(t, s, allLevels(map[int32]int64{1: 2}))
}

// readFile returns delayOffset.json's offset table.
func readFile(t *testing.T, dir string) map[int32]int64 {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "config", FileName))
	if err != nil {
		t.Fatal(err)
	}
	var f offsetFile
	if err := body.DecodeJSON(data, &f); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	return f.OffsetTable
}

func TestRestartResumesFromPersistedOffsets(t *testing.T) {
	h := newHarness(t)
	// Level 1 waits an hour, so "pending" is still waiting for its time at
	// Stop however long the machine stalls; level 2's unit due in 400 ms
	// is delivered after the restart, not before its time.
	slowLevel1 := func(c *Config) { c.Broker.MessageDelayLevel = "1h 2s 3s" }
	past := time.Now().UnixMilli() - 1
	h.delayed(1, "one", past)
	h.delayed(2, "two", past)
	s := h.spawn(slowLevel1)
	h.waitSet("one", "two")
	h.delayed(1, "pending", time.Now().Add(30*time.Minute).UnixMilli())
	if err := s.Stop(testkit.Context(t)); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if got, want := readFile(t, h.dir), allLevels(map[int32]int64{1: 1, 2: 1}); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("file after Stop %v, want %v", got, want)
	}
	if len(h.w.stored()) != 2 {
		t.Fatalf("puts %v: pending delivered before its time", h.w.bodies())
	}

	h.delayed(2, "new", past)
	due := time.Now().Add(400 * time.Millisecond).UnixMilli()
	h.delayed(2, "soon", due)
	s = h.spawn(slowLevel1)
	h.waitSet("one", "two", "new", "soon")
	for _, p := range h.w.stored() {
		if string(p.m.Body) == "soon" && p.at.UnixMilli() < due {
			t.Errorf("soon delivered %d ms early after the restart", due-p.at.UnixMilli())
		}
	}
	waitOffsets(t, s, allLevels(map[int32]int64{1: 1, 2: 3}))
}

// Java's file (fastjson: unquoted integer keys, tab indentation) is read,
// and a level beyond messageDelayLevel is kept.
func TestLoadsJavaDelayOffsetFile(t *testing.T) {
	h := newHarness(t)
	if err := os.MkdirAll(filepath.Join(h.dir, "config"), 0o755); err != nil {
		t.Fatal(err)
	}
	java := "{\n\t\"dataVersion\":{\n\t\t\"counter\":3,\n\t\t\"timestamp\":1700000000000\n\t},\n\t\"offsetTable\":{1:2,3:0,18:5}\n}"
	if err := os.WriteFile(filepath.Join(h.dir, "config", FileName), []byte(java), 0o644); err != nil {
		t.Fatal(err)
	}
	past := time.Now().UnixMilli() - 1
	h.delayed(1, "old-0", past)
	h.delayed(1, "old-1", past)
	h.delayed(1, "new", past)
	s := h.spawn(nil)
	h.waitBodies("new")
	want := map[int32]int64{1: 3, 2: 0, 3: 0, 18: 5}
	waitOffsets(t, s, want)
	if err := s.Stop(testkit.Context(t)); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, h.dir); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("file %v, want %v", got, want)
	}
}

func TestStartOffsetCorrectedIntoQueueRange(t *testing.T) {
	h := newHarness(t)
	if err := os.MkdirAll(filepath.Join(h.dir, "config"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Level 1 persisted beyond its queue (units lost); level 2 below its
	// queue's first unit (files deleted by retention).
	if err := os.WriteFile(filepath.Join(h.dir, "config", FileName), []byte(`{"offsetTable":{"1":9,"2":0}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	past := time.Now().UnixMilli() - 1
	h.delayed(1, "l1-0", past)
	h.delayed(2, "l2-0", past)
	h.delayed(2, "l2-1", past)
	h.queues.mu.Lock()
	h.queues.min[1] = 1
	h.queues.mu.Unlock()
	s := h.spawn(nil)
	waitOffsets(t, s, allLevels(map[int32]int64{1: 1, 2: 2}))
	h.waitBodies("l2-1")
	h.delayed(1, "l1-1", past)
	h.waitBodies("l2-1", "l1-1")
}

func TestStopWaitsForPutsInFlight(t *testing.T) {
	h := newHarness(t)
	h.w.hold = make(chan struct{})
	h.delayed(3, "held", time.Now().UnixMilli()-1)
	s := h.spawn(nil)
	testkit.Eventually(t, "put in flight", func() bool { return h.w.attemptsOf("held") == 1 })
	stopped := make(chan error, 1)
	go func() { stopped <- s.Stop(testkit.Context(t)) }()
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned (%v) with a put in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(h.w.hold)
	if err := testkit.Receive(t, stopped, "Stop"); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if got, want := readFile(t, h.dir), allLevels(map[int32]int64{3: 1}); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("file %v, want %v", got, want)
	}
}

// TestStopGivesUpAtItsDeadline: a Put that is never answered does not hold
// Stop beyond its context; the level is stopped anyway.
func TestStopGivesUpAtItsDeadline(t *testing.T) {
	h := newHarness(t)
	h.w.hold = make(chan struct{})
	t.Cleanup(func() { close(h.w.hold) })
	h.delayed(3, "held", time.Now().UnixMilli()-1)
	s := h.spawn(nil)
	testkit.Eventually(t, "put in flight", func() bool { return h.w.attemptsOf("held") == 1 })
	ctx := testkit.ContextWithin(t, 50*time.Millisecond)
	stopped := make(chan error, 1)
	go func() { stopped <- s.Stop(ctx) }()
	if err := testkit.Receive(t, stopped, "Stop past its deadline"); !errors.Is(err, ErrStop) {
		t.Fatalf("Stop = %v, want ErrStop", err)
	}
	testkit.Receive(t, s.levels[2].done, "level 3 stopped")
	// The offsets actor still persists delayOffset.json after Stop gave up
	// on it; the temp dir may be removed only once it has stopped.
	testkit.Receive(t, s.offsetsDone, "offsets actor stopped")
}

func TestSlaveDeliversNothing(t *testing.T) {
	h := newHarness(t)
	h.delayed(1, "m", time.Now().UnixMilli()-1)
	s := h.spawn(func(c *Config) { c.Broker.BrokerRole = config.RoleSlave })
	conn := &fakeConn{ch: make(chan *remoting.Command, 1)}
	s.root.Send(s.offsets, &offsetsRequest{conn: conn, cmd: remoting.NewRequest(remoting.ReqGetAllDelayOffset, nil, nil)})
	testkit.Receive(t, conn.ch, "GET_ALL_DELAY_OFFSET response")
	if n := h.w.attemptsOf("m"); n != 0 || h.queues.watchCount() != 0 {
		t.Fatalf("slave put %d times and watches %d queues", n, h.queues.watchCount())
	}
}

func TestGetAllDelayOffset(t *testing.T) {
	h := newHarness(t)
	past := time.Now().UnixMilli() - 1
	h.delayed(2, "x", past)
	h.delayed(2, "y", past)
	s := h.spawn(nil)
	waitOffsets(t, s, allLevels(map[int32]int64{2: 2}))
	conn := &fakeConn{ch: make(chan *remoting.Command, 1)}
	req := remoting.NewRequest(remoting.ReqGetAllDelayOffset, nil, nil)
	req.Opaque = 77
	s.root.Send(s.offsets, &offsetsRequest{conn: conn, cmd: req})
	resp := testkit.Receive(t, conn.ch, "GET_ALL_DELAY_OFFSET response")
	if resp.Code != remoting.RespSuccess || resp.Opaque != 77 {
		t.Fatalf("response code %d opaque %d", resp.Code, resp.Opaque)
	}
	var f offsetFile
	if err := body.DecodeJSON(resp.Body, &f); err != nil {
		t.Fatalf("body %q: %v", resp.Body, err)
	}
	if want := allLevels(map[int32]int64{2: 2}); fmt.Sprint(f.OffsetTable) != fmt.Sprint(want) {
		t.Fatalf("offsetTable %v, want %v", f.OffsetTable, want)
	}
}

func TestPeriodicPersist(t *testing.T) {
	h := newHarness(t)
	h.delayed(1, "m", time.Now().UnixMilli()-1)
	h.spawn(func(c *Config) { c.Broker.FlushDelayOffsetInterval = 20 * time.Millisecond })
	path := filepath.Join(h.dir, "config", FileName)
	want := fmt.Sprint(allLevels(map[int32]int64{1: 1}))
	testkit.Eventually(t, "delayOffset.json with level 1 at 1", func() bool {
		if _, err := os.Stat(path); err != nil {
			return false
		}
		return fmt.Sprint(readFile(t, h.dir)) == want
	})
}

func TestSpawnRejectsCorruptFile(t *testing.T) {
	h := newHarness(t)
	if err := os.MkdirAll(filepath.Join(h.dir, "config"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.dir, "config", FileName), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Spawn(h.system, h.config()); !errors.Is(err, ErrLoad) {
		t.Fatalf("Spawn over a corrupt file: %v, want ErrLoad", err)
	}
}
