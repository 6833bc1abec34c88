package netio

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/actormq/actormq/wire/remoting"
	"github.com/valyala/bytebufferpool"
)

// Outbound coalescing. Every write on a server connection, from any
// goroutine, is appended to the connection's outbox; the loop writes
// everything pending with one writev per chunk. Contract:
//
//  1. A writer appends under outbox.mu (an append, nothing else) unless the
//     connection closed, in which case it releases its write itself.
//  2. The writer whose append finds the outbox unarmed arms it and puts the
//     connection on its loop's due list, queueing the loop's flush task
//     unless one is queued or the loop is in OnTraffic (loopflush.go);
//     later writers only append.
//  3. While the loop handles a read (OnTraffic) the outbox stays armed, so
//     writes made meanwhile, on the loop or elsewhere, go out with the
//     flush at the end of that read instead of one syscall each; so do
//     the due list's other connections.
//  4. A flush, on the loop, swaps the pending list for an empty one, writes
//     it in order (chunks bounded by WriteBatchIovecsMax and
//     WriteBatchBytesMax), then releases every buffer and runs every done,
//     also when the write failed or closed the connection. It disarms the
//     outbox only when it finds nothing pending.
//  5. OnClose marks the connection closed and releases whatever is pending,
//     under the same lock as 1, so each write is released exactly once: by
//     its writer, by a flush or by OnClose.
//
// Rejected alternatives: one gnet AsyncWrite per frame (one syscall, an
// eventfd wake-up and three allocations per frame); a writer goroutine per
// connection (a goroutine hand-off per batch, and writes that race gnet's
// own outbound buffer); gnet's Wake (it re-enters OnTraffic with no new
// bytes). gnet's EventLoop.Execute costs two allocations (its closure and
// queue node) per task, which flushes all the loop's due connections.

const (
	// WriteBatchIovecsMaxDefault is Linux's IOV_MAX: writev fails with
	// EINVAL beyond it, which gnet answers by closing the connection.
	WriteBatchIovecsMaxDefault = 1024
	// WriteBatchBytesMaxDefault is the largest send buffer Linux grows a TCP
	// socket to by default (tcp_wmem max): a writev never takes more at once.
	WriteBatchBytesMaxDefault = 4 << 20
	// flushRoundsMax bounds how often one flush goes back for writes that
	// arrived while it wrote, so one busy connection cannot hold its loop;
	// past it the flush queues itself behind the loop's other work.
	flushRoundsMax = 4
	// outboxKeepMax is the largest pending-list capacity a connection keeps
	// for reuse; a larger one (a burst) goes to a pool all connections
	// share after its flush (growList).
	outboxKeepMax = 4096
)

// outbox is a connection's pending writes.
type outbox struct {
	mu sync.Mutex // held only to append, swap or drain
	// armed: a flush is coming without further notice (a task is queued on
	// the loop, or the loop is inside OnTraffic or a flush).
	armed  bool
	writes []outWrite // pending writes, in order
	iov    [][]byte   // their bytes, in order: each write's frame, then its body parts

	// The lists a flush swaps in, emptied; owned by the loop.
	spareWrites []outWrite
	spareIov    [][]byte
}

// outWrite is what a pending write owns until it is written or dropped.
type outWrite struct {
	buf  *bytebufferpool.ByteBuffer // the frame, or the head before body parts
	done func()                     // may be nil
}

// writeCounts are the server's flush and write-syscall totals (tests and
// benchmarks read them to show coalescing).
type writeCounts struct{ flushes, writes uint64 }

type writeCounters struct{ flushes, writes atomic.Uint64 }

func (s *server) writeStats() writeCounts {
	return writeCounts{flushes: s.counts.flushes.Load(), writes: s.counts.writes.Load()}
}

// queue appends a write (buf.B, then parts) to the outbox, step 1 and 2 of
// the contract. It takes ownership of buf and done: exactly once, here when
// the connection is closed, else in a flush or OnClose, buf goes back to the
// pool and done runs. parts is copied (the caller may reuse the slice); the
// bytes it points to must stay valid until done runs.
func (c *conn) queue(buf *bytebufferpool.ByteBuffer, parts [][]byte, done func()) error {
	ob := &c.out
	ob.mu.Lock()
	if c.closed {
		ob.mu.Unlock()
		finishWrite(buf, done)
		return errClosed(c.remote)
	}
	ob.writes = growList(&bigWriteLists, ob.writes, 1)
	ob.writes = append(ob.writes, outWrite{buf: buf, done: done})
	ob.iov = growList(&bigIovLists, ob.iov, 1+len(parts))
	ob.iov = append(ob.iov, buf.B)
	ob.iov = append(ob.iov, parts...)
	arm := !ob.armed
	ob.armed = true
	ob.mu.Unlock()
	if arm {
		c.scheduleFlush()
	}
	return nil
}

