package main

import (
	"strings"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/wire/remoting"
)

// TestEveryRequestEndsOnce: whatever the broker does, each request a run
// starts ends exactly once, answered (its messages counted) or failed (one
// error), and the run returns: answers, failure codes, no answer (the send
// timeout) and connections that close under the requests.
func TestEveryRequestEndsOnce(t *testing.T) {
	const requests = 40
	for _, c := range []struct {
		name       string
		broker     echoAnswers
		o          producerOpts
		answered   int64 // requests counted as sent; -1: some, not known which
		firstError string
	}{
		{"async answered", echoAnswers{}, producerOpts{mode: modeAsync, conns: 2, inflight: 8, batch: 1}, requests, ""},
		{"sync answered", echoAnswers{}, producerOpts{mode: modeSync, conns: 2, inflight: 3, batch: 1}, requests, ""},
		{"batch answered", echoAnswers{}, producerOpts{mode: modeAsync, conns: 1, inflight: 4, batch: 5, header: "rocketmq"}, requests, ""},
		{"oneway with fence", echoAnswers{}, producerOpts{mode: modeOneway, conns: 2, inflight: 2, batch: 1}, requests + 2, ""},
		{"async busy", echoAnswers{code: remoting.RespSystemBusy, remark: "[OVERLOAD]"},
			producerOpts{mode: modeAsync, conns: 2, inflight: 8, batch: 1}, 0, "response code 2: [OVERLOAD]"},
		{"async unanswered", echoAnswers{silent: true},
			producerOpts{mode: modeAsync, conns: 2, inflight: 64, batch: 1}, 0, "no answer to a send within"},
		{"sync unanswered", echoAnswers{silent: true},
			producerOpts{mode: modeSync, conns: 1, inflight: 8, batch: 1}, 0, "no answer to a send within"},
		{"async connection lost", echoAnswers{closeAfterOne: true},
			producerOpts{mode: modeAsync, conns: 1, inflight: 16, batch: 1}, -1, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			echo := startEchoWith(t, c.broker)
			o := c.o
			o.size, o.messages = 32, requests*int64(o.batch)
			if o.header == "" {
				o.header = "json"
			}
			if err := o.check(); err != nil {
				t.Fatal(err)
			}
			p, err := newProducer(echoCluster(echo.addr(), 4), o)
			if err != nil {
				t.Fatal(err)
			}
			defer p.close()
			p.timeout = 200 * time.Millisecond
			if err := p.run(testkit.ContextWithin(t, time.Minute), nil); err != nil {
				t.Fatal(err)
			}

			sent, errs := p.m.msgs.Load()/int64(o.batch), p.m.errors.Load()
			started := int64(requests)
			if o.mode == modeOneway {
				started += int64(o.conns) // the fence
			}
			if sent+errs != started {
				t.Fatalf("%d answered + %d failed, want %d requests", sent, errs, started)
			}
			if c.answered >= 0 && sent != c.answered {
				t.Errorf("%d requests answered, want %d", sent, c.answered)
			}
			if c.answered < 0 && errs == 0 {
				t.Error("no failure with every connection closed")
			}
			if first := p.m.firstErr.Load(); c.firstError != "" && (first == nil || !strings.Contains(*first, c.firstError)) {
				t.Errorf("first error %v, want one with %q", first, c.firstError)
			}
			var rest histogram
			p.m.drain(&rest) // into p.m.total
			if got := p.m.total.total; c.answered >= 0 && got != uint64(c.answered) {
				t.Errorf("%d latency samples, want one per answered request (%d)", got, c.answered)
			}
		})
	}
}
