// Package check judges one sim run: it takes the run's history
// (sim/history) and the store the broker left behind (ScanStore, read
// without the product's recovery code) and reports every broken invariant
// with the events around the ids involved.
//
// Invariants (name: rule):
//
//   - log-valid: the CommitLog decodes record by record with good CRCs up
//     to its end (only the newest segment may end in garbage, which is what
//     recovery truncated and appends overwrite); per queue the records'
//     queue offsets are dense (each one more than the last); each consume
//     queue has one unit per record of its queue, unit i pointing at the
//     record with queue offset i.
//   - acked-once: every id acknowledged (SUCCESS under SYNC_FLUSH) is in
//     the CommitLog exactly once, at the queue and queue offset the
//     acknowledgement reported. Ids the driver damaged on disk, and those
//     after them in the log, may be missing (recovery cuts the log at the
//     first bad record, as RocketMQ's does).
//   - at-most-once: no id is in the CommitLog twice (producers never resend
//     an id, so a duplicate is the broker's).
//   - phantom: no record of the workload topic carries an id that was never
//     sent, and no delivery does.
//   - corrupt-served: no delivered record failed its CRC or carried a body
//     other than the one its id was sent with.
//   - delivery-matches-log: a delivered id sits in the CommitLog at the
//     queue and offset it was delivered with. An id missing from the log
//     is allowed only when it was never acknowledged and a power cut came
//     after its send (a broker that serves records before they are
//     flushed, as RocketMQ 4.x does, lets a consumer see a record the cut
//     then loses; what that costs other messages is delivered-all's
//     business).
//   - pull-dense: within a pull the records carry consecutive queue
//     offsets from the request offset; within a consumer session of a
//     queue the delivered offsets continue without gaps or repeats, unless
//     an OFFSET_MOVED answer moved the session.
//   - delivered-all (only when the run drained): every record of the
//     workload topic in the final CommitLog was delivered to every group.
//     Excused: a record stored after the driver damaged a stored record of
//     its queue, at a queue offset the group had already consumed past
//     (recovery cut the queue back at the damage, the offset was given out
//     again, and consumers, as RocketMQ's do, do not expect an offset to
//     be reused). A power cut gives no such excuse: every acknowledged
//     message must reach every group, so under SYNC_FLUSH a broker must
//     not serve a record a power cut can take back (RocketMQ 5.x serves
//     only flushed records there), or else must not let the offset it
//     gives out again be skipped.
//   - order: in an orderly group, within a session of a queue, the
//     acknowledged messages of one key are delivered in the order they
//     were sent; in the log they sit in that order too.
//   - lock-exclusive: an orderly consumer is delivered only what it pulled
//     while it held the queue's lock, and the broker granted nobody else
//     that lock between the consumer's lock and its pull.
//   - offsets: a consumer offset read (QUERY_CONSUMER_OFFSET) is never
//     below what the broker must still have: within one broker run, the
//     last commit it acknowledged; after a clean stop, the last commit
//     acknowledged before it; after a kill -9 or power cut at time T, the
//     smallest of the last commit acknowledged before T-W and every value
//     committed (or sent for commit) after T-W, where W =
//     2*flushConsumerOffsetInterval + 1 s: offsets are persisted every
//     flushConsumerOffsetInterval, so a crash may revert them to the last
//     persisted value, but never further. A read must also be a value some
//     consumer committed, or -1 or 0 (nothing stored; 0 is the young-queue
//     rule's answer) when nothing had to be.
//   - recovery: every start succeeds and the broker serves within
//     RecoveryMax of its start command; a crash is followed by a start.
//   - disk-full: while a disk-full fault holds, a send is acknowledged
//     only if its record fits in the CommitLog segment appends were in
//     when the disk filled (allocated before); once that is full, sends
//     are refused. After space returns a send is acknowledged again within
//     DiskBackMax.
//
// Violation reports carry the seed and a minimal history (history.Window).
package check

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/actormq/actormq/sim/history"
)

// Group is one consumer group of the workload.
type Group struct {
	Name    string
	Orderly bool
}

// Config says what the run was, so the checker knows what to demand.
type Config struct {
	Topic  string
	Groups []Group
	// Body is the body id was sent with.
	Body func(id string) []byte
	// OffsetFlush is the broker's flushConsumerOffsetInterval.
	OffsetFlush time.Duration
	// RecoveryMax bounds start command → first answered request.
	RecoveryMax time.Duration
	// DiskBackMax: a send must be acknowledged again this soon after a
	// disk-full fault ended.
	DiskBackMax time.Duration
	// CommitLogBytes is the CommitLog segment size (mapedFileSizeCommitLog).
	CommitLogBytes int64
	// Drained: the run ended with every consumer caught up with the queues
	// (delivered-all applies).
	Drained bool
}

// Violation is one broken invariant.
type Violation struct {
	Invariant string
	Msg       string
	// Match selects the events of the minimal history.
	Match func(history.Event) bool
}

// Stats sums up a run.
type Stats struct {
	Sent, Acked, Maybe, Refused   int
	Records                       int // workload records in the final CommitLog
	Delivered, Redelivered        int // deliveries; those of an id the group had already got
	LostUnacked                   int // delivered, never acknowledged, lost by a power cut
	SkippedAfterDamage            int // records at queue offsets reused after a damage (see delivered-all)
	Restarts                      int
	RecoveryMax                   time.Duration
	Commits, OffsetReads, Locks   int
	FaultWindows, PowerCuts, Kill int
}

// Result is the outcome of Check.
type Result struct {
	Violations []Violation
	Stats      Stats
}

// OK reports whether no invariant broke.
func (r Result) OK() bool { return len(r.Violations) == 0 }

