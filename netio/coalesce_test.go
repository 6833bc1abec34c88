package netio

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/bytebufferpool"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/wire/remoting"
)

// frameStream reads frames off a raw connection through a buffer.
type frameStream struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

func newFrameStream(t testing.TB, nc net.Conn) *frameStream {
	return &frameStream{t: t, nc: nc, br: bufio.NewReaderSize(nc, 256<<10)}
}

// next reads one frame, bounded by testkit.Timeout.
func (s *frameStream) next() *remoting.Command {
	s.t.Helper()
	_ = s.nc.SetReadDeadline(time.Now().Add(testkit.Timeout))
	var prefix [4]byte
	if _, err := io.ReadFull(s.br, prefix[:]); err != nil {
		s.t.Fatalf("read prefix: %v", err)
	}
	frame := make([]byte, 4+binary.BigEndian.Uint32(prefix[:]))
	copy(frame, prefix[:])
	if _, err := io.ReadFull(s.br, frame[4:]); err != nil {
		s.t.Fatalf("read frame: %v", err)
	}
	cmd, err := remoting.DecodeFrame(frame)
	if err != nil {
		s.t.Fatalf("decode: %v", err)
	}
	return cmd
}

// openConn starts a server for h, dials it raw and returns the server side
// of the connection once it delivered a first request (answered or not by h).
func openConn(t *testing.T, cfg ServerConfig, h *testHandler) (*Server, *Conn, net.Conn) {
	t.Helper()
	s := startServer(t, cfg, h)
	nc := dialRaw(t, s.Addr())
	if _, err := nc.Write(remoting.AppendFrame(nil, request(remoting.ReqHeartBeat, 0, ""))); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "connection known", func() bool { return h.anyConn() != nil })
	return s, h.anyConn(), nc
}

// Writes made while the loop handles a read, on the loop or by another
// goroutine, leave in the one flush at the end of that read.
func TestWritesDuringReadLeaveInOneFlush(t *testing.T) {
	testkit.NoLeaks(t)
	const onLoop, offLoop = 5, 7
	h := newTestHandler()
	h.respond = func(c *Conn, req *remoting.Command) *remoting.Command {
		if req.Code != remoting.ReqSendMessage {
			return nil
		}
		for i := range onLoop {
			if err := c.Write(remoting.NewResponse(request(0, int32(i), ""), 0, "")); err != nil {
				t.Errorf("Write on the loop: %v", err)
			}
		}
		queued := make(chan struct{})
		go func() { // an actor answering meanwhile
			defer close(queued)
			for i := range offLoop {
				if err := c.Write(remoting.NewResponse(request(0, int32(onLoop+i), ""), 0, "")); err != nil {
					t.Errorf("Write off the loop: %v", err)
				}
			}
		}()
		<-queued // holds the loop: only in a test
		return nil
	}
	s, _, nc := openConn(t, ServerConfig{}, h)
	before := s.impl.writeStats()
	if _, err := nc.Write(remoting.AppendFrame(nil, request(remoting.ReqSendMessage, 1, ""))); err != nil {
		t.Fatal(err)
	}
	fs := newFrameStream(t, nc)
	for i := range onLoop + offLoop {
		if got := fs.next().Opaque; got != int32(i) {
			t.Fatalf("frame %d has opaque %d", i, got)
		}
	}
	after := s.impl.writeStats()
	if f, w := after.flushes-before.flushes, after.writes-before.writes; f != 1 || w != 1 {
		t.Fatalf("%d flushes, %d writes for the answers of one read; want 1 and 1", f, w)
	}
}

// Many goroutines write through every write method at once; each one's
// frames arrive complete and in its order, every buffer is released once and
// every done runs once.
func TestConcurrentWritersKeepOrder(t *testing.T) {
	testkit.NoLeaks(t)
	rc := countReleases(t)
	const writers, each = 16, 400 // each: a multiple of 5
	h := newTestHandler()
	h.respond = func(*Conn, *remoting.Command) *remoting.Command { return nil }
	_, c, nc := openConn(t, ServerConfig{}, h)

	var dones atomic.Int64
	part := bytes.Repeat([]byte("z"), 300)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i, op := 0, 0; i < each; op++ {
				frame := func(seq int) *remoting.Command {
					return remoting.NewResponse(request(0, int32(w<<16|seq), ""), 0, "")
				}
				var err error
				switch op % 4 { // 5 frames per round of the 4 methods
				case 0:
					err = c.Write(frame(i))
					i++
				case 1:
					buf := &bytebufferpool.ByteBuffer{}
					buf.B = remoting.AppendFrame(buf.B, frame(i))
					err = c.WriteFrame(buf)
					i++
				case 2:
					err = c.WriteBatch([]*remoting.Command{frame(i), frame(i + 1)})
					i += 2
				case 3:
					err = c.WriteWithBody(frame(i), [][]byte{part, part[:7]}, func() { dones.Add(1) })
					i++
				}
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		})
	}
	fs := newFrameStream(t, nc)
	next := make([]int, writers)
	for range writers * each {
		cmd := fs.next()
		w, seq := int(cmd.Opaque>>16), int(cmd.Opaque&0xffff)
		if w >= writers || seq != next[w] {
			t.Fatalf("writer %d: frame %d arrived, want %d", w, seq, next[w])
		}
		if withBody := seq%5 == 4; withBody != (len(cmd.Body) == len(part)+7) {
			t.Fatalf("writer %d frame %d: body of %d bytes", w, seq, len(cmd.Body))
		}
		next[w]++
	}
	wg.Wait()
	// Per writer: 5 frames in 4 writes per round, one of them WriteWithBody.
	const writes, withBody = writers * each * 4 / 5, writers * each / 5
	testkit.Eventually(t, "every release", func() bool { return rc.total() == writes })
	rc.check(t, writes)
	if d := dones.Load(); d != withBody {
		t.Fatalf("done ran %d times, want %d", d, withBody)
	}
}

