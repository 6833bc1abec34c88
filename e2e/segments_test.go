package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"
)

// TestManySegmentsSurviveRestart writes enough through tiny segments that the
// CommitLog rolls over many files and each ConsumeQueue over several, restarts
// the broker, and reads every message back with a new group.
func TestManySegmentsSurviveRestart(t *testing.T) {
	topic := "SegmentTopic"
	ns, b := startWithTopic(t, brokerOpts{autoCreateTopic: true, commitLogBytes: 256 << 10, cqUnits: 100}, topic, 2)
	p := newProducer(t, ns, "PG_segments")

	payload := make([]byte, 900) // ~1 KiB records: ~250 per segment, below the 4 KiB compression threshold
	var all []string
	for batch := 0; batch < 40; batch++ {
		msgs := make([]*primitive.Message, 25)
		for i := range msgs {
			body := fmt.Sprintf("seg-%03d-%02d-%s", batch, i, payload)
			all = append(all, body)
			msgs[i] = primitive.NewMessage(topic, []byte(body))
		}
		res, err := p.SendSync(context.Background(), msgs...)
		if err != nil || res.Status != primitive.SendOK {
			t.Fatalf("batch %d: %v %+v", batch, err, res)
		}
	}
	segments, err := os.ReadDir(filepath.Join(b.storeAt, "commitlog"))
	if err != nil || len(segments) < 4 {
		t.Fatalf("%d commit-log segments (%v), want several", len(segments), err)
	}
	cqFiles, err := os.ReadDir(filepath.Join(b.storeAt, "consumequeue", topic, "0"))
	if err != nil || len(cqFiles) < 2 {
		t.Fatalf("%d consume-queue files for queue 0 (%v), want several", len(cqFiles), err)
	}
	// Units reach the consume queues just after the sends are answered
	// (GET_MAX_OFFSET reads the queue, as in Java): wait for the last ones.
	// The lag is longest at a file boundary, where the queue actor creates
	// the next file and fsyncs its directory; under other fsync traffic that
	// takes tens of milliseconds, and a read right after the last send saw
	// both queues still at 400 (their last file's first unit).
	var max []int64
	waitFor(t, 10*time.Second, fmt.Sprintf("%d messages in the consume queues", len(all)), func() bool {
		max = maxOffsets(t, b, topic, 2)
		return max[0]+max[1] == int64(len(all))
	})

	b.stop()
	b.start()
	if got := maxOffsets(t, b, topic, 2); fmt.Sprint(got) != fmt.Sprint(max) {
		t.Fatalf("max offsets after restart %v, want %v", got, max)
	}
	r := newReceived()
	startPushConsumer(t, ns, "c", consumerOpts{group: "CG_segments", topic: topic, fromFirst: true}, r)
	r.waitAll(t, all, 60*time.Second)
	for _, body := range all {
		if n := r.count(body); n != 1 {
			t.Fatalf("%.12s delivered %d times, want 1", body, n)
		}
	}
}
