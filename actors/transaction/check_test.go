package transaction_test

import (
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/transaction"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// TestCheckBackThenCommit: an open half message older than
// transactionTimeOut is re-appended and checked with the copy's offsets;
// the answer commits it once, and neither a late END of the producer nor
// later scans change anything.
func TestCheckBackThenCommit(t *testing.T) {
	sh := newShared(t)
	b := startBroker(t, sh, testConfig())
	b.register(testGroup)
	h := b.sendHalf("tx-checked", "UNIQ-C1", nil)
	sh.clock.Add(testTimeout / 2)
	young := b.sendHalf("tx-young", "UNIQ-C2", nil)

	sh.clock.Add(testTimeout/2 + 1)
	b.scan(3) // h's copy; the young one stops the scan
	c := b.waitChecks(h.uniq, 1)[0]
	if n := len(b.checksFor(young.uniq)); n != 0 {
		t.Fatalf("a half message younger than transactionTimeOut was checked %d times", n)
	}
	if c.cmd.Flag&remoting.FlagOneway == 0 {
		t.Fatal("check is not oneway")
	}
	ch := c.half()
	if ch.queueOffset <= young.queueOffset || ch.physOffset <= young.physOffset || ch.uniq != h.uniq {
		t.Fatalf("check names %+v; want a copy appended after %+v", ch, young)
	}
	if c.cmd.ExtFields["transactionId"] != h.uniq || c.cmd.ExtFields["topic"] != body.TransHalfTopic {
		t.Fatalf("check header %v", c.cmd.ExtFields)
	}
	m := c.msg
	if m.Topic != testTopic || m.QueueID != 2 || m.QueueOffset != ch.queueOffset || m.PhysicalOffset != ch.physOffset || string(m.Body) != "tx-checked" {
		t.Fatalf("check body %s/%d at %d/%d %q", m.Topic, m.QueueID, m.QueueOffset, m.PhysicalOffset, m.Body)
	}
	props := message.ParseProperties(m.Properties)
	if props[message.PropertyProducerGroup] != testGroup || c.times() != "1" ||
		props[message.PropertyTranPreparedQueueOffset] != strconv.FormatInt(h.queueOffset, 10) {
		t.Fatalf("check body properties %v", props)
	}

	if resp := b.end(ch, message.TransactionCommit, true); resp.Code != remoting.RespSuccess {
		t.Fatalf("commit from check: %d %s", resp.Code, resp.Remark)
	}
	if resp := b.end(h, message.TransactionCommit, false); resp.Code != remoting.RespSystemError {
		t.Fatalf("late commit of the original: %d %s, want SYSTEM_ERROR", resp.Code, resp.Remark)
	}
	// The young one comes due; the scan passes h's copy without a copy.
	sh.clock.Add(testTimeout)
	b.scan(4)
	b.waitChecks(young.uniq, 1)
	if got := b.halfTimes(h.uniq); got != "[ 1]" {
		t.Fatalf("half records of the committed transaction carry TRANSACTION_CHECK_TIMES %s, want the original and one copy", got)
	}
	if n := len(b.checksFor(h.uniq)); n != 1 {
		t.Fatalf("committed transaction checked %d times, want 1", n)
	}
	if got := b.delivered(1); !reflect.DeepEqual(got, []string{"tx-checked"}) {
		t.Fatalf("delivered %v", got)
	}
}

// TestCheckMaxThenDiscard: a producer that never answers is checked exactly
// transactionCheckMax times, counting up, then the half message moves to
// TRANS_CHECK_MAX_TIME_TOPIC and is checked no more.
func TestCheckMaxThenDiscard(t *testing.T) {
	sh := newShared(t)
	b := startBroker(t, sh, testConfig())
	b.register(testGroup)
	h := b.sendHalf("tx-never", "UNIQ-M1", nil)
	sh.clock.Add(testTimeout + 1)
	for i := range testMax {
		b.scan(2 + i)
	}
	checks := b.waitChecks(h.uniq, testMax)
	b.scan(testMax + 1) // the discard
	b.scan(testMax + 1) // and nothing more
	if got := b.checksFor(h.uniq); len(got) != testMax {
		t.Fatalf("checked %d times, want %d", len(got), testMax)
	}
	for i, c := range checks {
		if c.times() != strconv.Itoa(i+1) {
			t.Fatalf("check %d carries TRANSACTION_CHECK_TIMES=%s", i+1, c.times())
		}
	}
	discarded := b.waitRecords(store.QueueKey{Topic: transaction.CheckMaxTimeTopic}, 1)
	if len(discarded) != 1 || string(discarded[0].Body) != "tx-never" {
		t.Fatalf("%s holds %+v", transaction.CheckMaxTimeTopic, discarded)
	}
	if got := sh.meta.createdTopics(); !reflect.DeepEqual(got, []string{transaction.CheckMaxTimeTopic}) {
		t.Fatalf("topics created %v", got)
	}
	last := checks[testMax-1].half()
	if resp := b.end(last, message.TransactionCommit, true); resp.Code != remoting.RespSystemError {
		t.Fatalf("commit after discard: %d %s, want SYSTEM_ERROR", resp.Code, resp.Remark)
	}
	if got := b.delivered(0); len(got) != 0 {
		t.Fatalf("delivered %v", got)
	}
}

// TestNoLiveProducerPostponesChecks: in the first 30 s after start, without
// a live producer of the group a due half message is moved along
// uncounted; the first producer to register gets check number 1.
func TestNoLiveProducerPostponesChecks(t *testing.T) {
	sh := newShared(t)
	b := startBroker(t, sh, testConfig())
	h := b.sendHalf("tx-orphan", "UNIQ-O1", nil)
	sh.clock.Add(testTimeout + 1)
	rounds := testMax + 1 // more than transactionCheckMax: none may count
	for i := range rounds {
		b.scan(2 + i)
	}
	if got, want := b.halfTimes(h.uniq), fmt.Sprint(make([]string, rounds+1)); got != want {
		t.Fatalf("half records of the orphan carry TRANSACTION_CHECK_TIMES %s, want %s (uncounted)", got, want)
	}
	b.register(testGroup)
	b.scan(rounds + 2)
	c := b.waitChecks(h.uniq, 1)[0]
	if c.times() != "1" {
		t.Fatalf("first check after %d uncounted copies carries TRANSACTION_CHECK_TIMES=%s", rounds, c.times())
	}
	if resp := b.end(c.half(), message.TransactionRollback, true); resp.Code != remoting.RespSuccess {
		t.Fatalf("rollback from check: %d %s", resp.Code, resp.Remark)
	}
	b.scan(rounds + 2) // passes the rolled back transaction
	if n := len(b.checksFor(h.uniq)); n != 1 {
		t.Fatalf("rolled back transaction checked %d times, want 1", n)
	}
	if got := b.delivered(0); len(got) != 0 {
		t.Fatalf("delivered %v", got)
	}
}

// TestNoLiveProducerCountsAfterGrace: once 30 s have passed since start, a
// round without a live producer of the group counts as a check, so a half
// message whose producers are gone for good is copied transactionCheckMax
// times and then discarded, never checked; a producer that registers later
// gets no check of it.
//
// It runs on the check timer, the one test that does: nothing in it has to
// happen between two scans (no producer answers a check, and the discard
// ends the copies).
func TestNoLiveProducerCountsAfterGrace(t *testing.T) {
	sh := newShared(t)
	cfg := testConfig()
	cfg.TransactionCheckInterval = 5 * time.Millisecond
	b := startBroker(t, sh, cfg)
	h := b.sendHalf("tx-abandoned", "UNIQ-G1", nil)
	sh.clock.Add(30 * time.Second)
	discarded := b.waitRecords(store.QueueKey{Topic: transaction.CheckMaxTimeTopic}, 1)
	if string(discarded[0].Body) != "tx-abandoned" {
		t.Fatalf("%s holds %q", transaction.CheckMaxTimeTopic, discarded[0].Body)
	}
	b.register(testGroup)
	marker := b.sendHalf("marker", "UNIQ-G2", nil)
	sh.clock.Add(testTimeout + 1)
	// The marker's second check comes from a scan that passed the last
	// copy of the abandoned one after its discard.
	b.waitChecks(marker.uniq, 2)
	if n := len(b.checksFor(h.uniq)); n != 0 {
		t.Fatalf("abandoned half message checked %d times", n)
	}
	if got := b.halfTimes(h.uniq); got != "[ 1 2 3]" {
		t.Fatalf("half records of the abandoned transaction carry TRANSACTION_CHECK_TIMES %s, want the original and 3 counted copies", got)
	}
}

// TestCheckImmunityDelaysFirstCheck: CHECK_IMMUNITY_TIME_IN_SECONDS holds the
// first check back beyond transactionTimeOut without blocking later half
// messages.
func TestCheckImmunityDelaysFirstCheck(t *testing.T) {
	sh := newShared(t)
	b := startBroker(t, sh, testConfig())
	b.register(testGroup)
	immune := b.sendHalf("tx-immune", "UNIQ-I1", map[string]string{message.PropertyCheckImmunityTime: "5"})
	plain := b.sendHalf("tx-plain", "UNIQ-I2", nil)
	sh.clock.Add(testTimeout + 1)
	b.scan(4) // the immune one moved along uncounted, the plain one checked
	b.scan(6)
	b.waitChecks(plain.uniq, 2)
	if n := len(b.checksFor(immune.uniq)); n != 0 {
		t.Fatalf("immune half message checked %d times before its time", n)
	}
	if got := b.halfTimes(immune.uniq); got != "[  ]" {
		t.Fatalf("half records of the immune one carry TRANSACTION_CHECK_TIMES %s, want the original and 2 uncounted copies", got)
	}
	sh.clock.Add(5 * testTimeout)
	b.scan(8)
	if c := b.waitChecks(immune.uniq, 1)[0]; c.times() != "1" {
		t.Fatalf("first check carries TRANSACTION_CHECK_TIMES=%s", c.times())
	}
}
