package queue

import (
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
)

// decodedPull round-trips cmd through the wire, so that it lives in a
// pooled frame as a pull from a client does.
func decodedPull(t *testing.T, cmd *remoting.Command) *remoting.Command {
	t.Helper()
	d, err := remoting.DecodeFrame(remoting.AppendFrame(nil, cmd))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestPullStringsOutliveRelease: handlePull releases the decoded pull
// before it returns; race builds then poison its frame, normal builds hand
// it to the next decode (here a pull of other names of the same lengths).
// What the pull left behind must still read the original names: the
// offset commit, the held request that a later message answers, the
// group's get counter, and the queue a held pull of a missing queue waits
// for. Each would read the overwritten bytes if it kept a view of the
// frame.
func TestPullStringsOutliveRelease(t *testing.T) {
	h := newHarness(t, nil)
	h.send(t, q0, "TagA")
	c := newFakeConn()
	h.r.handlePull(c, decodedPull(t, pullCmd("g1", 0, 1, pullFlagSuspend|pullFlagCommitOffset, 20*time.Second, "")))
	absent := store.QueueKey{Topic: testTopic, QueueID: 2}
	h.r.handlePull(c, decodedPull(t, pullCmd("g1", absent.QueueID, 0, pullFlagSuspend, 20*time.Second, "")))
	other := pullCmd("x9", 0, 1, 0, 0, "")
	other.ExtFields["topic"] = strings.Repeat("Z", len(testTopic))
	_ = decodedPull(t, other) // kept unreleased: its bytes stay in the recycled frame
	testkit.Eventually(t, "held", func() bool { return h.heldCount() == 2 })

	h.offs.mu.Lock()
	commits := append([]commit(nil), h.offs.commits...)
	h.offs.mu.Unlock()
	if want := (commit{group: "g1", topic: testTopic, queueID: 0, offset: 7}); len(commits) != 1 || commits[0] != want {
		t.Fatalf("commits %v, want %v", commits, want)
	}

	h.send(t, q0, "TagB")
	h.send(t, absent, "TagC")
	got := map[string]bool{}
	for range 2 {
		r := c.next(t)
		if r.cmd.Code != remoting.RespSuccess {
			t.Fatalf("code %d (%s)", r.cmd.Code, r.cmd.Remark)
		}
		for _, b := range bodies(t, r.body) {
			got[b] = true
		}
	}
	if !got["body-1-TagB"] || !got["body-0-TagC"] || len(got) != 2 {
		t.Fatalf("held pulls answered with %v", got)
	}
	if n := h.r.Counters().GroupGet(GroupTopic{Group: "g1", Topic: testTopic}); n != 2 {
		t.Fatalf("group g1 got %d messages, want 2", n)
	}
	if h.r.lookup(absent) == nil {
		t.Fatalf("queue %v not found by its name", absent)
	}
}

// TestInternTable: get returns equal strings that do not share the
// caller's memory, the same copy for the same name, and plain copies for
// a name too long for a group and once the table is full.
func TestInternTable(t *testing.T) {
	tab := internTable{m: make(map[string]string)}
	b := []byte("group-A")
	view := unsafe.String(&b[0], len(b))
	first := tab.get(view)
	b[0] = 'X' // the caller's memory changes (as a recycled frame's does)
	if first != "group-A" {
		t.Fatalf("interned %q", first)
	}
	if again := tab.get("group-A"); unsafeData(again) != unsafeData(first) {
		t.Fatal("second get made another copy")
	}
	long := strings.Repeat("g", body.GroupBytesMax+1)
	if got := tab.get(long); got != long || len(tab.m) != 1 {
		t.Fatalf("a name past GroupBytesMax: got %d bytes, %d entries", len(got), len(tab.m))
	}
	for i := len(tab.m); i < groupNamesMax; i++ {
		tab.m[strconv.Itoa(i)] = ""
	}
	if got := tab.get("late"); got != "late" || len(tab.m) != groupNamesMax {
		t.Fatalf("full table: got %q, %d entries", got, len(tab.m))
	}
}

func unsafeData(s string) *byte { return unsafe.StringData(s) }
