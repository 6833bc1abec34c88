package main

import (
	"strings"
	"sync"
	"testing"

	"github.com/actormq/actormq/internal/testkit"
)

// syncBuffer collects progress output written from another goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestProgressBoth checks the e2e progress line: the send round trips and
// the publish-to-deliver latencies of the second side by side.
func TestProgressBoth(t *testing.T) {
	send, deliver := &meter{}, &meter{}
	sr, dr := send.newRecorder(), deliver.newRecorder()
	for range 10 {
		sr.record(100)
		dr.record(200)
	}
	send.msgs.Add(10)
	deliver.msgs.Add(10)
	deliver.errors.Add(1)

	var out syncBuffer
	stop, done := make(chan struct{}), make(chan struct{})
	go progressBoth(&out, "e2e", send, deliver, stop, done)
	testkit.Eventually(t, "a progress line", func() bool { return strings.Contains(out.String(), "\n") })
	close(stop)
	<-done

	line := out.String()
	for _, want := range []string{"e2e  send ", "p50    100 ", "| deliver ", "p50    200 ", "errors 1\n"} {
		if !strings.Contains(line, want) {
			t.Errorf("progress line %q lacks %q", line, want)
		}
	}
	if send.total.total != 10 || deliver.total.total != 10 {
		t.Errorf("totals after the run: send %d, deliver %d latencies; want 10 each", send.total.total, deliver.total.total)
	}
}
