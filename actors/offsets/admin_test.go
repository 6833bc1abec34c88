package offsets

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/metadata"
	"github.com/actormq/actormq/wire/body"
)

func TestAdminOffsetOperations(t *testing.T) {
	dir := t.TempDir()
	m := spawnOffsets(t, testkit.ActorSystem(t), dir, time.Hour, &fakeQueues{m: map[string][2]int64{}})
	ctx := testkit.Context(t)
	for _, c := range []struct {
		group, topic string
		q            int32
		off          int64
	}{{"G1", "T", 0, 5}, {"G1", "T", 1, 6}, {"G1", "U", 0, 1}, {"G2", "T", 0, 2}} {
		if err := m.Set(ctx, c.group, c.topic, map[int32]int64{c.q: c.off}); err != nil {
			t.Fatal(err)
		}
	}
	if got := fmt.Sprint(m.TopicsOf("G1"), m.GroupsOf("T"), m.GroupsOf("none")); got != "[T U] [G1 G2] []" {
		t.Fatalf("TopicsOf/GroupsOf = %s", got)
	}
	// Set takes effect before it returns, negative offsets are ignored.
	if err := m.Set(ctx, "G1", "T", map[int32]int64{0: 1, 1: -1}); err != nil {
		t.Fatal(err)
	}
	if o0, _ := m.Offset("G1", "T", 0); o0 != 1 {
		t.Fatalf("offset after Set = %d, want 1", o0)
	}
	if o1, _ := m.Offset("G1", "T", 1); o1 != 6 {
		t.Fatalf("negative Set changed the offset to %d", o1)
	}

	if err := m.CleanTopic(ctx, "T"); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(m.TopicsOf("G1"), m.GroupsOf("T")); got != "[U] []" {
		t.Fatalf("after CleanTopic(T): %s", got)
	}
	if err := m.CleanGroup(ctx, "G1"); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Offset("G1", "U", 0); ok {
		t.Fatal("CleanGroup left an offset")
	}

	// What was removed is gone from the file too.
	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	var w body.ConsumerOffsetWrapper
	if _, err := metadata.LoadInto(nil, filepath.Join(dir, "config", FileName), func(b []byte) error { return body.DecodeJSON(b, &w) }); err != nil {
		t.Fatal(err)
	}
	if len(w.OffsetTable) != 0 {
		t.Fatalf("file still holds %v", w.OffsetTable)
	}
}
