package e2e

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"
)

// TestNewGroupFromLastOffsetSeesAYoungQueue: with the Go client's default
// CONSUME_FROM_LAST_OFFSET, a brand-new group still gets messages sent before
// it started, as long as the queue is young (min offset 0): the broker answers
// QUERY_CONSUMER_OFFSET with 0, as Java does (client-quirks A4 item 27).
func TestNewGroupFromLastOffsetSeesAYoungQueue(t *testing.T) {
	topic := "YoungTopic"
	ns, _ := startWithTopic(t, defaultBrokerOpts(), topic, 2)
	p := newProducer(t, ns, "PG_young")
	early := makeBodies("early", 6)
	sendSync(t, p, topic, early, "")
	r := newReceived()
	startPushConsumer(t, ns, "c", consumerOpts{group: "CG_young", topic: topic}, r) // from last offset
	r.waitAll(t, early, 30*time.Second)
}

// TestMessageContentRoundTrip: keys, tags, user properties and a body big
// enough for the Go client to compress arrive unchanged, with the ids the
// send returned.
func TestMessageContentRoundTrip(t *testing.T) {
	topic := "ContentTopic"
	ns, _ := startWithTopic(t, defaultBrokerOpts(), topic, 1)
	p := newProducer(t, ns, "PG_content")

	big := bytes.Repeat([]byte("compressible-payload-"), 1000) // 21 KB, zlib'd by the client
	msg := primitive.NewMessage(topic, big)
	msg.WithTag("TagBig")
	msg.WithKeys([]string{"order-1", "order-2"})
	msg.WithProperty("color", "blue")
	res, err := p.SendSync(context.Background(), msg)
	if err != nil || res.Status != primitive.SendOK {
		t.Fatalf("send: %v %+v", err, res)
	}

	r := newReceived()
	startPushConsumer(t, ns, "c", consumerOpts{group: "CG_content", topic: topic, fromFirst: true}, r)
	r.waitAll(t, []string{string(big)}, 30*time.Second)
	got := r.message(string(big))
	if got.GetTags() != "TagBig" || got.GetKeys() != "order-1 order-2" || got.GetProperty("color") != "blue" {
		t.Fatalf("tags %q keys %q color %q", got.GetTags(), got.GetKeys(), got.GetProperty("color"))
	}
	if got.GetProperty("CLUSTER") != "E2ECluster" {
		t.Fatalf("CLUSTER property %q, want the broker's cluster name", got.GetProperty("CLUSTER"))
	}
	if got.MsgId != res.MsgID || got.OffsetMsgId != res.OffsetMsgID || got.QueueOffset != res.QueueOffset {
		t.Fatalf("delivered ids %s/%s@%d, sent %s/%s@%d", got.MsgId, got.OffsetMsgId, got.QueueOffset,
			res.MsgID, res.OffsetMsgID, res.QueueOffset)
	}
	if got.SysFlag&1 == 0 || !strings.HasPrefix(got.StoreHost, "127.0.0.1:") {
		t.Fatalf("sysFlag %d (want the compressed bit kept), store host %q", got.SysFlag, got.StoreHost)
	}
}
