package queue

import (
	"sync"

	"github.com/actormq/actormq/storage/commitlog"
	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// scanChunkUnits is how many consume-queue units one Get reads.
const scanChunkUnits = 64

// unitScratch lends the unit buffers that scans read consume-queue units
// into, one per scan in progress, to queue actors and gnet loops alike
// (loopread.go). A buffer kept by each queue actor (the previous design)
// cost 1.5 KiB of live heap per queue ever pulled, allocated by its first
// pull: 15–20 MB when 10,000 queues are drained (9–14 B per message of a
// 1.5-million-message drain), which also stayed live, leaving less room
// below the memory limit. A buffer's owner is the one scan (or lookup)
// that got it; it gives it back with putUnitScratch once its units are
// read, and keeps nothing read into it (units are copied out by value).
var unitScratch = sync.Pool{New: func() any { return new([scanChunkUnits]consumequeue.Unit) }}

// unitScratchPoison fills released unit buffers in race builds.
var unitScratchPoison = consumequeue.Unit{CommitLogOffset: -0x5A5A5A5B, Size: -1, TagsCode: -0x5A5A}

func getUnitScratch() *[scanChunkUnits]consumequeue.Unit {
	return unitScratch.Get().(*[scanChunkUnits]consumequeue.Unit)
}

// putUnitScratch gives s back; its owner must not touch it again. Race
// builds poison it and never reuse it, as released units slices
// (units.go), so a reader that kept it sees nonsense and the race detector
// sees the write.
func putUnitScratch(s *[scanChunkUnits]consumequeue.Unit) {
	if poisonReleasedUnits {
		for i := range s {
			s[i] = unitScratchPoison
		}
		return
	}
	unitScratch.Put(s)
}

// Store statuses (Java's GetMessageStatus names), sent as the remark.
const (
	statusFound               = "FOUND"
	statusNoMatchedMessage    = "NO_MATCHED_MESSAGE"
	statusMessageWasRemoving  = "MESSAGE_WAS_REMOVING"
	statusOffsetFoundNull     = "OFFSET_FOUND_NULL"
	statusOffsetTooSmall      = "OFFSET_TOO_SMALL"
	statusOverflowOne         = "OFFSET_OVERFLOW_ONE"
	statusOverflowBadly       = "OFFSET_OVERFLOW_BADLY"
	statusNoMessageInQueue    = "NO_MESSAGE_IN_QUEUE"
	statusNoMatchedLogicQueue = "NO_MATCHED_LOGIC_QUEUE"
)

// pullOutcome is an evaluated pull. body, when not nil, holds the found
// records; ownership passes to write.
type pullOutcome struct {
	code                 int32
	status               string
	next, minOff, maxOff int64
	body                 *pullBody
}

// scanLimits narrow the scan of a pull answered on a gnet loop
// (loopread.go); the zero value is the queue actor's full scan.
type scanLimits struct {
	onLoop bool
	// physMin: on a loop, the scan stops before the first record below this
	// commit-log offset (one not known to be in memory).
	physMin int64
}

// evaluate runs the store lookup of wire-protocol.md §13.1 for req against
// e's queue (nil: the queue does not exist), within its served max offset
// (flushed.go): on a SYNC_FLUSH broker an offset whose unit is there but
// not flushed yet is answered like the end of the queue (PULL_NOT_FOUND,
// which may be held), and an offset past the end moves to the served max.
// The unit buffer its reads go into is borrowed for the call (unitScratch).
// It only reads the queue and the commit log, so any goroutine may call
// it: the queue actor owning e, the registry actor for absent queues, and
// gnet loops with lim.onLoop.
func (r *Registry) evaluate(e *entry, req *pullReq, lim scanLimits) pullOutcome {
	off := req.offset
	if e == nil {
		return emptyOutcome(off, statusNoMatchedLogicQueue, 0, 0)
	}
	s := getUnitScratch()
	defer putUnitScratch(s) // also when a fault on a loop panics (loopread.go)
	scratch := s[:0]
	cq := e.cq
	minOff, maxOff := cq.MinOffset(), cq.MaxOffset()
	served := r.servedMax(e, minOff, maxOff, r.servedEnd(), scratch)
	switch {
	case maxOff == 0:
		return emptyOutcome(off, statusNoMessageInQueue, minOff, maxOff)
	case off < minOff:
		return pullOutcome{code: remoting.RespPullOffsetMoved, status: statusOffsetTooSmall, next: minOff, minOff: minOff, maxOff: served}
	case off >= served && off <= maxOff:
		return pullOutcome{code: remoting.RespPullNotFound, status: statusOverflowOne, next: off, minOff: minOff, maxOff: served}
	case off > maxOff:
		return pullOutcome{code: remoting.RespPullOffsetMoved, status: statusOverflowBadly, next: served, minOff: minOff, maxOff: served}
	}
	o := r.scan(cq, req, minOff, served, scratch, lim)
	o.minOff, o.maxOff = minOff, served
	return o
}

// emptyOutcome is the answer for a missing or empty queue: PULL_NOT_FOUND
// at offset 0, else PULL_OFFSET_MOVED to 0.
func emptyOutcome(off int64, status string, minOff, maxOff int64) pullOutcome {
	code := remoting.RespPullNotFound
	if off != 0 {
		code = remoting.RespPullOffsetMoved
	}
	return pullOutcome{code: code, status: status, next: 0, minOff: minOff, maxOff: maxOff}
}

// scan reads units from req.offset (min <= offset < max) and collects the
// matching records as zero-copy slices: a unit must pass the tags-code test
// and, for an SQL92 filter, its record's properties the selector (Java's
// isMatchedByConsumeQueue, then isMatchedByCommitLog). Limits (§13.1):
// maxMsgNums capped by MaxTransferCountOnMessage, MaxTransferBytesOnMessage
// (the first message always goes), and at most max(FilterUnitsMax,
// maxMsgNums) units scanned, so a selective SQL92 filter reads at most that
// many records per pull. On a loop (lim.onLoop) at most want units are
// scanned, and the scan stops at a record below lim.physMin.
// nextBeginOffset is the offset after the last unit scanned.
func (r *Registry) scan(cq cqueue, req *pullReq, minOff, maxOff int64, scratch []consumequeue.Unit, lim scanLimits) pullOutcome {
	b := &r.cfg.Broker
	want := int(req.maxMsgNums)
	want = max(min(want, b.MaxTransferCountOnMessage), 1)
	budget := int64(max(r.cfg.FilterUnitsMax, int(req.maxMsgNums)))
	if lim.onLoop {
		budget = int64(want)
	}
	logMin := r.deps.log.MinOffset()

	var body *pullBody
	found, bytes := 0, 0
	removed := false
	pos := req.offset
	end := min(maxOff, pos+budget)
scanning:
	for pos < end {
		n := min(int64(cap(scratch)), end-pos)
		units, err := cq.Get(pos, scratch[:0:n])
		if err != nil || len(units) == 0 {
			if found == 0 && pos == req.offset {
				// The unit file at offset is gone (retention raced us):
				// move on to the queue's new start.
				newMin := cq.MinOffset()
				if newMin > pos {
					return pullOutcome{code: remoting.RespPullRetryImmediately, status: statusOffsetFoundNull, next: newMin}
				}
				return pullOutcome{code: remoting.RespPullNotFound, status: statusOffsetFoundNull, next: pos}
			}
			break
		}
		for _, u := range units {
			if found >= want {
				break scanning
			}
			if u.IsFiller() || u.Size <= 0 {
				pos++
				continue
			}
			if found > 0 && bytes+int(u.Size) > b.MaxTransferBytesOnMessage {
				break scanning
			}
			if !req.filter.match(u.TagsCode) {
				pos++
				continue
			}
			if u.CommitLogOffset < logMin {
				removed = true
				pos++
				continue
			}
			if lim.onLoop && u.CommitLogOffset < lim.physMin {
				break scanning
			}
			s, err := r.deps.log.Read(u.CommitLogOffset, int(u.Size))
			if err != nil {
				// Deleted by retention between MinOffset and Read, or a
				// unit the commit log never held: skip it like Java's
				// MESSAGE_WAS_REMOVING.
				removed = true
				pos++
				continue
			}
			if err := commitlog.CheckUnit(s.B, u.CommitLogOffset, req.key.Topic, req.key.QueueID, pos); err != nil {
				// Bytes that are not the unit's record (another record, a
				// corrupt header or topic/queue fields) are never sent as
				// a message: skipped like a removed one, and reported.
				s.Release()
				r.log.Error().Err(err).Str("topic", req.key.Topic).Int32("queueId", req.key.QueueID).
					Int64("queueOffset", pos).Msg("pull: consume-queue unit does not point at its record; skipped")
				removed = true
				pos++
				continue
			}
			if req.filter.sql != nil && !req.filter.sql.MatchBytes(message.RecordProperties(s.B)) {
				s.Release()
				pos++
				continue
			}
			if body == nil {
				body = getPullBody(want)
			}
			body.add(s)
			found++
			bytes += int(u.Size)
			pos++
		}
	}
	switch {
	case found > 0:
		return pullOutcome{code: remoting.RespSuccess, status: statusFound, next: pos, body: body}
	case removed:
		return pullOutcome{code: remoting.RespPullRetryImmediately, status: statusMessageWasRemoving, next: pos}
	default:
		return pullOutcome{code: remoting.RespPullRetryImmediately, status: statusNoMatchedMessage, next: pos}
	}
}

// pullHeadBytes is the out-frame class of a pull answer's head (~240 B).
const pullHeadBytes = 512

// write answers req and releases it (the caller must not touch req again).
// The header is encoded from values on the stack straight into a pooled
// frame head, so an answer costs no Command, map or number strings. It
// takes ownership of o.body: the slices are released when the connection
// has written them (or failed to).
func (o *pullOutcome) write(req *pullReq) {
	resp := remoting.ResponseTo(req.opaque, o.code, o.status)
	// Every pull response carries the four offset fields (see setPullExt).
	ext := [...]remoting.ExtField{
		{Key: "nextBeginOffset", Int: o.next, IsInt: true},
		{Key: "minOffset", Int: o.minOff, IsInt: true},
		{Key: "maxOffset", Int: o.maxOff, IsInt: true},
		{Key: "suggestWhichBrokerId", Str: "0"},
	}
	head := remoting.NewOutFrame(pullHeadBytes)
	conn := req.conn
	req.release()
	if o.body == nil {
		head.B = remoting.AppendFrameHeadExt(head.B[:0], &resp, ext[:], 0)
		_ = conn.WriteFrame(head)
		return
	}
	b := o.body
	o.body = nil
	head.B = remoting.AppendFrameHeadExt(head.B[:0], &resp, ext[:], b.bytes)
	// head and done are the connection's now; done runs exactly once, even
	// when the write fails at once.
	_ = conn.WriteFrameWithBody(head, b.parts, b.done)
}

// pullBody holds the zero-copy slices of one pull response until the
// connection wrote them. Pooled; done returns it to the pool.
type pullBody struct {
	slices []commitlog.Slice
	parts  [][]byte
	bytes  int    // total length of parts
	done   func() // b.release, bound once so a pull allocates no closure
}

var pullBodies sync.Pool

// pullBodyPooledMax is the most slices a pooled body keeps room for; a
// body grown past it is dropped at release.
const pullBodyPooledMax = 1024

// getPullBody returns an empty body with room for n slices (at most
// pullBodyPooledMax). A pooled body with less room gets arrays of n
// instead: growing them by append, from empty to the 32 messages of a
// Go client's pull, made six arrays of each kind (12 allocations, ~3.4
// KiB) per body the pool could not supply, and a drain of 10,000 queues
// needs ~10,000 at once (each answer's body waits for its write); two
// arrays of n are 2 allocations, ~1.8 KiB for 32.
func getPullBody(n int) *pullBody {
	b, _ := pullBodies.Get().(*pullBody)
	if b == nil {
		b = &pullBody{}
		b.done = b.release
	}
	if n = min(n, pullBodyPooledMax); cap(b.slices) < n {
		b.slices = make([]commitlog.Slice, 0, n)
		b.parts = make([][]byte, 0, n)
	}
	return b
}

func (b *pullBody) add(s commitlog.Slice) {
	b.slices = append(b.slices, s)
	b.parts = append(b.parts, s.B)
	b.bytes += len(s.B)
}

// release releases every slice exactly once and recycles b. Oversized
// slices are dropped rather than pooled.
func (b *pullBody) release() {
	for i := range b.slices {
		b.slices[i].Release()
		b.slices[i] = commitlog.Slice{}
		b.parts[i] = nil
	}
	if cap(b.slices) > pullBodyPooledMax {
		return
	}
	b.slices, b.parts, b.bytes = b.slices[:0], b.parts[:0], 0
	pullBodies.Put(b)
}
