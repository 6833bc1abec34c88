package netio

import (
	"io"
	"testing"

	"github.com/actormq/actormq/wire/remoting"
)

// BenchmarkPullAnswerWrites is a queue actor answering pulls on one server
// connection with WriteWithBody: per op one answer of 32 zero-copy 230-byte
// records taken from one large buffer (a mapped commit-log segment), read and
// discarded by a plain TCP peer, at most 16 answers unread. "interleaved"
// takes every other record slot (records of other queues between them: one
// iovec per record); "contiguous" takes them back to back (one queue's
// records stored in a row: merged into one iovec). "backlogged" is
// "interleaved" with up to 4096 answers unread, as when thousands of held
// pulls are answered at once: the socket fills, gnet buffers the rest, and
// the flushes behind it go through writeJoined. allocs/op and B/op are the
// write path's garbage per answer.
func BenchmarkPullAnswerWrites(b *testing.B) {
	b.Run("interleaved", func(b *testing.B) { benchmarkPullAnswerWrites(b, 2, 16) })
	b.Run("contiguous", func(b *testing.B) { benchmarkPullAnswerWrites(b, 1, 16) })
	b.Run("backlogged", func(b *testing.B) { benchmarkPullAnswerWrites(b, 2, 4096) })
}

func benchmarkPullAnswerWrites(b *testing.B, stride, window int) {
	const records, recordBytes = 32, 230
	nc, c := silentPeer(b)

	segment := make([]byte, 1<<20)
	answers := len(segment) / (records * stride * recordBytes)
	parts := make([][][]byte, answers)
	for a := range parts {
		for r := range records {
			at := ((a*records + r) * stride) * recordBytes
			parts[a] = append(parts[a], segment[at:at+recordBytes])
		}
	}
	resp := remoting.NewResponse(request(remoting.ReqPullMessage, 1, ""), remoting.RespSuccess, "")
	resp.SetExt("nextBeginOffset", "12345")
	resp.SetExt("minOffset", "0")
	resp.SetExt("maxOffset", "99999")
	frameBytes := len(remoting.AppendFrameHead(nil, resp, records*recordBytes)) + records*recordBytes

	slots, readDone := readFrames(nc, frameBytes, b.N, window)
	statsBefore := c.impl.srv.writeStats()

	b.ReportAllocs()
	b.SetBytes(int64(frameBytes))
	b.ResetTimer()
	for i := range b.N {
		slots <- struct{}{}
		if err := c.WriteWithBody(resp, parts[i%answers], nil); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-readDone; err != nil && err != io.EOF {
		b.Fatal(err)
	}
	b.StopTimer()
	stats := c.impl.srv.writeStats()
	b.ReportMetric(float64(stats.writes-statsBefore.writes)/float64(b.N), "writes/answer")
}
