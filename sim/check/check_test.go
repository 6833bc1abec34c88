package check

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/actormq/actormq/sim/history"
	"github.com/actormq/actormq/wire/remoting"
)

const topic = "SimTopic"

func body(id string) []byte { return []byte("body-" + id) }

// run builds a history by hand: events get Seq in order and At from a
// clock the test advances.
type run struct {
	evs  []history.Event
	now  time.Duration
	st   Store
	phys int64 // CommitLog offset of the next stored record
}

func newRun() *run { return &run{st: Store{Queues: map[QueueKey][]Unit{}}} }

func (r *run) add(e history.Event) {
	e.Seq, e.At = int64(len(r.evs)), r.now
	r.evs = append(r.evs, e)
}

func (r *run) tick(d time.Duration) { r.now += d }

// acked sends id to queue q, is acknowledged at offset off and is stored
// there (the store gets the record and its unit).
func (r *run) acked(id string, q int32, off int64) {
	r.add(history.Event{Kind: history.Send, Actor: "p0", ID: id, Topic: topic, Queue: q})
	r.add(history.Event{Kind: history.Ack, Actor: "p0", ID: id, Topic: topic, Queue: q, Offset: off})
	r.store(id, q, off)
}

// store appends a record of id to the CommitLog and its consume queue.
func (r *run) store(id string, q int32, off int64) {
	phys := r.phys
	r.phys += 100
	r.st.Records = append(r.st.Records, Record{Phys: phys, Size: 100, Topic: topic, Queue: q, QueueOffset: off, ID: id, Body: body(id)})
	k := QueueKey{topic, q}
	for int64(len(r.st.Queues[k])) <= off {
		r.st.Queues[k] = append(r.st.Queues[k], Unit{})
	}
	r.st.Queues[k][off] = Unit{Phys: phys, Size: 100}
}

func (r *run) deliver(group, actor, id string, q int32, session, req int64, index int) {
	r.add(history.Event{Kind: history.Deliver, Actor: actor, Group: group, Topic: topic, ID: id, Queue: q,
		Offset: req + int64(index), Req: req, Index: index, Session: session, Issued: int64(len(r.evs))})
}

func (r *run) offset(kind history.Kind, group string, q int32, off int64) {
	r.add(history.Event{Kind: kind, Actor: "c0", Group: group, Topic: topic, Queue: q, Offset: off})
}

func (r *run) broker(kind history.Kind, detail string) {
	r.add(history.Event{Kind: kind, Actor: "sim", Detail: detail, Dur: time.Second})
}

func config() Config {
	return Config{
		Topic: topic, Groups: []Group{{Name: "g"}, {Name: "o", Orderly: true}}, Body: body,
		OffsetFlush: 5 * time.Second, RecoveryMax: 10 * time.Second,
		DiskBackMax: 5 * time.Second, CommitLogBytes: 1000, Drained: true,
	}
}

// baseline is a run that breaks nothing: three messages on two queues,
// each delivered to both groups (consumer c0 of the orderly group o holds
// the locks of queues 0-2), offsets committed and read back after a clean
// restart.
func baseline() *run {
	r := newRun()
	r.broker(history.BrokerUp, "")
	for q := range int32(3) {
		r.add(history.Event{Kind: history.Lock, Actor: "c0", Group: "o", Queue: q})
	}
	r.acked("a", 0, 0)
	r.acked("b", 0, 1)
	r.acked("c", 1, 0)
	for _, g := range []string{"g", "o"} {
		r.deliver(g, "c0", "a", 0, 1, 0, 0)
		r.deliver(g, "c0", "b", 0, 1, 0, 1)
		r.deliver(g, "c0", "c", 1, 2, 0, 0)
		r.offset(history.Commit, g, 0, 2)
	}
	r.broker(history.BrokerDown, history.StopClean)
	r.broker(history.BrokerUp, "")
	r.offset(history.OffsetRead, "g", 0, 2)
	return r
}