// violationsMax bounds the violations kept per invariant: the first ones
// explain a failure, a thousand more of the same bury it.
const violationsMax = 5

// windowLines bounds one violation's minimal history.
const windowLines = 60

// Check judges a run. st may be nil when the store could not be read (then
// only the history invariants run).
func Check(cfg Config, evs []history.Event, st *Store) Result {
	c := newChecker(cfg, evs, st)
	if st != nil {
		c.checkLog()
	}
	c.checkDeliveries()
	c.checkOrder()
	c.checkLocks()
	c.checkOffsets()
	c.checkLifecycle()
	return Result{Violations: c.out, Stats: c.stats}
}

// Report prints the seed, the stats and every violation with its minimal
// history.
func (r Result) Report(w io.Writer, seed uint64, evs []history.Event) {
	s := r.Stats
	fmt.Fprintf(w, "seed %d: sent %d acked %d maybe %d refused %d | log %d | delivered %d (redelivered %d, lost-unacked %d, skipped-after-damage %d) | commits %d reads %d locks %d | restarts %d (kill %d, power cut %d), recovery max %s, fault windows %d\n",
		seed, s.Sent, s.Acked, s.Maybe, s.Refused, s.Records, s.Delivered, s.Redelivered, s.LostUnacked, s.SkippedAfterDamage,
		s.Commits, s.OffsetReads, s.Locks, s.Restarts, s.Kill, s.PowerCuts, s.RecoveryMax.Round(time.Millisecond), s.FaultWindows)
	for _, v := range r.Violations {
		fmt.Fprintf(w, "seed %d: VIOLATION %s: %s\n", seed, v.Invariant, v.Msg)
		if v.Match != nil {
			history.Write(w, "    ", history.Window(evs, v.Match, windowLines))
		}
	}
}

// checker holds the indexes the invariants share.
type checker struct {
	cfg    Config
	evs    []history.Event
	st     *Store
	out    []Violation
	counts map[string]int
	stats  Stats

	sends     map[string]*sendInfo
	log       map[string][]Record // workload topic records by id
	powerCuts []int64             // Seq of every power-cut BrokerDown
	damaged   map[string]bool     // ids the driver damaged on disk (or after a damage)
	groups    map[string]Group
}

// sendInfo is a send and its outcome.
type sendInfo struct {
	send    history.Event
	outcome history.Event // Kind "" while unknown
}

func (s *sendInfo) acked() bool { return s.outcome.Kind == history.Ack }

func newChecker(cfg Config, evs []history.Event, st *Store) *checker {
	c := &checker{
		cfg: cfg, evs: evs, st: st, counts: map[string]int{},
		sends: map[string]*sendInfo{}, log: map[string][]Record{}, groups: map[string]Group{},
		damaged: map[string]bool{},
	}
	for _, g := range cfg.Groups {
		c.groups[g.Name] = g
	}
	for _, e := range evs {
		switch e.Kind {
		case history.Send:
			c.sends[e.ID] = &sendInfo{send: e}
			c.stats.Sent++
		case history.Ack, history.Maybe, history.Refused:
			if s := c.sends[e.ID]; s != nil {
				s.outcome = e
			}
			switch e.Kind {
			case history.Ack:
				c.stats.Acked++
			case history.Maybe:
				c.stats.Maybe++
			default:
				c.stats.Refused++
			}
		case history.BrokerDown:
			switch e.Detail {
			case history.StopPowerCut:
				c.powerCuts = append(c.powerCuts, e.Seq)
				c.stats.PowerCuts++
			case history.StopKill:
				c.stats.Kill++
			}
		case history.BrokerUp:
			c.stats.Restarts++
			c.stats.RecoveryMax = max(c.stats.RecoveryMax, e.Dur)
		case history.FaultOn:
			c.stats.FaultWindows++
		case history.Commit:
			c.stats.Commits++
		case history.OffsetRead:
			c.stats.OffsetReads++
		case history.Lock:
			c.stats.Locks++
		case history.Damaged:
			c.damaged[e.ID] = true
		}
	}
	if st != nil {
		for _, r := range st.Records {
			if r.Topic == cfg.Topic {
				c.log[r.ID] = append(c.log[r.ID], r)
				c.stats.Records++
			}
		}
	}
	c.stats.Restarts-- // the first start is not a restart
	c.stats.Restarts = max(c.stats.Restarts, 0)
	return c
}

// fail records a violation, at most violationsMax per invariant (one more
// line says how many were dropped).
func (c *checker) fail(invariant string, match func(history.Event) bool, format string, args ...any) {
	c.counts[invariant]++
	switch n := c.counts[invariant]; {
	case n <= violationsMax:
		c.out = append(c.out, Violation{Invariant: invariant, Msg: fmt.Sprintf(format, args...), Match: match})
	case n == violationsMax+1:
		c.out = append(c.out, Violation{Invariant: invariant, Msg: "more violations of this invariant follow; the first ones are shown"})
	}
}

// byID matches the events of ids.
func byID(ids ...string) func(history.Event) bool {
	return func(e history.Event) bool { return e.ID != "" && slices.Contains(ids, e.ID) }
}

// byQueue matches the events of one group's queue (empty group: any).
func byQueue(group string, queue int32) func(history.Event) bool {
	return func(e history.Event) bool {
		switch e.Kind {
		case history.Deliver, history.Pulled, history.Commit, history.CommitSent, history.OffsetRead, history.Lock, history.Unlock:
			return e.Queue == queue && (group == "" || e.Group == group)
		}
		return false
	}
}

// cutAfter reports whether a power cut was recorded after seq.
func (c *checker) cutAfter(seq int64) bool {
	return len(c.powerCuts) > 0 && c.powerCuts[len(c.powerCuts)-1] > seq
}
