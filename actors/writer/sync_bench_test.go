package writer

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/storage/commitlog"
	"github.com/actormq/actormq/wire/remoting"
)

// countingLog counts the flushes of a commit log.
type countingLog struct {
	*commitlog.CommitLog
	flushes atomic.Int64
}

func (l *countingLog) Flush() (int64, error) {
	l.flushes.Add(1)
	return l.CommitLog.Flush()
}

// BenchmarkSyncFlushWindow is mqbench's async producer against the writer
// alone on a real commit log: window sends in flight, each answer lets the
// next one go (a closed loop, as -c 4 -w 64 keeps 256 in flight). With one
// flush at a time the in-flight sends split into the group being flushed
// and the group gathering for the next flush, so ns/op is about the flush
// cycle divided by window/2: what the time between two fsyncs costs.
// Reports msgs/fsync.
func BenchmarkSyncFlushWindow(b *testing.B) {
	key, rec := benchKey, benchRecord("")
	for _, window := range []int{64, 256} {
		b.Run(fmt.Sprintf("window=%d", window), func(b *testing.B) {
			log := &countingLog{CommitLog: openBenchLog(b)}
			w := spawnBenchWriter(b, config.FlushSync, storeDeps{log: log})
			conn := &benchConn{answered: make(chan struct{}, window)}
			req := &remoting.Command{Code: remoting.ReqSendMessage, Opaque: 1}
			submit := func() {
				a := NewAppend(1)
				a.Conn, a.Req, a.Key, a.UniqKey = conn, req, key, benchUniqKey
				batch := NewBatch()
				batch.Records.B = append(batch.Records.B, rec...)
				batch.Add(a)
				w.Submit(batch)
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := log.flushes.Load()
			sent := 0
			for ; sent < min(window, b.N); sent++ {
				submit()
			}
			for done := 0; done < b.N; done++ {
				<-conn.answered
				if sent < b.N {
					submit()
					sent++
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/float64(max(1, log.flushes.Load()-start)), "msgs/fsync")
		})
	}
}
