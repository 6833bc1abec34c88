package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"
)

// TestOffsetsResumeAfterConsumerRestart: the offsets a consumer committed
// hold for the next consumer of the group, which gets only what came after.
func TestOffsetsResumeAfterConsumerRestart(t *testing.T) {
	topic := "ResumeTopic"
	ns, b := startWithTopic(t, defaultBrokerOpts(), topic, 2)
	p := newProducer(t, ns, "PG_resume")

	first := makeBodies("first", 10)
	sendSync(t, p, topic, first, "")
	r1 := newReceived()
	c1 := startPushConsumer(t, ns, "c1", consumerOpts{group: "CG_resume", topic: topic, fromFirst: true}, r1)
	r1.waitAll(t, first, 30*time.Second)
	// As in TestBrokerRestartKeepsMessagesAndOffsets: the Go client advances
	// its offsets after the callback returns, so a shutdown right after the
	// last callback may commit less; wait for its periodic commit first.
	max := maxOffsets(t, b, topic, 2)
	waitFor(t, 20*time.Second, "committed offsets at the queue ends", func() bool {
		return fmt.Sprint(consumerOffsets(t, b, "CG_resume", topic, 2)) == fmt.Sprint(max)
	})
	if err := c1.Shutdown(); err != nil {
		t.Fatal(err)
	}

	second := makeBodies("second", 10)
	sendSync(t, p, topic, second, "")
	r2 := newReceived()
	startPushConsumer(t, ns, "c2", consumerOpts{group: "CG_resume", topic: topic, fromFirst: true}, r2)
	r2.waitAll(t, second, 30*time.Second)
	for _, body := range first {
		if r2.count(body) != 0 {
			t.Fatalf("%s delivered again after the restart", body)
		}
	}
}

// TestBrokerRestartKeepsMessagesAndOffsets stops the broker with SIGTERM and
// restarts it on the same store.
func TestBrokerRestartKeepsMessagesAndOffsets(t *testing.T) {
	topic := "RestartTopic"
	ns, b := startWithTopic(t, defaultBrokerOpts(), topic, 2)
	p := newProducer(t, ns, "PG_restart")
	before := makeBodies("before", 20)
	sendSync(t, p, topic, before, "")

	r1 := newReceived()
	c1 := startPushConsumer(t, ns, "c1", consumerOpts{group: "CG_restart", topic: topic, fromFirst: true}, r1)
	r1.waitAll(t, before, 30*time.Second)
	// The Go client advances its offsets after the callback returns, so a
	// shutdown right after the last callback may commit less; wait for its
	// periodic commit (every 5 s) first.
	max := maxOffsets(t, b, topic, 2)
	waitFor(t, 20*time.Second, "committed offsets at the queue ends", func() bool {
		return fmt.Sprint(consumerOffsets(t, b, "CG_restart", topic, 2)) == fmt.Sprint(max)
	})
	if err := c1.Shutdown(); err != nil {
		t.Fatal(err)
	}

	b.stop() // SIGTERM, must exit 0
	b.start()
	// The store logs how it recovered before the listener opens.
	if !strings.Contains(b.log(), `"abnormal":false`) || strings.Contains(b.log(), `"abnormal":true`) {
		t.Fatalf("restart after SIGTERM was not a clean recovery:\n%s", b.log())
	}

	if got := maxOffsets(t, b, topic, 2); fmt.Sprint(got) != fmt.Sprint(max) {
		t.Fatalf("max offsets after restart %v, want %v", got, max)
	}
	if got := consumerOffsets(t, b, "CG_restart", topic, 2); fmt.Sprint(got) != fmt.Sprint(max) {
		t.Fatalf("consumer offsets after restart %v, want %v", got, max)
	}
	after := makeBodies("after", 5)
	sendSync(t, p, topic, after, "")
	r2 := newReceived()
	startPushConsumer(t, ns, "c2", consumerOpts{group: "CG_restart", topic: topic, fromFirst: true}, r2)
	r2.waitAll(t, after, 30*time.Second)
	for _, body := range before {
		if r2.count(body) != 0 {
			t.Fatalf("%s delivered again to the resumed group", body)
		}
	}
	// A new group reads everything the store kept across the restart.
	r3 := newReceived()
	startPushConsumer(t, ns, "c3", consumerOpts{group: "CG_restart_all", topic: topic, fromFirst: true}, r3)
	r3.waitAll(t, append(append([]string{}, before...), after...), 30*time.Second)
}

// TestSyncFlushSurvivesKill9: every send acknowledged by a SYNC_FLUSH broker
// is readable after kill -9 and a restart.
func TestSyncFlushSurvivesKill9(t *testing.T) {
	topic := "DurableTopic"
	ns, b := startWithTopic(t, brokerOpts{autoCreateTopic: true, flushDiskType: "SYNC_FLUSH"}, topic, 4)
	p := newProducer(t, ns, "PG_durable")
	const n = 300
	acked := makeBodies("durable", n)
	sendSync(t, p, topic, acked, "")
	before := maxOffsets(t, b, topic, 4)

	b.kill() // kill -9 right after the last acknowledgement
	b.start()
	if !strings.Contains(b.log(), `"abnormal":true`) {
		t.Fatalf("restart after kill -9 did not recover as from a crash:\n%s", b.log())
	}

	after := maxOffsets(t, b, topic, 4)
	var sum int64
	for q := range after {
		if after[q] < before[q] {
			t.Fatalf("queue %d lost messages: max offset %d after restart, %d before", q, after[q], before[q])
		}
		sum += after[q]
	}
	if sum != n {
		t.Fatalf("%d messages in the queues after kill -9, want %d", sum, n)
	}
	r := newReceived()
	startPushConsumer(t, ns, "c", consumerOpts{group: "CG_durable", topic: topic, fromFirst: true}, r)
	r.waitAll(t, acked, 60*time.Second)
}

// TestSigtermUnderLoadKeepsEveryAcknowledgedSend stops the broker while a
// producer is sending: each send either fails or, if acknowledged, is
// readable after the restart.
func TestSigtermUnderLoadKeepsEveryAcknowledgedSend(t *testing.T) {
	topic := "LoadTopic"
	ns, b := startWithTopic(t, defaultBrokerOpts(), topic, 4)
	p := newProducer(t, ns, "PG_load")

	var mu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Sprintf("load-%d-%05d", w, i)
				res, err := p.SendSync(context.Background(), primitive.NewMessage(topic, []byte(body)))
				if err == nil && res.Status == primitive.SendOK {
					mu.Lock()
					acked = append(acked, body)
					mu.Unlock()
				}
			}
		}(w)
	}
	waitFor(t, 15*time.Second, "sends under way", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= 200
	})
	b.stop() // SIGTERM while the producers keep sending
	close(stop)
	wg.Wait()

	b.start()
	mu.Lock()
	want := append([]string{}, acked...)
	mu.Unlock()
	r := newReceived()
	startPushConsumer(t, ns, "c", consumerOpts{group: "CG_load", topic: topic, fromFirst: true}, r)
	r.waitAll(t, want, 60*time.Second)
}
