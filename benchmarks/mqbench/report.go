package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// result is the --json object of one run. Latencies are µs: send
// round trips for produce; now − STORETIMESTAMP for consume (none for
// --repeat, whose messages are old: repeat is set and the keys are 0);
// publish-to-deliver for e2e and mixed (their send round trips are the
// send_* keys). Broker figures are present when mqbench could read them.
type result struct {
	Command    string  `json:"command"`
	Topics     int     `json:"topics"`
	Queues     int     `json:"queues"`
	Mode       string  `json:"mode,omitempty"`
	Header     string  `json:"header,omitempty"`
	Size       int     `json:"size"`
	Conns      int     `json:"conns"`
	Inflight   int     `json:"inflight"`
	Batch      int     `json:"batch"`
	Rate       int     `json:"rate,omitempty"`
	MsgsPerS   float64 `json:"msgs_per_s"`
	MBPerS     float64 `json:"mb_per_s"`
	P50Us      int64   `json:"p50_us"`
	P99Us      int64   `json:"p99_us"`
	P999Us     int64   `json:"p999_us"`
	MaxUs      int64   `json:"max_us"`
	Sent       int64   `json:"sent"`
	Received   int64   `json:"received"`
	Errors     int64   `json:"errors"`
	DurationS  float64 `json:"duration_s"`
	SendP50Us  int64   `json:"send_p50_us,omitempty"`
	SendP99Us  int64   `json:"send_p99_us,omitempty"`
	SendP999Us int64   `json:"send_p999_us,omitempty"`
	Backlog    int64   `json:"backlog,omitempty"`  // consume: messages below the max offsets at start
	Repeat     bool    `json:"repeat,omitempty"`   // consume --repeat: no latency (the latency keys are 0)
	Tail       *tail   `json:"tail,omitempty"`     // mixed and e2e: the tailing consumer against the producers
	ReadyMs    int64   `json:"ready_ms,omitempty"` // ready: time until a send succeeded
	Attempts   int     `json:"attempts,omitempty"` // ready: sends tried

	BrokerRSSBytes     int64 `json:"broker_rss_bytes,omitempty"`
	BrokerRSSPeakBytes int64 `json:"broker_rss_peak_bytes,omitempty"`
	BrokerHeapBytes    int64 `json:"broker_go_heap_bytes,omitempty"`
	// GC during the run (brokergc.go), nil when the broker did not say;
	// zero pauses are 0, not absent.
	BrokerGCPauseP99Us *int64 `json:"broker_gc_pause_p99_us,omitempty"`
	BrokerGCPauseMaxUs *int64 `json:"broker_gc_pause_max_us,omitempty"`
	BrokerGCCount      *int64 `json:"broker_gc_count,omitempty"` // cycles

	// Paced runs: how long after its intended send time a request's
	// write returned (the generator's share of both latencies).
	PaceLateP50Us  int64 `json:"pace_late_p50_us,omitempty"`
	PaceLateP99Us  int64 `json:"pace_late_p99_us,omitempty"`
	PaceLateP999Us int64 `json:"pace_late_p999_us,omitempty"`

	// HostStealPct: the share of the machine's CPU time the hypervisor
	// took during the run (steal.go); nil where /proc/stat is missing.
	HostStealPct *float64 `json:"host_steal_pct,omitempty"`
	// StallProbe: e2e and mixed with --stall-probe: how late 5 ms
	// SCHED_FIFO sleepers, one pinned to each CPU in a process of its own,
	// woke (stallprobe.go): the stalls of the machine that steal does not
	// show.
	StallProbe *stallProbe `json:"stall_probe,omitempty"`
}

// meter counts one direction of traffic (sends or receipts): messages,
// body bytes, failed requests and a latency histogram per recorder.
type meter struct {
	msgs, bytes, errors atomic.Int64

	mu        sync.Mutex
	recorders []*recorder
	total     histogram // everything drained so far
	firstErr  atomic.Pointer[string]
}

func (m *meter) newRecorder() *recorder {
	r := &recorder{}
	m.mu.Lock()
	m.recorders = append(m.recorders, r)
	m.mu.Unlock()
	return r
}

func (m *meter) fail(err error) {
	m.errors.Add(1)
	s := err.Error()
	m.firstErr.CompareAndSwap(nil, &s)
}

// drain moves every recorder's counts into interval and the total.
func (m *meter) drain(interval *histogram) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.recorders {
		r.drainInto(interval)
	}
	m.total.merge(interval)
}

// timed runs run with a progress line of m every second and returns how
// long run took.
func timed(w io.Writer, label string, m *meter, run func()) time.Duration {
	stop, done := make(chan struct{}), make(chan struct{})
	go progress(w, label, m, stop, done)
	start := time.Now()
	run()
	elapsed := time.Since(start)
	close(stop)
	<-done
	return elapsed
}

