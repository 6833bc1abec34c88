package netio

import (
	"context"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/wire/remoting"
)

// BenchmarkConnWriters is N goroutines answering on one server connection
// with WriteFrame, as writer and topic actors do: a 128-byte-body send
// response per op, read and discarded by a plain TCP peer. As with a client
// that keeps a bounded number of requests in flight, at most 256 frames are
// unread at any time (without the bound the writers outrun the peer and
// gnet's outbound backlog is measured instead).
// The benchmark ends when every frame reached the peer. Besides
// allocs/op it reports flushes/frame and writes/frame (one write syscall
// per frame is 1.0); count the syscalls themselves, eventfd wake-ups (8-byte
// writes) included, with
//
//	go test -c -o /tmp/netio.test ./netio
//	perf stat -e syscalls:sys_enter_write -e syscalls:sys_enter_writev \
//	  /tmp/netio.test -test.run x -test.bench ConnWriters -test.benchtime 200000x
//
// (strace -c -f counts the same but slows every syscall, which coalesces more.)
func BenchmarkConnWriters(b *testing.B) {
	const connWritersWindow = 256 // unread frames at most, as with a client's requests in flight
	for _, writers := range []int{1, 8, 64} {
		b.Run("writers="+strconv.Itoa(writers), func(b *testing.B) { benchmarkConnWriters(b, writers, connWritersWindow) })
	}
}

func benchmarkConnWriters(b *testing.B, writers, window int) {
	nc, c := silentPeer(b)

	resp := remoting.NewResponse(request(remoting.ReqSendMessage, 1, ""), remoting.RespSuccess, "")
	resp.SetExt("msgId", "7F00000100002A9F0000000000000000")
	resp.SetExt("queueId", "3")
	resp.SetExt("queueOffset", "12345")
	resp.Body = make([]byte, 128)
	frame := remoting.AppendFrame(nil, resp)

	slots, readDone := readFrames(nc, len(frame), b.N, window)
	statsBefore := c.impl.srv.writeStats()

	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	b.ResetTimer()
	runConcurrently(b, writers, func() error {
		slots <- struct{}{}
		buf := remoting.NewOutFrame(512)
		buf.B = append(buf.B[:0], frame...)
		return c.WriteFrame(buf)
	})
	if err := <-readDone; err != nil && err != io.EOF {
		b.Fatal(err)
	}
	b.StopTimer()
	stats := c.impl.srv.writeStats()
	b.ReportMetric(float64(stats.flushes-statsBefore.flushes)/float64(b.N), "flushes/frame")
	b.ReportMetric(float64(stats.writes-statsBefore.writes)/float64(b.N), "writes/frame")
}

// BenchmarkClientInvokers is N goroutines invoking through one Client
// connection against an echo server: a 128-byte SEND_MESSAGE per op. It
// reports the server's writes per frame; the client's own writes are the
// process's write and writev syscalls minus those (count them with perf stat
// -e syscalls:sys_enter_write,syscalls:sys_enter_writev).
func BenchmarkClientInvokers(b *testing.B) {
	for _, invokers := range []int{1, 8, 64} {
		b.Run("invokers="+strconv.Itoa(invokers), func(b *testing.B) { benchmarkClientInvokers(b, invokers) })
	}
}

func benchmarkClientInvokers(b *testing.B, invokers int) {
	h := newTestHandler()
	srv := startServer(b, ServerConfig{Logger: zerolog.Nop(), EventLoops: 1}, h)
	cl := newTestClient(b, ClientConfig{Logger: zerolog.Nop()})
	body := make([]byte, 128)
	ext := map[string]string{"topic": "BenchTopic", "queueId": "3"}
	if _, err := cl.Invoke(testkit.Context(b), srv.Addr(), remoting.NewRequest(remoting.ReqSendMessage, ext, body)); err != nil {
		b.Fatal(err)
	}
	statsBefore := srv.impl.writeStats()
	b.ReportAllocs()
	b.ResetTimer()
	runConcurrently(b, invokers, func() error {
		_, err := cl.Invoke(context.Background(), srv.Addr(), remoting.NewRequest(remoting.ReqSendMessage, ext, body))
		return err
	})
	b.StopTimer()
	stats := srv.impl.writeStats()
	b.ReportMetric(float64(stats.writes-statsBefore.writes)/float64(b.N), "server-writes/frame")
}

// runConcurrently runs op b.N times over exactly n goroutines (RunParallel
// would start a multiple of GOMAXPROCS) and waits for them. The first error
// fails the benchmark.
func runConcurrently(b *testing.B, n int, op func() error) {
	var left atomic.Int64
	left.Store(int64(b.N))
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				if err := op(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// readFrames is the peer of a windowed write benchmark: a writer takes a slot
// before each frame of frameBytes; the peer reads until all n frames
// arrived, freeing one slot per frame read, and then sends the read's
// outcome on done.
func readFrames(nc io.Reader, frameBytes, n, window int) (slots chan struct{}, done chan error) {
	slots = make(chan struct{}, window)
	done = make(chan error, 1)
	go func() {
		buf := make([]byte, 256<<10)
		want := int64(frameBytes) * int64(n)
		var received, freed int64
		for received < want {
			k, err := nc.Read(buf)
			received += int64(k)
			for ; freed < received/int64(frameBytes); freed++ {
				<-slots
			}
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	return slots, done
}

// silentPeer starts a one-loop server whose handler answers nothing and a
// raw peer connected to it, which the server knows once the peer's heartbeat
// arrived: the write benchmarks write to nc through c.
func silentPeer(b *testing.B) (nc net.Conn, c *Conn) {
	h := newTestHandler()
	h.respond = func(*Conn, *remoting.Command) *remoting.Command { return nil }
	srv := startServer(b, ServerConfig{Logger: zerolog.Nop(), EventLoops: 1}, h)
	nc = dialRaw(b, srv.Addr())
	if _, err := nc.Write(remoting.AppendFrame(nil, request(remoting.ReqHeartBeat, 1, ""))); err != nil {
		b.Fatal(err)
	}
	testkit.Eventually(b, "connection known", func() bool { return h.anyConn() != nil })
	return nc, h.anyConn()
}
