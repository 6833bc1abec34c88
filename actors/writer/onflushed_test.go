package writer

import (
	"errors"
	"testing"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/wire/remoting"
)

// TestOnFlushedAfterEachAdvance: the flush actor calls Config.OnFlushed
// after a flush that advanced the flushed position, once the waiters it
// covers are answered (the queue registry wakes the pulls of the records
// just made durable), and not after a failed flush.
func TestOnFlushedAfterEachAdvance(t *testing.T) {
	tests := []struct {
		name     string
		flushErr error
		wantCode int32
		wantCall bool
	}{
		{name: "flush advanced", wantCode: remoting.RespSuccess, wantCall: true},
		{name: "flush failed", flushErr: errors.New("disk on fire"), wantCode: remoting.RespFlushDiskTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			type call struct {
				flushed  int64
				answered int // answers queued when OnFlushed ran
			}
			calls := make(chan call, 16)
			var h *harness
			h = newHarness(t, func(c *Config) {
				c.Broker.FlushDiskType = config.FlushSync
				c.OnFlushed = func() { calls <- call{flushed: h.log.FlushedPosition(), answered: len(h.conn.ch)} }
			}, nil)
			h.log.set(func(l *fakeLog) { l.flushErr = tt.flushErr })
			h.w.Submit(h.appendReq(1, "", "one"))
			if !tt.wantCall {
				if r := h.conn.next(t); r.Code != tt.wantCode {
					t.Fatalf("code %d, want %d", r.Code, tt.wantCode)
				}
				if err := h.w.Stop(testkit.Context(t)); err != nil {
					t.Fatal(err)
				}
				select {
				case c := <-calls:
					t.Fatalf("OnFlushed called (flushed %d) after a failed flush", c.flushed)
				default:
				}
				return
			}
			c := testkit.Receive(t, calls, "OnFlushed")
			if w := h.log.WrotePosition(); c.flushed != w {
				t.Fatalf("OnFlushed saw flushed position %d, want %d", c.flushed, w)
			}
			if c.answered != 1 {
				t.Fatalf("OnFlushed ran with %d answers queued, want the waiter's 1", c.answered)
			}
			if r := h.conn.next(t); r.Code != tt.wantCode {
				t.Fatalf("code %d, want %d", r.Code, tt.wantCode)
			}
		})
	}
}