// scheduleFlush puts the connection on its loop's due list and queues the
// loop's flush task when no task or OnTraffic will take the list anyway
// (loopflush.go). The guard, held shared, keeps OnClose, and so the loop's
// exit and the close of its poller, from passing while the task is queued:
// gnet's queueing writes the poller's eventfd, whose number could belong to
// another file once closed. A closed connection needs no flush: OnClose
// released what was pending.
func (c *conn) scheduleFlush() {
	c.guard.RLock()
	defer c.guard.RUnlock()
	if c.closed || !c.flushes.add(c) {
		return
	}
	if err := c.flushes.loop.Execute(context.Background(), (*loopFlushTask)(c.flushes)); err != nil {
		// Only an engine that stopped refuses, and it stops after every
		// OnClose ran; what is pending is released there.
		c.srv.log.Error().Err(err).Uint64("conn", c.id).Msg("cannot queue a flush on the event loop")
	}
}

// holdFlush arms the outbox for the duration of a read (contract step 3);
// the flush at the end of OnTraffic disarms it. Runs on the loop.
func (c *conn) holdFlush() {
	c.out.mu.Lock()
	c.out.armed = true
	c.out.mu.Unlock()
}

// flush writes what is pending (contract step 4). Runs on the loop.
func (c *conn) flush() {
	ob := &c.out
	for round := 0; ; round++ {
		ob.mu.Lock()
		if len(ob.writes) == 0 { // also once closed: OnClose emptied the list for good
			ob.armed = false
			ob.mu.Unlock()
			return
		}
		if round == flushRoundsMax {
			ob.mu.Unlock()
			c.scheduleFlush() // stays armed: the queued task takes the rest
			return
		}
		writes, iov := ob.writes, ob.iov
		ob.writes, ob.spareWrites = ob.spareWrites, nil
		ob.iov, ob.spareIov = ob.spareIov, nil
		ob.mu.Unlock()

		err := c.writeOut(iov)
		c.releaseWrites(writes, iov)
		if err != nil {
			continue // gnet closed the connection (OnClose released the rest): the next round sees it
		}
		c.touch()
		if limit := c.srv.cfg.OutboundBytesMax; limit > 0 && c.gc.OutboundBuffered() > limit {
			c.srv.log.Warn().Uint64("conn", c.id).Str("remote", c.remote).Int("outboundBytes", c.gc.OutboundBuffered()).
				Msg("peer is not reading; closing connection")
			_ = c.gc.Close()
		}
	}
}

// writeOut hands iov to gnet in chunks. gnet writes what the socket takes
// and copies the rest into its outbound buffer (in order behind anything
// already there), so the bytes are no longer needed when it returns. A
// failed write closes the connection inside gnet, which runs OnClose before
// returning the error.
func (c *conn) writeOut(iov [][]byte) error {
	cfg := &c.srv.cfg
	c.srv.counts.flushes.Add(1)
	for len(iov) > 0 {
		n, bytes := 1, len(iov[0])
		for n < len(iov) && n < cfg.WriteBatchIovecsMax && bytes+len(iov[n]) <= cfg.WriteBatchBytesMax {
			bytes += len(iov[n])
			n++
		}
		c.srv.counts.writes.Add(1) // before the write: a peer that got the bytes sees the count
		var err error
		switch {
		case c.gc.OutboundBuffered() > 0:
			err = c.writeJoined(iov[:n])
		case n == 1:
			_, err = c.gc.Write(iov[0])
		default:
			err = c.writeDirect(iov[:n], bytes) // writev.go
		}
		if err != nil {
			c.srv.log.Debug().Err(err).Uint64("conn", c.id).Str("remote", c.remote).Msg("write failed")
			return err
		}
		iov = iov[n:]
	}
	return nil
}

