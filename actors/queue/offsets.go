package queue

import (
	"sort"
	"strings"

	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// timeLookup selects a request that reads store times from the commit log.
type timeLookup int

const (
	lookupEarliest timeLookup = iota // GET_EARLIEST_MSG_STORETIME (32)
	lookupSearch                     // SEARCH_OFFSET_BY_TIMESTAMP (29)
)

// timeReq is a time lookup for a queue actor: it reads the commit log, so
// it leaves the gnet loop.
type timeReq struct {
	conn      Conn
	cmd       *remoting.Command
	kind      timeLookup
	timestamp int64
	upper     bool // boundaryType=upper (5.x); default lower
}

// handleMaxOffset answers GET_MAX_OFFSET (30) on the loop: a lock-free read
// of the served max offset (flushed.go), which a consumer starting from the
// last offset begins at: past an unflushed unit it would skip that message
// once its send is acknowledged. Unknown queues answer 0. The 5.x
// `committed` flag changes nothing here: every served unit is committed.
//
// It is cmd's last owner (nothing read from it outlives the call) and
// releases it, so its header map is reused by the next decode: a consumer
// starting on 10,000 queues asks twice per queue.
func (r *Registry) handleMaxOffset(c Conn, cmd *remoting.Command) {
	defer cmd.Release()
	key, err := parseQueueKey(cmd)
	if err != nil {
		_ = c.Write(reply.Error(cmd, err))
		return
	}
	writeOffset(c, cmd, "offset", r.ServedMaxOffset(key.Topic, key.QueueID))
}

// handleMinOffset answers GET_MIN_OFFSET (31) on the loop; it releases cmd
// as handleMaxOffset does.
func (r *Registry) handleMinOffset(c Conn, cmd *remoting.Command) {
	defer cmd.Release()
	key, err := parseQueueKey(cmd)
	if err != nil {
		_ = c.Write(reply.Error(cmd, err))
		return
	}
	writeOffset(c, cmd, "offset", r.MinOffset(key.Topic, key.QueueID))
}

// handleTimeLookup parses 32/29 and Sends them to the queue actor; unknown
// queues are answered on the loop.
func (r *Registry) handleTimeLookup(c Conn, cmd *remoting.Command, kind timeLookup) {
	key, err := parseQueueKey(cmd)
	if err != nil {
		_ = c.Write(reply.Error(cmd, err))
		return
	}
	req := &timeReq{conn: c, cmd: cmd, kind: kind}
	if kind == lookupSearch {
		if req.timestamp, err = cmd.RequiredInt64("timestamp"); err != nil {
			_ = c.Write(reply.Error(cmd, err))
			return
		}
		bt, _ := cmd.Ext("boundaryType")
		req.upper = strings.EqualFold(bt, "upper")
	}
	if r.lookup(key) == nil {
		answerAbsentTime(req)
		return
	}
	r.route(key, req)
}

func parseQueueKey(cmd *remoting.Command) (store.QueueKey, error) {
	topic, err := cmd.RequiredString("topic")
	if err != nil {
		return store.QueueKey{}, err
	}
	qid, err := cmd.RequiredInt32("queueId")
	if err != nil {
		return store.QueueKey{}, err
	}
	return store.QueueKey{Topic: topic, QueueID: qid}, nil
}

// offsetAnswerBytes is the out-frame class of an offset answer (~160 B).
const offsetAnswerBytes = 256

// writeOffset answers cmd with SUCCESS and one number field, encoded from
// the stack into a pooled frame (as pull answers, scan.go): no Command,
// map or number string per answer. The frame is the connection's once
// written.
func writeOffset(c Conn, cmd *remoting.Command, field string, v int64) {
	resp := remoting.ResponseTo(cmd.Opaque, remoting.RespSuccess, "")
	ext := [...]remoting.ExtField{{Key: field, Int: v, IsInt: true}}
	frame := remoting.NewOutFrame(offsetAnswerBytes)
	frame.B = remoting.AppendFrameExt(frame.B[:0], &resp, ext[:])
	_ = c.WriteFrame(frame)
}

// answerAbsentTime answers a time lookup of a queue that does not exist:
// offset 0, or timestamp -1 as Java's getEarliestMessageTime.
func answerAbsentTime(req *timeReq) {
	if req.kind == lookupEarliest {
		writeOffset(req.conn, req.cmd, "timestamp", -1)
		return
	}
	writeOffset(req.conn, req.cmd, "offset", 0)
}

// time answers a time lookup. Queue actor.
func (q *queueActor) time(req *timeReq) {
	cq := q.e.cq
	minOff, maxOff := cq.MinOffset(), cq.MaxOffset()
	if req.kind == lookupEarliest {
		ts := int64(-1)
		if minOff < maxOff {
			if t, ok := q.r.storeTimeAt(cq, minOff); ok {
				ts = t
			}
		}
		writeOffset(req.conn, req.cmd, "timestamp", ts)
		return
	}
	// Within the served units, as GET_MAX_OFFSET (flushed.go).
	served := q.r.servedMax(q.e, minOff, maxOff, q.r.servedEnd(), nil)
	writeOffset(req.conn, req.cmd, "offset", q.r.searchOffset(cq, minOff, served, req.timestamp, req.upper))
}

// searchOffset binary-searches [minOff, maxOff) by store time, which grows
// with the queue offset. Lower: the first offset stored at or after ts, or
// maxOff when all are older. Upper: the last offset stored at or before ts,
// or minOff when all are newer. A unit whose record cannot be read counts as
// older than ts.
func (r *Registry) searchOffset(cq cqueue, minOff, maxOff, ts int64, upper bool) int64 {
	n := int(maxOff - minOff)
	if n <= 0 {
		return minOff
	}
	if !upper {
		i := sort.Search(n, func(i int) bool {
			t, ok := r.storeTimeAt(cq, minOff+int64(i))
			return ok && t >= ts
		})
		return minOff + int64(i)
	}
	i := sort.Search(n, func(i int) bool {
		t, ok := r.storeTimeAt(cq, minOff+int64(i))
		return ok && t > ts
	})
	if i == 0 {
		return minOff
	}
	return minOff + int64(i) - 1
}

// storeTimeAt reads the store time of the record at queue offset off.
func (r *Registry) storeTimeAt(cq cqueue, off int64) (int64, bool) {
	var one [1]consumequeue.Unit
	units, err := cq.Get(off, one[:0])
	if err != nil || len(units) == 0 || units[0].IsFiller() || units[0].Size <= 0 {
		return 0, false
	}
	s, err := r.deps.log.Read(units[0].CommitLogOffset, int(units[0].Size))
	if err != nil {
		return 0, false
	}
	t := message.RecordStoreTimestamp(s.B)
	s.Release()
	return t, true
}
