package history

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// String is one line: "#seq +at kind actor field=value ...", zero fields
// left out.
func (e Event) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d +%.3fs %s", e.Seq, e.At.Seconds(), e.Kind)
	if e.Actor != "" {
		b.WriteString(" " + e.Actor)
	}
	field := func(k, v string) { b.WriteString(" " + k + "=" + v) }
	if e.ID != "" {
		field("id", e.ID)
	}
	if e.Group != "" {
		field("group", e.Group)
	}
	if e.Topic != "" {
		field("topic", e.Topic)
	}
	switch e.Kind {
	case Send, Ack, Deliver, Pulled, Commit, CommitSent, OffsetRead, Lock, Unlock, Damaged:
		field("queue", strconv.Itoa(int(e.Queue)))
	}
	switch e.Kind {
	case Ack, Deliver, Pulled, Commit, CommitSent, OffsetRead, Damaged:
		field("offset", strconv.FormatInt(e.Offset, 10))
	}
	if e.Kind == Deliver || e.Kind == Pulled {
		field("req", strconv.FormatInt(e.Req, 10))
	}
	if e.Kind == Deliver {
		field("index", strconv.Itoa(e.Index))
	}
	if e.Session != 0 {
		field("session", strconv.FormatInt(e.Session, 10))
	}
	if e.Code != 0 {
		field("code", strconv.Itoa(int(e.Code)))
	}
	if e.Key != "" {
		field("key", e.Key+"#"+strconv.FormatInt(e.KeySeq, 10))
	}
	if e.Dur != 0 {
		field("dur", e.Dur.String())
	}
	if e.Detail != "" {
		field("detail", strconv.Quote(e.Detail))
	}
	return b.String()
}

// lifecycle events are shown in every window: the broker's starts and
// stops, the faults, the hand-overs and the driver's notes explain most
// outcomes, and a run has few of them.
func lifecycle(e Event) bool {
	switch e.Kind {
	case BrokerUp, BrokerDown, FaultOn, FaultOff, Rebalance:
		return true
	case Note:
		return e.Actor == "sim"
	}
	return false
}

// Window is the minimal history of a failure: the events match selects,
// plus the run's lifecycle events (broker starts and stops, faults,
// hand-overs, the driver's notes), at most linesMax lines (the first and
// last lines are kept; the middle is elided). Nil when nothing matches.
func Window(evs []Event, match func(Event) bool, linesMax int) []Event {
	var out []Event
	matched := false
	for _, e := range evs {
		m := match(e)
		matched = matched || m
		if m || lifecycle(e) {
			out = append(out, e)
		}
	}
	if !matched {
		return nil
	}
	if linesMax > 2 && len(out) > linesMax {
		head := out[:linesMax/2]
		tail := out[len(out)-(linesMax-len(head)-1):]
		out = append(append(append([]Event(nil), head...), Event{Seq: -1, Kind: Note, Detail: fmt.Sprintf("%d events elided", len(out)-len(head)-len(tail))}), tail...)
	}
	return out
}

// Write prints evs one per line, each prefixed with indent.
func Write(w io.Writer, indent string, evs []Event) {
	for _, e := range evs {
		if e.Seq < 0 {
			fmt.Fprintf(w, "%s... %s\n", indent, e.Detail)
			continue
		}
		fmt.Fprintf(w, "%s%s\n", indent, e)
	}
}
