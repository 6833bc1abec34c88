// Package history is the record of one sim run: every send and its outcome,
// every delivery, every consumer-offset commit and read, every lock, every
// broker start and stop and every fault the driver injected, in the order
// the sim observed them. The checker (sim/check) judges a run from its
// history and the store it left behind; on a failure it prints the events
// around the offending ids (Window).
//
// Order: Seq is the order in which the recorder accepted events. For two
// events of one goroutine it is their real order; across goroutines it is
// the order of the Record calls, which is consistent with causality whenever
// one event's Record happened before the other's cause (e.g. a send's
// outcome is recorded after its request was recorded, a BrokerDown before
// the next BrokerUp). The checker relies only on such causal pairs.
package history

import (
	"sync"
	"time"
)

// Kind names an event.
type Kind string

// Event kinds. Fields each kind sets are listed after it.
const (
	// Send: a producer is about to send ID (Topic, Queue; Key/KeySeq for
	// orderly producers). Recorded before the request is written.
	Send Kind = "send"
	// Ack: the broker answered SUCCESS for ID with Queue and Offset (the
	// queue offset it reported).
	Ack Kind = "ack"
	// Maybe: the send of ID failed without a definite answer (transport
	// error, timeout) or with a code that does not say whether it was stored
	// (Code). It may be in the CommitLog, at most once.
	Maybe Kind = "maybe"
	// Refused: the broker answered a code that says the message was not
	// accepted (Code: SERVICE_NOT_AVAILABLE, SYSTEM_BUSY, ...). Like Maybe
	// for the at-most-once rule; the checker counts them per fault window.
	Refused Kind = "refused"
	// Deliver: consumer Actor of Group got ID at Queue/Offset from a pull of
	// request offset Req (Index: position in that pull's body) in Session;
	// Issued is the history's length when that pull was sent. Detail is
	// non-empty when the record or its body was bad (CRC, content).
	Deliver Kind = "deliver"
	// Pulled: a pull of Group/Queue at Req answered Code with Offset =
	// nextBeginOffset (only non-SUCCESS answers are recorded).
	Pulled Kind = "pulled"
	// Commit: the broker acknowledged consumer offset Offset for
	// Group/Topic/Queue (UPDATE_CONSUMER_OFFSET, or a pull's piggyback);
	// Issued tells which broker run may have answered (a partition can
	// hold an answer of a broker that has since been cut off).
	Commit Kind = "commit"
	// CommitSent: a commit of Offset was sent; its outcome is unknown (the
	// broker may have stored it).
	CommitSent Kind = "commit-sent"
	// OffsetRead: QUERY_CONSUMER_OFFSET answered Offset (-1: not found) at
	// the start of a Session.
	OffsetRead Kind = "offset-read"
	// Lock / Unlock: an orderly consumer holds / released Queue of Group.
	Lock   Kind = "lock"
	Unlock Kind = "unlock"
	// BrokerUp: the broker serves again; Dur is the time from the start
	// command to the first answered request (recovery included).
	BrokerUp Kind = "broker-up"
	// BrokerDown: the broker stopped; Detail is the way (see Stop*).
	BrokerDown Kind = "broker-down"
	// FaultOn / FaultOff: the driver started / ended fault Detail.
	FaultOn  Kind = "fault-on"
	FaultOff Kind = "fault-off"
	// Rebalance: Group's queue allocation changed (Detail: the new one).
	Rebalance Kind = "rebalance"
	// Damaged: the driver damaged the stored record of ID (Queue/Offset),
	// or it sits after a damaged record in the CommitLog: recovery may cut
	// the log at the damage, so its loss is excused.
	Damaged Kind = "damaged"
	// Note: anything else worth showing in a minimal history.
	Note Kind = "note"
)

// Ways a broker stops (BrokerDown.Detail).
const (
	StopClean    = "clean"    // Shutdown / SIGTERM: everything acknowledged is flushed
	StopKill     = "kill"     // kill -9: the process dies, the page cache survives
	StopPowerCut = "powercut" // only fsynced data survives
)

// Details the checker reads.
const (
	// FaultDiskFull is the Detail of the FaultOn/FaultOff pair of a full
	// disk.
	FaultDiskFull = "disk-full"
	// NoteStartFailed starts the Detail of a Note when a broker start
	// failed (the error follows).
	NoteStartFailed = "broker start failed"
)

// Event is one entry. Unused fields stay zero.
type Event struct {
	Seq     int64
	At      time.Duration // since the run started
	Kind    Kind
	Actor   string // "p0", "cg-clu/c1", "sim"
	ID      string // message id (UNIQ_KEY)
	Group   string
	Topic   string
	Queue   int32
	Offset  int64
	Req     int64 // pull request offset (Deliver, Pulled)
	Index   int   // position in the pull body (Deliver)
	Issued  int64 // history length when the request was sent (Deliver, Commit, CommitSent, OffsetRead); 0: unknown
	Session int64 // consumer session of the queue (Deliver, OffsetRead, Commit)
	Code    int32
	Key     string // orderly sharding key (Send)
	KeySeq  int64  // position of ID among the sends of Key (Send)
	Dur     time.Duration
	Detail  string
}

// Recorder collects events; safe from any goroutine.
type Recorder struct {
	start time.Time
	mu    sync.Mutex
	evs   []Event
}

// NewRecorder starts an empty history whose clock starts now.
func NewRecorder() *Recorder { return &Recorder{start: time.Now()} }

// Record appends e, setting Seq and At. It returns the Seq.
func (r *Recorder) Record(e Event) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	e.Seq = int64(len(r.evs))
	e.At = time.Since(r.start)
	r.evs = append(r.evs, e)
	return e.Seq
}

// Events returns a copy of the history so far.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.evs...)
}

// Len is the number of events so far.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.evs)
}
