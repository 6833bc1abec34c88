package queue

import (
	"strconv"
	"testing"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/store"
	"github.com/asynkron/protoactor-go/actor"
)

// dispatchSink stands in for every queue actor: it gives each dispatched
// message back at once (releaseDispatch), so the benchmark measures the
// writer's side of a dispatch (finding the queue's state and actor, the
// Send) and not the Puts.
type dispatchSink struct{}

func (dispatchSink) SendUserMessage(_ *actor.PID, m any) {
	if d, ok := m.(*dispatchMsg); ok {
		releaseDispatch(d)
	}
}
func (dispatchSink) SendSystemMessage(*actor.PID, any) {}
func (dispatchSink) Stop(*actor.PID)                   {}

// BenchmarkDispatch10kQueues dispatches one unit at a time round the 10,000
// queues of 1,000 topics, as the writer does in the scale run (about one
// dispatch per message): by key (Dispatch, a lookup in the writer-only map
// of dispatch states) and through handles (DispatchTo, with the handle the
// writer keeps in its queueState).
func BenchmarkDispatch10kQueues(b *testing.B) {
	for _, mode := range []string{"key", "handle"} {
		b.Run(mode, func(b *testing.B) {
			sys := testkit.ActorSystem(b)
			sink, _ := sys.ProcessRegistry.Add(dispatchSink{}, "dispatch-sink")
			deps := storeDeps{log: &fakeLog{}, queues: map[store.QueueKey]cqueue{}}
			var keys []store.QueueKey
			for topic := range 1000 {
				for id := range int32(10) {
					k := store.QueueKey{Topic: "BenchScale-" + strconv.Itoa(topic), QueueID: id}
					keys = append(keys, k)
					deps.queues[k] = &fakeCQ{}
				}
			}
			r, err := spawn(sys, Config{}, deps)
			if err != nil {
				b.Fatal(err)
			}
			handles := make([]*DispatchTarget, len(keys))
			for i, k := range keys {
				e := r.lookup(k)
				e.proc = dispatchSink{} // every queue has its actor
				e.pid.Store(sink)
				handles[i] = r.DispatchTarget(k)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for n := range b.N {
				i := n % len(keys)
				units := append(NewUnits(1), Unit{QueueOffset: int64(n), Size: 100})
				if mode == "key" {
					r.Dispatch(keys[i], units)
				} else {
					r.DispatchTo(handles[i], units)
				}
			}
		})
	}
}