// progress prints one line per second for the meter until stop is
// closed, then drains the rest; done is closed when it returned.
func progress(w io.Writer, label string, m *meter, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var lastMsgs, lastBytes, lastErrs int64
	last := time.Now()
	for {
		select {
		case <-stop:
			var h histogram
			m.drain(&h)
			return
		case now := <-tick.C:
			var h histogram
			m.drain(&h)
			msgs, bytes, errs := m.msgs.Load(), m.bytes.Load(), m.errors.Load()
			secs := now.Sub(last).Seconds()
			fmt.Fprintf(w, "%s %8.0f msgs/s %7.2f MB/s  p50 %6d  p99 %7d  p999 %7d µs  errors %d\n",
				label, float64(msgs-lastMsgs)/secs, float64(bytes-lastBytes)/secs/1e6,
				h.quantile(0.5), h.quantile(0.99), h.quantile(0.999), errs-lastErrs)
			lastMsgs, lastBytes, lastErrs, last = msgs, bytes, errs, now
		}
	}
}

// fill sets the rate and latency keys of res from m over elapsed.
func (m *meter) fill(res *result, elapsed time.Duration) {
	secs := elapsed.Seconds()
	res.DurationS = secs
	res.MsgsPerS = float64(m.msgs.Load()) / secs
	res.MBPerS = float64(m.bytes.Load()) / secs / 1e6
	res.P50Us, res.P99Us, res.P999Us, res.MaxUs = m.total.quantile(0.5), m.total.quantile(0.99), m.total.quantile(0.999), m.total.max
	res.Errors += m.errors.Load()
}

// summary prints the final lines of a run on w.
func summary(w io.Writer, res *result, meters ...*meter) {
	latency := fmt.Sprintf("latency p50 %d p99 %d p999 %d max %d µs", res.P50Us, res.P99Us, res.P999Us, res.MaxUs)
	if res.Repeat {
		latency = "no latency (--repeat reads old messages: receipt − store time is their age)"
	}
	fmt.Fprintf(w, "%s: %.1f s, sent %d, received %d, errors %d; %.0f msgs/s, %.2f MB/s; %s\n",
		res.Command, res.DurationS, res.Sent, res.Received, res.Errors, res.MsgsPerS, res.MBPerS, latency)
	if res.Topics > 1 {
		fmt.Fprintf(w, "  over %d topics, %d queues\n", res.Topics, res.Queues)
	}
	if res.SendP99Us > 0 {
		fmt.Fprintf(w, "  send round trip p50 %d p99 %d p999 %d µs\n", res.SendP50Us, res.SendP99Us, res.SendP999Us)
	}
	if res.PaceLateP99Us > 0 {
		fmt.Fprintf(w, "  generator lateness (write returned − intended send time) p50 %d p99 %d p999 %d µs\n", res.PaceLateP50Us, res.PaceLateP99Us, res.PaceLateP999Us)
	}
	if res.BrokerRSSBytes > 0 || res.BrokerHeapBytes > 0 {
		fmt.Fprintf(w, "  broker rss %d (peak %d) B, go heap %d B\n", res.BrokerRSSBytes, res.BrokerRSSPeakBytes, res.BrokerHeapBytes)
	}
	if res.HostStealPct != nil {
		fmt.Fprintf(w, "  cpu time stolen by the hypervisor during the run: %.1f%%\n", *res.HostStealPct)
	}
	if sp := res.StallProbe; sp != nil {
		fmt.Fprintf(w, "  machine stalls (5 ms probe on %d CPUs, real-time %v): lateness p99 %d p999 %d max %d µs; over 5 ms %d (%.0f ms), over 10 ms %d (%.0f ms); at normal priority p99 %d p999 %d max %d µs %s\n",
			sp.CPUs, sp.RealTime, sp.LateP99Us, sp.LateP999Us, sp.LateMaxUs, sp.StallsOver5, sp.StallMsOver5, sp.StallsOver10, sp.StallMsOver10,
			sp.NormalLateP99Us, sp.NormalLateP999Us, sp.NormalLateMaxUs, sp.Note)
	}
	if res.BrokerGCCount != nil {
		fmt.Fprintf(w, "  broker during the run: gc pause p99 %d max %d µs, gc cycles %d\n",
			*res.BrokerGCPauseP99Us, *res.BrokerGCPauseMaxUs, *res.BrokerGCCount)
	}
	for _, m := range meters {
		if p := m.firstErr.Load(); p != nil {
			fmt.Fprintf(w, "  first error: %s\n", *p)
		}
	}
}

func writeJSON(path string, res *result) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
