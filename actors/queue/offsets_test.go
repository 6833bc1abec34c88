package queue

import (
	"strconv"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/remoting"
)

// sendAt dispatches one message per store timestamp.
func (h *harness) sendAt(t *testing.T, k store.QueueKey, stamps ...int64) {
	t.Helper()
	units := make([]Unit, 0, len(stamps))
	for _, ts := range stamps {
		off := h.next[k]
		h.next[k] = off + 1
		units = append(units, h.log.append(k, off, "", "b", ts))
	}
	h.r.Dispatch(k, units)
	want := h.next[k]
	testkit.Eventually(t, "dispatch", func() bool { q := h.queue(k); return q != nil && q.MaxOffset() == want })
}

// offsetCmd is a request decoded from its frame as the broker decodes it:
// GET_MAX_OFFSET and GET_MIN_OFFSET into a pooled frame, which race builds
// poison on Release, so a handler keeping a string of it past its return
// reads garbage.
func offsetCmd(t *testing.T, code int32, qid int32, extra map[string]string) *remoting.Command {
	t.Helper()
	ext := map[string]string{"topic": testTopic, "queueId": strconv.Itoa(int(qid))}
	for k, v := range extra {
		ext[k] = v
	}
	cmd, err := remoting.DecodeFrame(remoting.AppendFrame(nil, remoting.NewRequest(code, ext, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return cmd
}

// TestOffsetLookups checks GET_MAX_OFFSET, GET_MIN_OFFSET,
// GET_EARLIEST_MSG_STORETIME and SEARCH_OFFSET_BY_TIMESTAMP, on a queue with
// messages and on an unknown one.
func TestOffsetLookups(t *testing.T) {
	h := newHarness(t, nil)
	h.sendAt(t, q0, 1000, 2000, 2000, 3000, 4000)
	handlers := map[int32]func(Conn, *remoting.Command){
		remoting.ReqGetMaxOffset:            h.r.handleMaxOffset,
		remoting.ReqGetMinOffset:            h.r.handleMinOffset,
		remoting.ReqGetEarliestMsgStoreTime: func(c Conn, cmd *remoting.Command) { h.r.handleTimeLookup(c, cmd, lookupEarliest) },
		remoting.ReqSearchOffsetByTimestamp: func(c Conn, cmd *remoting.Command) { h.r.handleTimeLookup(c, cmd, lookupSearch) },
	}
	tests := []struct {
		name    string
		code    int32
		queueID int32
		extra   map[string]string
		field   string
		want    int64
	}{
		{name: "max", code: remoting.ReqGetMaxOffset, field: "offset", want: 5},
		{name: "min", code: remoting.ReqGetMinOffset, field: "offset", want: 0},
		{name: "earliest", code: remoting.ReqGetEarliestMsgStoreTime, field: "timestamp", want: 1000},
		{name: "search before all", code: remoting.ReqSearchOffsetByTimestamp, extra: map[string]string{"timestamp": "10"}, field: "offset", want: 0},
		{name: "search exact dup", code: remoting.ReqSearchOffsetByTimestamp, extra: map[string]string{"timestamp": "2000"}, field: "offset", want: 1},
		{name: "search between", code: remoting.ReqSearchOffsetByTimestamp, extra: map[string]string{"timestamp": "2500"}, field: "offset", want: 3},
		{name: "search after all", code: remoting.ReqSearchOffsetByTimestamp, extra: map[string]string{"timestamp": "9000"}, field: "offset", want: 5},
		{name: "search upper dup", code: remoting.ReqSearchOffsetByTimestamp, extra: map[string]string{"timestamp": "2000", "boundaryType": "upper"}, field: "offset", want: 2},
		{name: "search upper before all", code: remoting.ReqSearchOffsetByTimestamp, extra: map[string]string{"timestamp": "10", "boundaryType": "upper"}, field: "offset", want: 0},
		{name: "unknown max", code: remoting.ReqGetMaxOffset, queueID: 3, field: "offset", want: 0},
		{name: "unknown min", code: remoting.ReqGetMinOffset, queueID: 3, field: "offset", want: 0},
		{name: "unknown earliest", code: remoting.ReqGetEarliestMsgStoreTime, queueID: 3, field: "timestamp", want: -1},
		{name: "unknown search", code: remoting.ReqSearchOffsetByTimestamp, queueID: 3, extra: map[string]string{"timestamp": "10"}, field: "offset", want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newFakeConn()
			handlers[tt.code](c, offsetCmd(t, tt.code, tt.queueID, tt.extra))
			r := c.next(t)
			if r.cmd.Code != remoting.RespSuccess {
				t.Fatalf("code %d (%s)", r.cmd.Code, r.cmd.Remark)
			}
			if got := ext(t, r.cmd, tt.field); got != tt.want {
				t.Fatalf("%s = %d, want %d", tt.field, got, tt.want)
			}
		})
	}
	if got := h.r.MaxOffset(testTopic, 0); got != 5 {
		t.Fatalf("MaxOffset %d", got)
	}
	c := newFakeConn()
	h.r.handleMaxOffset(c, remoting.NewRequest(remoting.ReqGetMaxOffset, map[string]string{"topic": testTopic}, nil))
	if r := c.next(t); r.cmd.Code != remoting.RespSystemError {
		t.Fatalf("missing queueId: code %d", r.cmd.Code)
	}
}

// TestStop drains queue actors and stops every actor; a second Stop is a
// no-op, and the flusher advanced FlushedTimestamp.
func TestStop(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.CQFlushInterval = 5 * time.Millisecond })
	h.sendAt(t, q0, 1234)
	testkit.Eventually(t, "flush round", func() bool { return h.r.FlushedTimestamp() == 1234 })
	c := newFakeConn()
	h.r.handlePull(c, pullCmd("g1", 0, 1, pullFlagSuspend, 20*time.Second, ""))
	testkit.Eventually(t, "held", func() bool { return h.heldCount() == 1 })
	ctx := testkit.Context(t)
	if err := h.r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}
