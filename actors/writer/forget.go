package writer

import (
	"context"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// forgetTopic asks the writer actor to drop a topic's queue offsets.
type forgetTopic struct{ topic string }

// forgotTopic answers forgetTopic.
type forgotTopic struct{}

// ForgetTopic drops the next queue offsets of every queue of topic, as Java's
// removeQueueFromTopicQueueTable does when a topic is deleted: if the topic
// is created again its queues start at offset 0, so consumers starting from
// the first offset find messages instead of PULL_OFFSET_MOVED. Appends
// submitted before are appended and dispatched first. Blocking until the
// writer did it or ctx ends; control plane, never on a gnet loop.
func (w *Writer) ForgetTopic(ctx context.Context, topic string) error {
	timeout := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		if timeout = time.Until(dl); timeout <= 0 {
			return fmt.Errorf("writer: forget topic %s: %w", topic, context.DeadlineExceeded)
		}
	}
	if _, err := w.root.RequestFuture(w.pid, &forgetTopic{topic: topic}, timeout).Result(); err != nil {
		return fmt.Errorf("writer: forget topic %s: %w", topic, err)
	}
	return nil
}

// forget runs forgetTopic on the writer actor: the pending batch is
// committed first, so no unit of the topic is dispatched after it.
func (a *writerActor) forget(ctx actor.Context, m *forgetTopic) {
	a.commit(ctx)
	for k := range a.queues {
		if k.Topic == m.topic {
			a.queues[k].forgotten = true // senders' QueueRefs look it up again
			delete(a.queues, k)
		}
	}
	ctx.Respond(&forgotTopic{})
}