// check runs the checker and returns the violated invariants.
func check(t *testing.T, r *run, cfg Config) []string {
	t.Helper()
	res := Check(cfg, r.evs, &r.st)
	var names []string
	for _, v := range res.Violations {
		names = append(names, v.Invariant)
	}
	if testing.Verbose() {
		var out bytes.Buffer
		res.Report(&out, 1, r.evs)
		t.Log("\n" + out.String())
	}
	return names
}

func TestBaselinePasses(t *testing.T) {
	if got := check(t, baseline(), config()); len(got) != 0 {
		t.Fatalf("violations %v in a run that breaks nothing", got)
	}
}

// TestEachBreakIsReported feeds histories and stores that each break one
// invariant; the checker must name exactly that one.
func TestEachBreakIsReported(t *testing.T) {
	tests := []struct {
		name    string
		breakIt func(r *run)
		want    string
	}{
		{name: "lost ack", want: "acked-once", breakIt: func(r *run) {
			r.add(history.Event{Kind: history.Send, ID: "d", Topic: topic, Queue: 1})
			r.add(history.Event{Kind: history.Ack, ID: "d", Topic: topic, Queue: 1, Offset: 1})
		}},
		{name: "ack at another offset", want: "acked-once", breakIt: func(r *run) {
			r.add(history.Event{Kind: history.Send, ID: "d", Topic: topic, Queue: 1})
			r.add(history.Event{Kind: history.Ack, ID: "d", Topic: topic, Queue: 1, Offset: 7})
			r.store("d", 1, 1)
			r.deliver("g", "c0", "d", 1, 2, 1, 0)
			r.deliver("o", "c0", "d", 1, 2, 1, 0)
		}},
		{name: "duplicate in the log", want: "at-most-once", breakIt: func(r *run) {
			r.store("c", 1, 1)
			r.deliver("g", "c0", "c", 1, 2, 1, 0)
			r.deliver("o", "c0", "c", 1, 2, 1, 0)
		}},
		{name: "phantom delivery", want: "phantom", breakIt: func(r *run) {
			r.deliver("g", "c0", "zz", 1, 3, 5, 0)
		}},
		{name: "phantom record", want: "phantom", breakIt: func(r *run) {
			r.store("zz", 1, 1)
			r.deliver("g", "c0", "zz", 1, 2, 1, 0)
			r.deliver("o", "c0", "zz", 1, 2, 1, 0)
		}},
		{name: "gap in delivered offsets", want: "pull-dense", breakIt: func(r *run) {
			r.acked("d", 0, 2)
			r.acked("e", 0, 3)
			r.deliver("g", "c0", "e", 0, 1, 3, 0) // session 1 got 0 and 1, then 3
			r.deliver("g", "c0", "d", 0, 4, 2, 0)
			r.deliver("o", "c0", "d", 0, 5, 2, 0)
			r.deliver("o", "c0", "e", 0, 5, 2, 1)
		}},
		{name: "pull body not from the request offset", want: "pull-dense", breakIt: func(r *run) {
			r.add(history.Event{Kind: history.Deliver, Group: "g", ID: "c", Topic: topic, Queue: 1, Offset: 0, Req: 4, Session: 9})
		}},
		{name: "not-found answer moves the offset", want: "pull-dense", breakIt: func(r *run) {
			r.add(history.Event{Kind: history.Pulled, Group: "g", Topic: topic, Queue: 1, Req: 1, Offset: 3, Code: remoting.RespPullNotFound, Session: 2})
		}},
		{name: "gap in the log's queue offsets", want: "log-valid", breakIt: func(r *run) {
			r.acked("d", 1, 2) // queue 1 has offsets 0 and 2
			r.deliver("g", "c0", "d", 1, 7, 2, 0)
			r.deliver("o", "c0", "d", 1, 8, 2, 0)
		}},
		{name: "unit points elsewhere", want: "log-valid", breakIt: func(r *run) {
			r.st.Queues[QueueKey{topic, 0}][1].Phys = 200
		}},
		{name: "scan problem", want: "log-valid", breakIt: func(r *run) {
			r.st.Problems = append(r.st.Problems, "commitlog offset 300: bad CRC")
		}},
		{name: "corrupt record served", want: "corrupt-served", breakIt: func(r *run) {
			r.add(history.Event{Kind: history.Deliver, Group: "g", ID: "a", Topic: topic, Queue: 0, Offset: 0, Session: 8, Detail: "body CRC mismatch"})
		}},
		{name: "acked message not delivered", want: "delivered-all", breakIt: func(r *run) {
			r.acked("d", 1, 1)
			r.deliver("g", "c0", "d", 1, 2, 1, 0)
		}},
		{name: "consumed offset reused after a power cut", want: "delivered-all", breakIt: func(r *run) {
			// e is consumed before it is flushed, the cut loses it, f gets
			// its offset and the consumers, already past it, skip f.
			r.add(history.Event{Kind: history.Send, ID: "e", Topic: topic, Queue: 1})
			r.deliver("g", "c0", "e", 1, 2, 1, 0)
			r.deliver("o", "c0", "e", 1, 2, 1, 0)
			r.broker(history.BrokerDown, history.StopPowerCut)
			r.add(history.Event{Kind: history.Maybe, ID: "e", Topic: topic, Queue: 1})
			r.broker(history.BrokerUp, "")
			r.acked("f", 1, 1)
		}},
		{name: "delivered at another offset", want: "delivery-matches-log", breakIt: func(r *run) {
			r.add(history.Event{Kind: history.Deliver, Group: "g", ID: "b", Topic: topic, Queue: 0, Offset: 5, Req: 5, Session: 6})
		}},
		{name: "delivered and lost without a power cut", want: "delivery-matches-log", breakIt: func(r *run) {
			r.add(history.Event{Kind: history.Send, ID: "d", Topic: topic, Queue: 1})
			r.add(history.Event{Kind: history.Maybe, ID: "d", Topic: topic, Queue: 1})
			r.deliver("g", "c0", "d", 1, 2, 1, 0)
			r.broker(history.BrokerDown, history.StopKill)
			r.broker(history.BrokerUp, "")
		}},
		{name: "order violation", want: "order", breakIt: func(r *run) {
			r.add(history.Event{Kind: history.Send, ID: "k1", Topic: topic, Queue: 2, Key: "K", KeySeq: 1})
			r.add(history.Event{Kind: history.Ack, ID: "k1", Topic: topic, Queue: 2, Offset: 0})
			r.add(history.Event{Kind: history.Send, ID: "k2", Topic: topic, Queue: 2, Key: "K", KeySeq: 2})
			r.add(history.Event{Kind: history.Ack, ID: "k2", Topic: topic, Queue: 2, Offset: 1})
			r.store("k1", 2, 0)
			r.store("k2", 2, 1)
			// Session 20 is handed k2 then, after an offset move, k1.
			r.deliver("o", "c0", "k2", 2, 20, 1, 0)
			r.add(history.Event{Kind: history.Pulled, Group: "o", Topic: topic, Queue: 2, Req: 2, Offset: 0, Code: remoting.RespPullOffsetMoved, Session: 20})
			r.deliver("o", "c0", "k1", 2, 20, 0, 0)
			r.deliver("g", "c0", "k1", 2, 21, 0, 0)
			r.deliver("g", "c0", "k2", 2, 21, 0, 1)
		}},
		{name: "lock granted twice", want: "lock-exclusive", breakIt: func(r *run) {
			r.add(history.Event{Kind: history.Lock, Actor: "c0", Group: "o", Queue: 1})
			r.add(history.Event{Kind: history.Lock, Actor: "c1", Group: "o", Queue: 1})
			r.acked("d", 1, 1)
			r.deliver("g", "c0", "d", 1, 2, 1, 0)
			r.add(history.Event{Kind: history.Deliver, Actor: "c0", Group: "o", Topic: topic, ID: "d", Queue: 1, Offset: 1, Req: 1, Session: 2, Issued: int64(len(r.evs))})
		}},
		{name: "delivered without the lock", want: "lock-exclusive", breakIt: func(r *run) {
			r.add(history.Event{Kind: history.Lock, Actor: "c0", Group: "o", Queue: 1})
			r.add(history.Event{Kind: history.Unlock, Actor: "c0", Group: "o", Queue: 1})
			r.acked("d", 1, 1)
			r.deliver("g", "c0", "d", 1, 2, 1, 0)
			r.add(history.Event{Kind: history.Deliver, Actor: "c0", Group: "o", Topic: topic, ID: "d", Queue: 1, Offset: 1, Req: 1, Session: 2, Issued: int64(len(r.evs))})
		}},
		{name: "offset backwards in one broker run", want: "offsets", breakIt: func(r *run) {
			r.offset(history.Commit, "g", 0, 3)
			r.offset(history.OffsetRead, "g", 0, 2)
		}},
		{name: "offset backwards across a clean stop", want: "offsets", breakIt: func(r *run) {
			r.offset(history.Commit, "g", 1, 1)
			r.broker(history.BrokerDown, history.StopClean)
			r.broker(history.BrokerUp, "")
			r.offset(history.OffsetRead, "g", 1, -1)
		}},
		{name: "offset backwards past the persist window", want: "offsets", breakIt: func(r *run) {
			r.offset(history.Commit, "g", 1, 1)
			r.tick(time.Minute)
			r.broker(history.BrokerDown, history.StopKill)
			r.broker(history.BrokerUp, "")
			r.offset(history.OffsetRead, "g", 1, -1)
		}},
		{name: "offset never committed", want: "offsets", breakIt: func(r *run) {
			r.offset(history.OffsetRead, "g", 0, 9)
		}},
		{name: "slow recovery", want: "recovery", breakIt: func(r *run) {
			r.broker(history.BrokerDown, history.StopPowerCut)
			r.add(history.Event{Kind: history.BrokerUp, Dur: time.Minute})
		}},
		{name: "never back", want: "recovery", breakIt: func(r *run) {
			r.broker(history.BrokerDown, history.StopKill)
		}},
		{name: "acked into a new segment while the disk is full", want: "disk-full", breakIt: func(r *run) {
			r.add(history.Event{Kind: history.FaultOn, Detail: history.FaultDiskFull})
			r.tick(3 * time.Second)
			r.phys = 1000 // the next segment
			r.acked("d", 1, 1)
			r.deliver("g", "c0", "d", 1, 2, 1, 0)
			r.deliver("o", "c0", "d", 1, 2, 1, 0)
			r.tick(time.Second)
			r.add(history.Event{Kind: history.FaultOff, Detail: history.FaultDiskFull})
		}},
		{name: "no ack after the disk has space again", want: "disk-full", breakIt: func(r *run) {
			r.add(history.Event{Kind: history.FaultOn, Detail: history.FaultDiskFull})
			r.add(history.Event{Kind: history.FaultOff, Detail: history.FaultDiskFull})
			r.tick(10 * time.Second)
			r.add(history.Event{Kind: history.Send, ID: "d", Topic: topic, Queue: 1})
			r.add(history.Event{Kind: history.Refused, ID: "d", Topic: topic, Queue: 1, Code: remoting.RespServiceNotAvailable})
		}},
		{name: "acks come back too late after the disk has space again", want: "disk-full", breakIt: func(r *run) {
			r.add(history.Event{Kind: history.FaultOn, Detail: history.FaultDiskFull})
			r.add(history.Event{Kind: history.FaultOff, Detail: history.FaultDiskFull})
			r.tick(10 * time.Second)
			r.acked("d", 1, 1)
			r.deliver("g", "c0", "d", 1, 2, 1, 0)
			r.deliver("o", "c0", "d", 1, 2, 1, 0)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := baseline()
			tt.breakIt(r)
			got := check(t, r, config())
			if len(got) == 0 {
				t.Fatalf("no violation, want %s", tt.want)
			}
			for _, name := range got {
				if name != tt.want {
					t.Fatalf("violations %v, want only %s", got, tt.want)
				}
			}
		})
	}
}

