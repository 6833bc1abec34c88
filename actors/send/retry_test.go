package send_test

import (
	"testing"

	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// TestSendToRetryTopic checks §6.1 step 7: direct sends to %RETRY%<group>
// need the group, and those at the maximum reconsume count become dead
// letters in %DLQ%<group> queue 0 (created on first use: one queue, RW),
// without their delay level.
func TestSendToRetryTopic(t *testing.T) {
	meta := newFakeMeta()
	const group = "GID_r"
	retryTopic, dlq := body.RetryTopic(group), body.DLQTopic(group)
	meta.groups[group] = body.SubscriptionGroupConfig{GroupName: group, RetryQueueNums: 1, RetryMaxTimes: 16}
	meta.topics[retryTopic] = body.TopicConfig{TopicName: retryTopic, ReadQueueNums: 1, WriteQueueNums: 1, Perm: 6}
	meta.topics[body.ScheduleTopic] = body.TopicConfig{TopicName: body.ScheduleTopic, ReadQueueNums: 18, WriteQueueNums: 18, Perm: 6}
	b := startBroker(t, t.TempDir(), testConfig(), meta)

	v2 := func(body string, reconsumeTimes, maxTimes string) *remoting.Command {
		cmd := sendV2(msg{topic: retryTopic, queueID: -1, body: body,
			props: map[string]string{message.PropertyDelay: "3", message.PropertyUniqKey: "U-" + body}})
		cmd.ExtFields["j"] = reconsumeTimes
		if maxTimes != "" {
			cmd.ExtFields["l"] = maxTimes
		}
		return cmd
	}
	type sent struct {
		name  string
		cmd   *remoting.Command
		topic string // where it must be stored
	}
	cases := []sent{
		{"below the consumer's maximum", v2("r1", "1", "3"), retryTopic},
		{"at the consumer's maximum", v2("d1", "3", "3"), dlq},
		{"below the group's maximum", v2("r2", "15", ""), retryTopic},
		{"at the group's maximum", v2("d2", "16", ""), dlq},
		// The Go producer always sends maxReconsumeTimes=0 (Java agrees).
		{"Go producer", sendV1(msg{topic: retryTopic, queueID: -1, body: "d3"}), dlq},
	}
	for _, c := range cases {
		resp := b.invoke(c.cmd)
		wantCode(t, resp, remoting.RespSuccess)
		if c.topic == dlq && resp.ExtFields["queueId"] != "0" {
			t.Errorf("%s: queueId %s, want 0", c.name, resp.ExtFields["queueId"])
		}
	}
	tc, ok := meta.Topic(dlq)
	if !ok || tc.WriteQueueNums != 1 || tc.ReadQueueNums != 1 || tc.Perm != body.PermRead|body.PermWrite {
		t.Fatalf("DLQ topic %+v %v", tc, ok)
	}

	// Retried ones keep their delay level (the schedule diversion applies),
	// dead letters are in the DLQ, in order, without it.
	b.waitServed(dlq, 0, 3)
	resp := b.invoke(pull(dlq, 0, 0, 6, 0, "*"))
	wantCode(t, resp, remoting.RespSuccess)
	var got []string
	for _, m := range records(t, resp.Body) {
		got = append(got, string(m.Body))
		p := message.ParseProperties(m.Properties)
		if _, ok := p[message.PropertyDelay]; ok || p[message.PropertyUniqKey] != "U-"+string(m.Body) && string(m.Body) != "d3" {
			t.Errorf("dead letter %s: properties %v", m.Body, p)
		}
		if m.Topic != dlq || m.QueueID != 0 {
			t.Errorf("dead letter %s stored in %s/%d", m.Body, m.Topic, m.QueueID)
		}
	}
	if want := []string{"d1", "d2", "d3"}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("DLQ holds %v, want %v", got, want)
	}
	b.waitServed(body.ScheduleTopic, 2, 2)
	resp = b.invoke(pull(body.ScheduleTopic, 2, 0, 6, 0, "*"))
	wantCode(t, resp, remoting.RespSuccess)
	if recs := records(t, resp.Body); len(recs) != 2 || string(recs[0].Body) != "r1" || string(recs[1].Body) != "r2" ||
		recs[1].ReconsumeTimes != 15 {
		t.Fatalf("delayed retries: %+v", recs)
	}

	// An unknown group is refused and nothing is stored.
	unknown := sendV2(msg{topic: body.RetryTopic("GID_none"), queueID: -1, body: "x"})
	wantCode(t, b.invoke(unknown), remoting.RespSubscriptionGroupNotExist)
	if _, ok := meta.Topic(body.RetryTopic("GID_none")); ok {
		t.Fatal("a refused send created the retry topic")
	}
}
