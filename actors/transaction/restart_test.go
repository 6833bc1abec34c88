package transaction_test

import (
	"reflect"
	"testing"

	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// openTransactions leaves b with: A committed; B checked once (its copy
// waiting behind C); C open and younger than transactionTimeOut, so the
// scan stopped at it. The half queue holds A, B, C and B's copy.
func openTransactions(t *testing.T, sh *shared, b *broker) (a, bh, c half, bCheck check) {
	t.Helper()
	b.register(testGroup)
	a = b.sendHalf("tx-A", "UNIQ-A", nil)
	if resp := b.end(a, message.TransactionCommit, false); resp.Code != remoting.RespSuccess {
		t.Fatalf("commit A: %d %s", resp.Code, resp.Remark)
	}
	bh = b.sendHalf("tx-B", "UNIQ-B", nil)
	sh.clock.Add(testTimeout * 6 / 10)
	c = b.sendHalf("tx-C", "UNIQ-C", nil)
	sh.clock.Add(testTimeout * 5 / 10)
	b.scan(4)
	bCheck = b.waitChecks(bh.uniq, 1)[0]
	return a, bh, c, bCheck
}

// TestRestartKeepsTransactions: after a clean stop, the rebuilt state
// checks the open transactions where they were (B's second check, C's
// first), never the committed one, and refuses a second END of it.
func TestRestartKeepsTransactions(t *testing.T) {
	sh := newShared(t)
	b1 := startBroker(t, sh, testConfig())
	a, bh, c, _ := openTransactions(t, sh, b1)
	b1.stop()

	b2 := startBroker(t, sh, testConfig())
	b2.register(testGroup)
	sh.clock.Add(testTimeout)
	b2.scan(6) // copies of C and of B's copy
	cCheck := b2.waitChecks(c.uniq, 1)[0]
	bCheck := b2.waitChecks(bh.uniq, 1)[0]
	if bCheck.times() != "2" || cCheck.times() != "1" {
		t.Fatalf("after restart B's check carries TRANSACTION_CHECK_TIMES=%s (want 2), C's %s (want 1)", bCheck.times(), cCheck.times())
	}
	if resp := b2.end(bCheck.half(), message.TransactionCommit, true); resp.Code != remoting.RespSuccess {
		t.Fatalf("commit B: %d %s", resp.Code, resp.Remark)
	}
	if resp := b2.end(cCheck.half(), message.TransactionRollback, true); resp.Code != remoting.RespSuccess {
		t.Fatalf("rollback C: %d %s", resp.Code, resp.Remark)
	}
	if resp := b2.end(a, message.TransactionCommit, false); resp.Code != remoting.RespSystemError {
		t.Fatalf("second commit of A after restart: %d %s, want SYSTEM_ERROR", resp.Code, resp.Remark)
	}
	b2.scan(6) // passes the ended transactions
	if n := len(b1.checksFor(a.uniq)) + len(b2.checksFor(a.uniq)); n != 0 {
		t.Fatalf("committed A checked %d times", n)
	}
	if got := b2.delivered(2); !reflect.DeepEqual(got, []string{"tx-A", "tx-B"}) {
		t.Fatalf("delivered %v", got)
	}
}

// TestRestartWithStaleProgress: a restart from progress saved before the
// last scan (a crash before the offsets were persisted) sees both B's half
// message and its copy; only the copy, the newest record of B, is checked,
// and the late END of B's original commits it.
func TestRestartWithStaleProgress(t *testing.T) {
	sh := newShared(t)
	before := sh.offsets.snapshot()
	b1 := startBroker(t, sh, testConfig())
	a, bh, c, _ := openTransactions(t, sh, b1)
	b1.stop()
	sh.offsets.restore(before)

	b2 := startBroker(t, sh, testConfig())
	b2.register(testGroup)
	sh.clock.Add(testTimeout)
	// From the start of the half queue: A ended (its op record), B's
	// original superseded by its copy, copies of C and of B's copy.
	b2.scan(6)
	b2.waitChecks(c.uniq, 1)
	if got := b2.waitChecks(bh.uniq, 1); len(got) != 1 || got[0].times() != "2" {
		t.Fatalf("B's checks after restart: %d, first TRANSACTION_CHECK_TIMES=%s; want one, 2", len(got), got[0].times())
	}
	if resp := b2.end(bh, message.TransactionCommit, false); resp.Code != remoting.RespSuccess {
		t.Fatalf("late commit of B's original: %d %s", resp.Code, resp.Remark)
	}
	if resp := b2.end(a, message.TransactionCommit, false); resp.Code != remoting.RespSystemError {
		t.Fatalf("second commit of A: %d %s, want SYSTEM_ERROR", resp.Code, resp.Remark)
	}
	if got := b2.delivered(2); !reflect.DeepEqual(got, []string{"tx-A", "tx-B"}) {
		t.Fatalf("delivered %v", got)
	}
}