// TestAllowedOutcomes: what the rules excuse is not reported.
func TestAllowedOutcomes(t *testing.T) {
	tests := []struct {
		name  string
		allow func(r *run)
	}{
		{name: "unacked message delivered, then lost by a power cut", allow: func(r *run) {
			r.add(history.Event{Kind: history.Send, ID: "d", Topic: topic, Queue: 1})
			r.deliver("g", "c0", "d", 1, 2, 1, 0)
			r.broker(history.BrokerDown, history.StopPowerCut)
			r.add(history.Event{Kind: history.Maybe, ID: "d", Topic: topic, Queue: 1})
			r.broker(history.BrokerUp, "")
		}},
		{name: "maybe-sent message stored once", allow: func(r *run) {
			r.add(history.Event{Kind: history.Send, ID: "d", Topic: topic, Queue: 1})
			r.add(history.Event{Kind: history.Maybe, ID: "d", Topic: topic, Queue: 1})
			r.store("d", 1, 1)
			r.deliver("g", "c0", "d", 1, 2, 1, 0)
			r.deliver("o", "c0", "d", 1, 2, 1, 0)
		}},
		{name: "consumed offset reused after a damage", allow: func(r *run) {
			// b (queue 0 offset 1) is damaged and cut off by recovery; d
			// gets offset 1 again; both groups had consumed it: skipped.
			r.st.Records = slices.DeleteFunc(r.st.Records, func(rec Record) bool { return rec.ID == "b" })
			r.add(history.Event{Kind: history.Damaged, ID: "b", Topic: topic, Queue: 0, Offset: 1})
			r.acked("d", 0, 1)
		}},
		{name: "offset reverts within the persist window after a kill", allow: func(r *run) {
			r.offset(history.Commit, "g", 1, 1)
			r.tick(time.Minute)
			r.offset(history.Commit, "g", 1, 5)
			r.broker(history.BrokerDown, history.StopKill)
			r.broker(history.BrokerUp, "")
			r.offset(history.OffsetRead, "g", 1, 1)
		}},
		{name: "a commit the cut broker answered, recorded after the restart", allow: func(r *run) {
			r.offset(history.Commit, "g", 1, 1)
			r.tick(time.Minute)
			issued := int64(len(r.evs))
			r.broker(history.BrokerDown, history.StopPowerCut)
			r.broker(history.BrokerUp, "")
			r.add(history.Event{Kind: history.Commit, Group: "g", Topic: topic, Queue: 1, Offset: 5, Issued: issued})
			r.offset(history.OffsetRead, "g", 1, 1)
		}},
		{name: "a consumer moves its own offset back", allow: func(r *run) {
			r.offset(history.Commit, "g", 0, 2)
			r.offset(history.Commit, "g", 0, 1)
			r.offset(history.OffsetRead, "g", 0, 1)
		}},
		{name: "a pull answered after another consumer took the lock", allow: func(r *run) {
			r.add(history.Event{Kind: history.Lock, Actor: "c0", Group: "o", Queue: 1})
			r.acked("d", 1, 1)
			issued := int64(len(r.evs))
			r.add(history.Event{Kind: history.Lock, Actor: "c1", Group: "o", Queue: 1})
			r.deliver("g", "c0", "d", 1, 2, 1, 0)
			r.add(history.Event{Kind: history.Deliver, Actor: "c0", Group: "o", Topic: topic, ID: "d", Queue: 1, Offset: 1, Req: 1, Session: 2, Issued: issued})
		}},
		{name: "a rival lock after a broker restart", allow: func(r *run) {
			r.add(history.Event{Kind: history.Lock, Actor: "c0", Group: "o", Queue: 1})
			r.broker(history.BrokerDown, history.StopKill)
			r.broker(history.BrokerUp, "")
			r.add(history.Event{Kind: history.Lock, Actor: "c1", Group: "o", Queue: 1})
			r.acked("d", 1, 1)
			r.deliver("g", "c0", "d", 1, 2, 1, 0)
			r.add(history.Event{Kind: history.Deliver, Actor: "c0", Group: "o", Topic: topic, ID: "d", Queue: 1, Offset: 1, Req: 1, Session: 2, Issued: int64(len(r.evs))})
		}},
		{name: "an offset move restarts the dense count", allow: func(r *run) {
			r.add(history.Event{Kind: history.Pulled, Group: "g", Topic: topic, Queue: 0, Req: 9, Offset: 0, Code: remoting.RespPullOffsetMoved, Session: 1})
			r.deliver("g", "c0", "a", 0, 1, 0, 0)
		}},
		{name: "acked into the allocated segment, refused after, acked once space is back", allow: func(r *run) {
			r.add(history.Event{Kind: history.FaultOn, Detail: history.FaultDiskFull})
			r.acked("f", 2, 0) // fits in the segment of a, b and c
			r.deliver("g", "c0", "f", 2, 3, 0, 0)
			r.deliver("o", "c0", "f", 2, 3, 0, 0)
			r.tick(3 * time.Second)
			r.add(history.Event{Kind: history.Send, ID: "d", Topic: topic, Queue: 1})
			r.add(history.Event{Kind: history.Refused, ID: "d", Topic: topic, Queue: 1, Code: remoting.RespServiceNotAvailable})
			r.add(history.Event{Kind: history.FaultOff, Detail: history.FaultDiskFull})
			r.tick(time.Second)
			r.acked("e", 1, 1)
			r.deliver("g", "c0", "e", 1, 2, 1, 0)
			r.deliver("o", "c0", "e", 1, 2, 1, 0)
		}},
		{name: "refused while the disk is full, acked after", allow: func(r *run) {
			r.add(history.Event{Kind: history.FaultOn, Detail: history.FaultDiskFull})
			r.tick(3 * time.Second)
			r.add(history.Event{Kind: history.Send, ID: "d", Topic: topic, Queue: 1})
			r.add(history.Event{Kind: history.Refused, ID: "d", Topic: topic, Queue: 1, Code: remoting.RespServiceNotAvailable})
			r.add(history.Event{Kind: history.FaultOff, Detail: history.FaultDiskFull})
			r.tick(time.Second)
			r.acked("e", 1, 1)
			r.deliver("g", "c0", "e", 1, 2, 1, 0)
			r.deliver("o", "c0", "e", 1, 2, 1, 0)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := baseline()
			tt.allow(r)
			if got := check(t, r, config()); len(got) != 0 {
				t.Fatalf("violations %v, want none", got)
			}
		})
	}
}

// TestReportPrintsSeedAndWindow: a failure names the seed, the invariant
// and the events of the offending id.
func TestReportPrintsSeedAndWindow(t *testing.T) {
	r := baseline()
	r.add(history.Event{Kind: history.Send, ID: "lost", Topic: topic, Queue: 1})
	r.add(history.Event{Kind: history.Ack, ID: "lost", Topic: topic, Queue: 1, Offset: 1})
	res := Check(config(), r.evs, &r.st)
	var out bytes.Buffer
	res.Report(&out, 4242, r.evs)
	for _, want := range []string{"seed 4242: VIOLATION acked-once", "send id=lost", "ack id=lost"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("report lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "id=a ") {
		t.Fatalf("the minimal history shows unrelated ids:\n%s", out.String())
	}
}
