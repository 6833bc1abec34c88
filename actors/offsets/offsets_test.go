package offsets

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/internal/testkit/netkit"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

// fakeQueues implements QueueOffsets from a table "topic/queue" → [min, max].
type fakeQueues struct {
	mu sync.Mutex
	m  map[string][2]int64
}

func (f *fakeQueues) get(topic string, q int32) [2]int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m[topic+"/"+strconv.Itoa(int(q))]
}
func (f *fakeQueues) MinOffset(topic string, q int32) int64 { return f.get(topic, q)[0] }
func (f *fakeQueues) MaxOffset(topic string, q int32) int64 { return f.get(topic, q)[1] }

func spawnOffsets(t *testing.T, sys *actor.ActorSystem, dir string, flush time.Duration, q QueueOffsets) *Manager {
	t.Helper()
	m, err := Spawn(sys, config.Broker{StorePathRootDir: dir, FlushConsumerOffsetInterval: flush}, q, nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func query(group, topic string, q int, extra ...string) *remoting.Command {
	ext := map[string]string{"consumerGroup": group, "topic": topic, "queueId": strconv.Itoa(q)}
	for i := 0; i+1 < len(extra); i += 2 {
		ext[extra[i]] = extra[i+1]
	}
	return remoting.NewRequest(remoting.ReqQueryConsumerOffset, ext, nil)
}

func update(group, topic string, q int, offset int64) *remoting.Command {
	return remoting.NewRequest(remoting.ReqUpdateConsumerOffset, map[string]string{
		"consumerGroup": group, "topic": topic, "queueId": strconv.Itoa(q), "commitOffset": strconv.FormatInt(offset, 10),
	}, nil)
}

func TestQueryRules(t *testing.T) {
	queues := &fakeQueues{m: map[string][2]int64{
		"young/0":     {0, 5},   // never truncated, has messages
		"empty/0":     {0, 0},   // nothing written yet
		"truncated/0": {10, 50}, // first files deleted
	}}
	m := spawnOffsets(t, testkit.ActorSystem(t), t.TempDir(), time.Hour, queues)
	defer func() { _ = m.Stop(testkit.Context(t)) }()
	invoke := netkit.Invoker(t, &netkit.Router{Handlers: m.Handlers()})

	if resp := invoke(update("G", "stored", 0, 42)); resp.Code != remoting.RespSuccess {
		t.Fatalf("update: %d", resp.Code)
	}
	if resp := invoke(update("G", "negative", 0, -1)); resp.Code != remoting.RespSuccess {
		t.Fatalf("negative update: %d", resp.Code)
	}
	tests := []struct {
		name       string
		cmd        *remoting.Command
		wantCode   int32
		wantOffset string
	}{
		{"stored offset", query("G", "stored", 0), remoting.RespSuccess, "42"},
		{"young queue starts at 0", query("G", "young", 0), remoting.RespSuccess, "0"},
		{"young queue, setZeroIfNotFound=false", query("G", "young", 0, "setZeroIfNotFound", "false"), remoting.RespQueryNotFound, ""},
		{"empty queue", query("G", "empty", 0), remoting.RespQueryNotFound, ""},
		{"truncated queue", query("G", "truncated", 0), remoting.RespQueryNotFound, ""},
		{"negative commit ignored", query("G", "negative", 0), remoting.RespQueryNotFound, ""},
		{"other group", query("G2", "stored", 0), remoting.RespQueryNotFound, ""},
		{"missing queueId", remoting.NewRequest(remoting.ReqQueryConsumerOffset,
			map[string]string{"consumerGroup": "G", "topic": "stored"}, nil), remoting.RespSystemError, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := invoke(tt.cmd)
			if resp.Code != tt.wantCode || resp.ExtFields["offset"] != tt.wantOffset {
				t.Fatalf("code %d offset %q (%s), want %d %q", resp.Code, resp.ExtFields["offset"], resp.Remark, tt.wantCode, tt.wantOffset)
			}
		})
	}

	// Pull piggyback commits are visible lock-free.
	m.Commit("G", "young", 0, 3)
	m.Commit("G", "young", 0, -7) // ignored
	testkit.Eventually(t, "commit applied", func() bool { off, ok := m.Offset("G", "young", 0); return ok && off == 3 })
	if resp := invoke(query("G", "young", 0)); resp.ExtFields["offset"] != "3" {
		t.Fatalf("query after commit: %q", resp.ExtFields["offset"])
	}

	resp := invoke(remoting.NewRequest(remoting.ReqGetAllConsumerOffset, nil, nil))
	var w body.ConsumerOffsetWrapper
	if err := body.DecodeJSON(resp.Body, &w); err != nil {
		t.Fatal(err)
	}
	if w.OffsetTable["stored@G"][0] != 42 || w.OffsetTable["young@G"][0] != 3 || len(w.OffsetTable) != 2 {
		t.Fatalf("GET_ALL_CONSUMER_OFFSET = %s", resp.Body)
	}
}

func TestPersistenceRoundTrip(t *testing.T) {
	dir := t.TempDir()
	sys := testkit.ActorSystem(t)
	m := spawnOffsets(t, sys, dir, time.Hour, nil)
	m.Commit("G", "T", 0, 12)
	m.Commit("G", "T", 1, 9)
	m.Commit("G2", "%RETRY%G2", 0, 1)
	if err := m.Stop(testkit.Context(t)); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "config", FileName))
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		OffsetTable map[string]map[string]int64 `json:"offsetTable"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatalf("file is not standard JSON: %v: %s", err, data)
	}
	if raw.OffsetTable["T@G"]["1"] != 9 || raw.OffsetTable["%RETRY%G2@G2"]["0"] != 1 {
		t.Fatalf("file = %s", data)
	}

	m = spawnOffsets(t, sys, dir, time.Hour, nil)
	defer func() { _ = m.Stop(testkit.Context(t)) }()
	for _, c := range []struct {
		group, topic string
		q            int32
		want         int64
	}{{"G", "T", 0, 12}, {"G", "T", 1, 9}, {"G2", "%RETRY%G2", 0, 1}} {
		if off, ok := m.Offset(c.group, c.topic, c.q); !ok || off != c.want {
			t.Errorf("Offset(%s,%s,%d) = %d, %v; want %d", c.group, c.topic, c.q, off, ok, c.want)
		}
	}
}

func TestLoadsJavaFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "config"), 0o755); err != nil {
		t.Fatal(err)
	}
	// fastjson: unquoted integer keys, tabs.
	java := "{\n\t\"offsetTable\":{\n\t\t\"TopicA@GroupA\":{0:12,1:9,2:-1\n\t\t},\n\t\t\"bad-key\":{0:1}\n\t},\n" +
		"\t\"dataVersion\":{\"counter\":4,\"stateVersion\":0,\"timestamp\":1}\n}"
	if err := os.WriteFile(filepath.Join(dir, "config", FileName), []byte(java), 0o644); err != nil {
		t.Fatal(err)
	}
	m := spawnOffsets(t, testkit.ActorSystem(t), dir, time.Hour, nil)
	defer func() { _ = m.Stop(testkit.Context(t)) }()
	if off, ok := m.Offset("GroupA", "TopicA", 0); !ok || off != 12 {
		t.Errorf("queue 0: %d, %v", off, ok)
	}
	if off, ok := m.Offset("GroupA", "TopicA", 1); !ok || off != 9 {
		t.Errorf("queue 1: %d, %v", off, ok)
	}
	if _, ok := m.Offset("GroupA", "TopicA", 2); ok {
		t.Error("negative offset loaded")
	}
}

func TestPeriodicFlush(t *testing.T) {
	dir := t.TempDir()
	m := spawnOffsets(t, testkit.ActorSystem(t), dir, 10*time.Millisecond, nil)
	defer func() { _ = m.Stop(testkit.Context(t)) }()
	m.Commit("G", "T", 0, 77)
	path := filepath.Join(dir, "config", FileName)
	testkit.Eventually(t, "periodic flush", func() bool {
		var w body.ConsumerOffsetWrapper
		data, err := os.ReadFile(path)
		return err == nil && body.DecodeJSON(data, &w) == nil && w.OffsetTable["T@G"][0] == 77
	})
}

func TestSpawnFailsOnCorruptFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "config"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config", FileName), []byte("{\"offsetTable\":"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Spawn(testkit.ActorSystem(t), config.Broker{StorePathRootDir: dir}, nil, nil, zerolog.Nop())
	if !errors.Is(err, ErrLoad) {
		t.Fatalf("Spawn over a corrupt file: %v, want ErrLoad", err)
	}
}

// panicQueues panics for topic "boom": a broken invariant inside the actor.
type panicQueues struct{ fakeQueues }

func (p *panicQueues) MinOffset(topic string, q int32) int64 {
	if topic == "boom" {
		panic("broken invariant")
	}
	return p.fakeQueues.MinOffset(topic, q)
}

func TestRestartKeepsOffsets(t *testing.T) {
	dir := t.TempDir()
	m := spawnOffsets(t, testkit.ActorSystem(t), dir, time.Hour, &panicQueues{fakeQueues{m: map[string][2]int64{}}})
	defer func() { _ = m.Stop(testkit.Context(t)) }()
	invoke := netkit.Invoker(t, &netkit.Router{Handlers: m.Handlers()})
	if resp := invoke(update("G", "T", 0, 5)); resp.Code != remoting.RespSuccess {
		t.Fatal(resp.Code)
	}

	// The panic restarts the actor: Restarting persists the unflushed
	// offset and Started re-loads it. The request that panicked is lost, as
	// the client's timeout tells it.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := m.ask(ctx, &connRequest{cmd: query("G", "boom", 0)}); err == nil {
		t.Fatal("the panicking request was answered")
	}
	if resp := invoke(query("G", "T", 0)); resp.Code != remoting.RespSuccess || resp.ExtFields["offset"] != "5" {
		t.Fatalf("after restart: code %d offset %q", resp.Code, resp.ExtFields["offset"])
	}
	if off, ok := m.Offset("G", "T", 0); !ok || off != 5 {
		t.Fatalf("lock-free read after restart: %d, %v", off, ok)
	}
	if _, err := os.Stat(filepath.Join(dir, "config", FileName)); err != nil {
		t.Fatalf("restart did not persist: %v", err)
	}
}
