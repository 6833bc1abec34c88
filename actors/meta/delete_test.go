package meta

import (
	"errors"
	"sync/atomic"
	"testing"

	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/vfs"
	"github.com/actormq/actormq/wire/body"
)

func TestDeleteTopic(t *testing.T) {
	dir := t.TempDir()
	sys := testkit.ActorSystem(t)
	fs := &errFS{FS: vfs.Default, substr: TopicsFile}
	m := spawnMeta(t, sys, testBroker(dir), fs)
	ctx := testkit.Context(t)
	if _, err := m.CreateTopic(ctx, body.TopicConfig{TopicName: "Gone", ReadQueueNums: 2, WriteQueueNums: 2, Perm: 6}); err != nil {
		t.Fatal(err)
	}
	var notified atomic.Int32
	m.OnTopicsChanged(func() { notified.Add(1) })
	version := m.TopicTable().DataVersion.Counter

	for _, topic := range []string{" ", body.DefaultTopic, body.ScheduleTopic, "DefaultCluster", "broker-a"} {
		if _, err := m.DeleteTopic(ctx, topic); !errors.Is(err, reply.ErrInvalidParameter) {
			t.Fatalf("DeleteTopic(%q) = %v, want INVALID_PARAMETER", topic, err)
		}
	}
	fs.armed.Store(true)
	if _, err := m.DeleteTopic(ctx, "Gone"); !errors.Is(err, ErrPersist) {
		t.Fatalf("DeleteTopic with a failing disk = %v", err)
	}
	fs.armed.Store(false)
	if _, ok := m.Topic("Gone"); !ok || notified.Load() != 0 {
		t.Fatal("a deletion that was not persisted was applied")
	}

	existed, err := m.DeleteTopic(ctx, "Gone")
	if err != nil || !existed {
		t.Fatalf("DeleteTopic = %v, %v", existed, err)
	}
	if _, ok := m.Topic("Gone"); ok || notified.Load() != 1 || m.TopicTable().DataVersion.Counter != version+1 {
		t.Fatalf("after deletion: notified %d, counter %d (was %d)", notified.Load(), m.TopicTable().DataVersion.Counter, version)
	}
	if existed, err = m.DeleteTopic(ctx, "Gone"); err != nil || existed || notified.Load() != 1 {
		t.Fatalf("second DeleteTopic = %v, %v, notified %d", existed, err, notified.Load())
	}
	stopMeta(t, m)

	// The file no longer has it.
	m = spawnMeta(t, sys, testBroker(dir), nil)
	defer stopMeta(t, m)
	if _, ok := m.Topic("Gone"); ok {
		t.Fatal("deleted topic came back after a restart")
	}
}

func TestDeleteGroup(t *testing.T) {
	dir := t.TempDir()
	sys := testkit.ActorSystem(t)
	m := spawnMeta(t, sys, testBroker(dir), nil)
	ctx := testkit.Context(t)
	if _, err := m.EnsureGroup(ctx, "G"); err != nil {
		t.Fatal(err)
	}
	if existed, err := m.DeleteGroup(ctx, "G"); err != nil || !existed {
		t.Fatalf("DeleteGroup = %v, %v", existed, err)
	}
	if existed, err := m.DeleteGroup(ctx, "G"); err != nil || existed {
		t.Fatalf("second DeleteGroup = %v, %v", existed, err)
	}
	stopMeta(t, m)
	m = spawnMeta(t, sys, testBroker(dir), nil)
	defer stopMeta(t, m)
	if _, ok := m.Group("G"); ok {
		t.Fatal("deleted group came back after a restart")
	}
}