// writeJoined hands a chunk to gnet in joined pieces of at most
// joinPieceBytes. It serves a connection whose output already waits in
// gnet's outbound buffer (and the rest of a direct write the socket did not
// take, writev.go), where gnet makes every slice of a Writev its own list
// node and, on each writable event, walks all nodes to build its next writev
// of at most 1024: with thousands of held pulls answered at once (one slice
// per message) the walk grew to hundreds of thousands of nodes per 1024
// written, and the loop stalled. Joined, the list holds one node per piece.
// It may shorten the slices of iov.
//
// Why pieces, not one slice per chunk: gnet copies each Write into a node
// from its byteslice pool, one pool per power of two, and upstream gnet put
// a node the socket took only part of back one class lower; a chunk-sized
// node (up to WriteBatchBytesMax) so came back as a smaller class after a
// partial write, and the next chunk allocated its node afresh
// (BenchmarkPullAnswerWrites/backlogged: 510-830 B of garbage per 7.5 KB
// answer; 210-330 with pieces; 100-190 since the fork returns a cut node
// to its own class, third_party/gnet/ACTORMQ.md). joinPieceBytes
// is also gnet's static outbound ring size (MaxStreamBufferCap): a larger
// write into a small ring grows the ring beyond what gnet's calibrated ring
// pool keeps. What gnet holds is still a copy: a consumer that lets
// megabytes of answers wait makes the broker hold as many in gnet's nodes.
// Rejected: keeping what the socket does not take in the outbox, zero-copy,
// until it drains (gnet keeps writability events to itself, so nothing
// would wake the flush); one node per iovec (the walk above).
func (c *conn) writeJoined(iov [][]byte) error {
	if len(iov) == 1 && len(iov[0]) <= joinPieceBytes {
		_, err := c.gc.Write(iov[0]) // one node already; gnet copies it
		return err
	}
	piece := c.flushes.joinPiece()
	for len(iov) > 0 {
		n := 0
		for len(iov) > 0 && n < len(piece) {
			m := copy(piece[n:], iov[0])
			n += m
			if iov[0] = iov[0][m:]; len(iov[0]) == 0 {
				iov = iov[1:]
			}
		}
		if n == 0 {
			break // only empty slices were left
		}
		if _, err := c.gc.Write(piece[:n]); err != nil { // gnet copied what it did not write at once
			return err
		}
	}
	return nil
}

// joinPieceBytes is the largest slice writeJoined hands gnet at once:
// gnet's default static outbound buffer (gnet.MaxStreamBufferCap).
const joinPieceBytes = 64 << 10

// releaseWrites ends the ownership of written (or failed) writes and keeps
// their lists, emptied, for the next swap unless they grew oversized.
func (c *conn) releaseWrites(writes []outWrite, iov [][]byte) {
	for i := range writes {
		finishWrite(writes[i].buf, writes[i].done)
		writes[i] = outWrite{}
	}
	clear(iov)
	ob := &c.out
	if cap(writes) <= outboxKeepMax {
		ob.spareWrites = writes[:0]
	} else {
		putBigList(&bigWriteLists, writes)
	}
	if cap(iov) <= outboxKeepMax {
		ob.spareIov = iov[:0]
	} else {
		putBigList(&bigIovLists, iov)
	}
}

// A burst (thousands of held pulls answered at once, 33 iovecs an answer)
// grows a connection's pending lists far past outboxKeepMax. Grown by
// append and dropped after the flush, they were most of the write path's
// garbage on a backlogged connection (BenchmarkPullAnswerWrites/backlogged:
// ~6 KB per 7.5 KB answer). So the lists a burst outgrows, and the
// oversized ones a flush is done with, go to a pool shared by all
// connections, and growList takes its bigger list from there. Rejected:
// keeping every connection's largest list (a burst's size held per
// connection for its life); fixed-size list segments (every writev chunk
// would have to end at a segment's end).
var bigWriteLists, bigIovLists sync.Pool // *[]outWrite, *[][]byte

// growList returns s with room for n more elements: s itself, or its
// contents in a list of at least twice the capacity from pool (when the
// pooled one is large enough) or a new one. The list s outgrew goes to
// pool when it is oversized itself; a smaller one stays garbage.
func growList[T any](pool *sync.Pool, s []T, n int) []T {
	if len(s)+n <= cap(s) {
		return s
	}
	need := max(2*cap(s), len(s)+n, 64)
	var bigger []T
	if p, _ := pool.Get().(*[]T); p != nil && cap(*p) >= need {
		bigger = (*p)[:0]
	} else {
		bigger = make([]T, 0, need) // a pooled list too small for this burst is dropped
	}
	bigger = append(bigger, s...)
	if cap(s) > outboxKeepMax {
		clear(s)
		putBigList(pool, s)
	}
	return bigger
}

// putBigList hands an oversized, cleared list to pool.
func putBigList[T any](pool *sync.Pool, s []T) {
	s = s[:0]
	pool.Put(&s)
}

// drainLocked takes every pending write off a connection that just closed;
// the caller releases them. REQUIRES: c.out.mu held.
func (c *conn) drainLocked() []outWrite {
	writes := c.out.writes
	c.out.writes, c.out.iov = nil, nil
	return writes
}

// finishWrite ends a write's ownership of its buffer and body parts.
func finishWrite(buf *bytebufferpool.ByteBuffer, done func()) {
	releaseFrame(buf)
	if done != nil {
		done()
	}
}

// releaseFrame returns a written frame buffer to its pool (frames come from
// remoting.NewOutFrame); tests swap it to count releases.
var releaseFrame = remoting.ReleaseOutFrame
