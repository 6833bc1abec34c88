package main

import "time"

// keptUpLag is how far behind the producers a tailing consumer may be when
// they stop and still count as keeping up: one second of their sends. A
// consumer slower than the producers falls further behind every second, so
// over a run of many seconds its lag at the end exceeds this; one that keeps
// up is behind by about one pull round trip.
const keptUpLag = time.Second

// tail says whether the tailing consumer of a mixed or e2e run kept up with
// the producers.
type tail struct {
	SendMsgsPerS     float64 `json:"send_msgs_per_s"`     // acknowledged sends over the producing time
	ConsumerMsgsPerS float64 `json:"consumer_msgs_per_s"` // receipts over the same time
	LagEndMsgs       int64   `json:"lag_end_msgs"`        // sent − received when the producers stopped
	CatchUpMs        int64   `json:"catch_up_ms"`         // from then until all were received; -1: not within drainWait
	KeptUp           bool    `json:"kept_up"`             // caught up, and LagEndMsgs at most keptUpLag of sends
}

// newTail computes the tail figures: receivedAtEnd is what the consumer had
// received when the producers stopped after elapsed, catchUp the time from
// then until the wait for the rest ended; sent and received are final.
func newTail(sent, received, receivedAtEnd int64, elapsed, catchUp time.Duration) *tail {
	secs := elapsed.Seconds()
	t := &tail{
		SendMsgsPerS:     float64(sent) / secs,
		ConsumerMsgsPerS: float64(receivedAtEnd) / secs,
		LagEndMsgs:       sent - receivedAtEnd,
		CatchUpMs:        -1,
	}
	if received >= sent {
		t.CatchUpMs = catchUp.Milliseconds()
	}
	t.KeptUp = t.CatchUpMs >= 0 && float64(t.LagEndMsgs) <= t.SendMsgsPerS*keptUpLag.Seconds()
	return t
}