// A peer that does not read while megabytes are queued still gets every
// byte, in order, once it reads.
func TestSlowPeerLosesNothing(t *testing.T) {
	testkit.NoLeaks(t)
	const writers, each, bodyBytes = 4, 2000, 4 << 10 // 32 MiB, far above the socket buffers
	h := newTestHandler()
	h.respond = func(*Conn, *remoting.Command) *remoting.Command { return nil }
	_, c, nc := openConn(t, ServerConfig{}, h)

	var dones atomic.Int64
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			body := bytes.Repeat([]byte{byte('a' + w)}, bodyBytes)
			for i := range each {
				resp := remoting.NewResponse(request(0, int32(w<<16|i), ""), 0, "")
				if err := c.WriteWithBody(resp, [][]byte{body}, func() { dones.Add(1) }); err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	// Every write left our hands (sent or copied into gnet's outbound
	// buffer) before the peer read anything.
	testkit.Eventually(t, "every write flushed", func() bool { return dones.Load() == writers*each })

	fs := newFrameStream(t, nc)
	next := make([]int, writers)
	for range writers * each {
		cmd := fs.next()
		w, seq := int(cmd.Opaque>>16), int(cmd.Opaque&0xffff)
		if w >= writers || seq != next[w] {
			t.Fatalf("writer %d: frame %d arrived, want %d", w, seq, next[w])
		}
		if len(cmd.Body) != bodyBytes || cmd.Body[0] != byte('a'+w) || cmd.Body[bodyBytes-1] != byte('a'+w) {
			t.Fatalf("writer %d frame %d: body of %d bytes", w, seq, len(cmd.Body))
		}
		next[w]++
	}
}

// batchHandler implements TrafficDoneHandler: it collects the opaques of one
// read and answers them all in TrafficDone with one WriteBatch.
type batchHandler struct {
	*testHandler
	pending []int32 // loop-owned
	mu      sync.Mutex
	batches [][]int32
}

func (h *batchHandler) OnRequest(c *Conn, cmd *remoting.Command) {
	h.testHandler.OnRequest(c, cmd)
	h.pending = append(h.pending, cmd.Opaque)
}

func (h *batchHandler) TrafficDone(c *Conn) {
	answers := make([]*remoting.Command, len(h.pending))
	for i, opaque := range h.pending {
		answers[i] = remoting.NewResponse(request(0, opaque, ""), 0, "")
	}
	if err := c.WriteBatch(answers); err != nil {
		panic(err)
	}
	h.mu.Lock()
	h.batches = append(h.batches, h.pending)
	h.mu.Unlock()
	h.pending = nil
}

func (h *batchHandler) batchList() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return fmt.Sprint(h.batches)
}

func TestTrafficDoneOncePerRead(t *testing.T) {
	testkit.NoLeaks(t)
	h := &batchHandler{testHandler: newTestHandler()}
	h.respond = func(*Conn, *remoting.Command) *remoting.Command { return nil }
	s := startServer(t, ServerConfig{}, h)
	nc := dialRaw(t, s.Addr())
	fs := newFrameStream(t, nc)

	stream := func(opaques ...int32) []byte {
		var b []byte
		for _, o := range opaques {
			b = remoting.AppendFrame(b, request(remoting.ReqSendMessage, o, "body-"+strconv.Itoa(int(o))))
		}
		return b
	}
	send := func(b []byte) {
		t.Helper()
		if _, err := nc.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(batches string, opaques ...int32) {
		t.Helper()
		for _, want := range opaques {
			if got := fs.next().Opaque; got != want {
				t.Fatalf("answer for opaque %d, want %d", got, want)
			}
		}
		if got := h.batchList(); got != batches {
			t.Fatalf("TrafficDone batches %s, want %s", got, batches)
		}
	}

	// Three frames in one write: one read, one TrafficDone, one flush.
	before := s.impl.writeStats()
	send(stream(1, 2, 3))
	expect("[[1 2 3]]", 1, 2, 3)
	if after := s.impl.writeStats(); after.writes-before.writes != 1 {
		t.Fatalf("%d writes for one read's answers, want 1", after.writes-before.writes)
	}

	// Two frames and half of a third: TrafficDone sees the two; the rest of
	// the third completes it in the next read.
	third := stream(6)
	send(append(stream(4, 5), third[:10]...))
	expect("[[1 2 3] [4 5]]", 4, 5)
	send(third[10:])
	expect("[[1 2 3] [4 5] [6]]", 6)

	// A read that completes no frame calls no TrafficDone.
	partial := stream(7)
	send(partial[:3])
	send(partial[3:])
	expect("[[1 2 3] [4 5] [6] [7]]", 7)

	// Broken framing after a good frame: TrafficDone for the good one, then close.
	send(append(stream(8), 0, 0, 0, 1))
	expect("[[1 2 3] [4 5] [6] [7] [8]]", 8)
	expectClosed(t, nc)
}
