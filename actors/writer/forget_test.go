package writer

import (
	"testing"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/remoting"
)

// TestForgetTopicRestartsQueueOffsets: after ForgetTopic the topic's queues
// take offsets from 0 again; other topics keep theirs.
func TestForgetTopicRestartsQueueOffsets(t *testing.T) {
	other := store.QueueKey{Topic: "Other", QueueID: 0}
	h := newHarness(t, nil, map[store.QueueKey]int64{testKey: 5, other: 9})
	// Submitted before the forget: appended at the old offset.
	h.w.Submit(h.appendReq(1, "", "before"))
	if err := h.w.ForgetTopic(testkit.Context(t), testKey.Topic); err != nil {
		t.Fatal(err)
	}
	if r := h.conn.next(t); r.Code != remoting.RespSuccess || extInt(t, r, "queueOffset") != 5 {
		t.Fatalf("append before the forget: %d offset %s", r.Code, r.ExtFields["queueOffset"])
	}
	h.w.Submit(h.appendReq(2, "", "after"))
	if r := h.conn.next(t); extInt(t, r, "queueOffset") != 0 {
		t.Fatalf("append after the forget got queue offset %s, want 0", r.ExtFields["queueOffset"])
	}
	b := h.appendReq(3, "", "other")
	b.Appends[0].Key = other
	h.w.Submit(b)
	if r := h.conn.next(t); extInt(t, r, "queueOffset") != 9 {
		t.Fatalf("other topic's offset %s, want 9", r.ExtFields["queueOffset"])
	}
}
