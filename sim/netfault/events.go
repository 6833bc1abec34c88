package netfault

import (
	"fmt"
	"sync"
	"time"
)

// Kind names an event.
type Kind string

// The event kinds. The fault kinds are logged once per injection; accept,
// dial-failed and close frame each connection's life.
const (
	KindAccept     Kind = "accept"
	KindDialFailed Kind = "dial-failed"
	KindClose      Kind = "close"
	KindDrop       Kind = "drop"
	KindReset      Kind = "reset"
	KindHalfOpen   Kind = "half-open"
	KindPartition  Kind = "partition"
	KindHeal       Kind = "heal"
	KindSet        Kind = "set"
)

// Event is one entry of a proxy's log.
type Event struct {
	At    time.Time
	Proxy string    // Options.Name
	Conn  uint64    // connection number, 1-based in accept order; 0 for proxy-wide events
	Dir   Direction // of a frame fault
	Kind  Kind
	// Frame is the 0-based index of the frame in its direction (frame
	// faults).
	Frame int
	// Bytes is the frame's length (prefix included) of a frame fault.
	Bytes int
	// Cut is how many bytes of the frame a reset forwarded: 1 ≤ Cut < Bytes.
	Cut    int
	Detail string
}

func (e Event) String() string {
	s := fmt.Sprintf("%s %s", e.Proxy, e.Kind)
	if e.Conn != 0 {
		s += fmt.Sprintf(" conn=%d", e.Conn)
	}
	switch e.Kind {
	case KindDrop, KindReset, KindHalfOpen:
		s += fmt.Sprintf(" dir=%s frame=%d bytes=%d", e.Dir, e.Frame, e.Bytes)
	}
	if e.Kind == KindReset {
		s += fmt.Sprintf(" cut=%d", e.Cut)
	}
	if e.Detail != "" {
		s += " " + e.Detail
	}
	return s
}

// eventLog keeps a proxy's events in order.
type eventLog struct {
	onEvent func(Event)
	mu      sync.Mutex
	events  []Event
}

func (l *eventLog) add(e Event) {
	e.At = time.Now()
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
	if l.onEvent != nil {
		l.onEvent(e)
	}
}

func (l *eventLog) snapshot() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Event(nil), l.events...)
}
