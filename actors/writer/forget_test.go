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

// TestQueueRefFollowsForgetAndKey: an Append's QueueRef learns its queue at
// the first append and gives the same offsets as the key lookup; after
// ForgetTopic, or when handed an Append of another key, it does not keep
// the old queue's offsets.
func TestQueueRefFollowsForgetAndKey(t *testing.T) {
	other := store.QueueKey{Topic: "Other", QueueID: 0}
	h := newHarness(t, nil, map[store.QueueKey]int64{testKey: 5, other: 9})
	ref := new(QueueRef)
	submit := func(opaque int32, key store.QueueKey, want int64) {
		t.Helper()
		b := h.appendReq(opaque, "", "m")
		b.Appends[0].Key, b.Appends[0].Ref = key, ref
		h.w.Submit(b)
		if r := h.conn.next(t); r.Code != remoting.RespSuccess || extInt(t, r, "queueOffset") != want {
			t.Fatalf("append %d to %v: code %d offset %s, want %d", opaque, key, r.Code, r.ExtFields["queueOffset"], want)
		}
	}
	submit(1, testKey, 5)
	if ref.q == nil || ref.q.key != testKey {
		t.Fatalf("ref not set to %v's queue after its first append: %+v", testKey, ref.q)
	}
	submit(2, testKey, 6)
	submit(3, other, 9) // a ref of another queue is not trusted
	submit(4, testKey, 7)
	if err := h.w.ForgetTopic(testkit.Context(t), testKey.Topic); err != nil {
		t.Fatal(err)
	}
	submit(5, testKey, 0)
	submit(6, testKey, 1)
}
