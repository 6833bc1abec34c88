package locks

import (
	"fmt"
	"testing"
	"time"

	"github.com/actormq/actormq/wire/body"
)

func mq(topic string, id int32) body.MessageQueue {
	return body.MessageQueue{Topic: topic, BrokerName: "broker-a", QueueID: id}
}

// TestTable walks one scripted sequence of lock, unlock and release steps
// and checks every answer.
func TestTable(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	tb := newTable(60 * time.Second)
	q0, q1, q2 := mq("T", 0), mq("T", 1), mq("T", 2)
	type step struct {
		name   string
		at     time.Duration // since t0
		do     func(now time.Time) []body.MessageQueue
		wantOK []body.MessageQueue // for lock steps
	}
	lock := func(group, client string, mqs ...body.MessageQueue) func(time.Time) []body.MessageQueue {
		return func(now time.Time) []body.MessageQueue { return tb.lock(group, client, mqs, now) }
	}
	unlock := func(group, client string, mqs ...body.MessageQueue) func(time.Time) []body.MessageQueue {
		return func(time.Time) []body.MessageQueue { tb.unlock(group, client, mqs); return nil }
	}
	steps := []step{
		{"A locks free queues, duplicates once", 0, lock("G", "A", q0, q1, q0), []body.MessageQueue{q0, q1}},
		{"B gets only the free one", time.Second, lock("G", "B", q0, q1, q2), []body.MessageQueue{q2}},
		{"another group is separate", time.Second, lock("H", "B", q0), []body.MessageQueue{q0}},
		{"A renews q0 at 50 s", 50 * time.Second, lock("G", "A", q0), []body.MessageQueue{q0}},
		{"B unlocking A's queue changes nothing", 50 * time.Second, unlock("G", "B", q0, q1), nil},
		{"B still refused at 60 s (q1 exactly at expiry)", 60 * time.Second, lock("G", "B", q0, q1), nil},
		{"q1 expired at 61 s: B takes it, q0 renewed at 50 s stays A's", 61 * time.Second, lock("G", "B", q0, q1), []body.MessageQueue{q1}},
		{"A lost q1", 61 * time.Second, lock("G", "A", q1), nil},
		{"A unlocks q0", 62 * time.Second, unlock("G", "A", q0), nil},
		{"B takes q0 at once", 62 * time.Second, lock("G", "B", q0), []body.MessageQueue{q0}},
	}
	for _, s := range steps {
		got := s.do(t0.Add(s.at))
		if fmt.Sprint(got) != fmt.Sprint(s.wantOK) && (len(got) != 0 || len(s.wantOK) != 0) {
			t.Fatalf("%s: granted %v, want %v", s.name, got, s.wantOK)
		}
	}
	if n := tb.releaseClient("B"); n != 4 { // G: q0 q1 q2, H: q0
		t.Fatalf("released %d locks of B, want 4", n)
	}
	if len(tb.groups) != 0 {
		t.Fatalf("table not empty after releasing everything: %v", tb.groups)
	}
	if got := tb.lock("G", "A", []body.MessageQueue{q0, q1, q2}, t0.Add(63*time.Second)); len(got) != 3 {
		t.Fatalf("A after B left: %v", got)
	}
}
