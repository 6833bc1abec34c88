package history

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

func TestRecorderOrdersEvents(t *testing.T) {
	r := NewRecorder()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				r.Record(Event{Kind: Note})
			}
		})
	}
	wg.Wait()
	evs := r.Events()
	if len(evs) != 800 || r.Len() != 800 {
		t.Fatalf("%d events (Len %d), want 800", len(evs), r.Len())
	}
	for i, e := range evs {
		if e.Seq != int64(i) || (i > 0 && e.At < evs[i-1].At) {
			t.Fatalf("event %d: seq %d at %s after %s", i, e.Seq, e.At, evs[max(i-1, 0)].At)
		}
	}
}

// TestWindow: the matches and the lifecycle events, nothing else; long
// windows keep their ends.
func TestWindow(t *testing.T) {
	var evs []Event
	add := func(e Event) { e.Seq = int64(len(evs)); evs = append(evs, e) }
	add(Event{Kind: BrokerUp, Actor: "sim"})
	add(Event{Kind: Send, ID: "a"})
	add(Event{Kind: Send, ID: "b"})
	add(Event{Kind: Note, Actor: "net", Detail: "drop"})
	add(Event{Kind: BrokerDown, Actor: "sim", Detail: StopPowerCut})
	add(Event{Kind: Ack, ID: "a"})
	w := Window(evs, func(e Event) bool { return e.ID == "a" }, 10)
	var got []int64
	for _, e := range w {
		got = append(got, e.Seq)
	}
	if len(got) != 4 || got[0] != 0 || got[1] != 1 || got[2] != 4 || got[3] != 5 {
		t.Fatalf("window %v, want events 0 1 4 5", got)
	}
	if Window(evs, func(e Event) bool { return e.ID == "zz" }, 10) != nil {
		t.Fatal("a window without matches")
	}
	for range 50 {
		add(Event{Kind: Send, ID: "a"})
	}
	w = Window(evs, func(e Event) bool { return e.ID == "a" }, 10)
	var out bytes.Buffer
	Write(&out, "", w)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 10 || !strings.Contains(out.String(), "events elided") || !strings.HasPrefix(lines[0], "#0 ") ||
		!strings.HasPrefix(lines[9], "#55 ") {
		t.Fatalf("elided window:\n%s", out.String())
	}
}
