package index

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/commitlog"
	storeindex "github.com/actormq/actormq/storage/index"
	"github.com/actormq/actormq/wire/message"
	"github.com/rs/zerolog"
)

// Record shapes the benchmarks index: a single send as clients make it
// (UNIQ_KEY, TAGS), one with KEYS as well, and a batch item (no keys).
var benchShapes = []struct {
	name       string
	uniq, keys bool
}{
	{name: "uniq", uniq: true},
	{name: "uniq+keys", uniq: true, keys: true},
	{name: "nokeys"},
}

// benchRecord is record i of a shape: 128-byte body, properties as the Go
// client sets them, a UNIQ_KEY of 32 hex digits unique per i.
func benchRecord(i int, uniq, keys bool) []byte {
	props := message.PropertyTags + "\x01TagA\x02" + message.PropertyCluster + "\x01DefaultCluster\x02"
	if uniq {
		props += message.PropertyUniqKey + fmt.Sprintf("\x017F0000010A2B18B4AAC2%012X\x02", i)
	}
	if keys {
		props += message.PropertyKeys + fmt.Sprintf("\x01order-%d\x02", i)
	}
	m := message.Message{
		Topic: "BenchTopic", Body: []byte(strings.Repeat("b", 128)), Properties: props,
		BornHost:  netip.MustParseAddrPort("127.0.0.1:40000"),
		StoreHost: netip.MustParseAddrPort("127.0.0.1:10911"),
	}
	return message.AppendRecord(nil, &m)
}

// bareActor is an index actor that is not spawned, over a new index
// (RocketMQ's default sizes when hashSlots and maxItems are 0) and clog
// (nil when only indexRecord is called): tests and benchmarks call its
// methods on their own goroutine.
func bareActor(tb testing.TB, clog *commitlog.CommitLog, hashSlots, maxItems int) *indexActor {
	tb.Helper()
	a := openActor(tb, filepath.Join(tb.TempDir(), "index"), clog, hashSlots, maxItems)
	tb.Cleanup(func() { _ = a.x.idx.Close() })
	return a
}

// openActor is bareActor over the index in dir; the caller closes it.
func openActor(tb testing.TB, dir string, clog *commitlog.CommitLog, hashSlots, maxItems int) *indexActor {
	tb.Helper()
	idx, err := storeindex.Open(storeindex.Config{Dir: dir, HashSlots: hashSlots, MaxItems: maxItems})
	if err != nil {
		tb.Fatal(err)
	}
	return &indexActor{x: &Indexer{log: zerolog.Nop(), clog: clog, idx: idx}}
}

// newLog opens a new commit log of segmentBytes segments.
func newLog(tb testing.TB, segmentBytes int64) *commitlog.CommitLog {
	tb.Helper()
	clog, err := commitlog.Open(commitlog.Config{Dir: filepath.Join(tb.TempDir(), "commitlog"), FileSize: segmentBytes})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := clog.Recover(false, 0); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = clog.Close() })
	return clog
}

// BenchmarkIndexRecord: the CPU cost of indexing one record already read
// (header and properties parsed, keys hashed and put into an IndexFile of
// RocketMQ's default size), per record.
func BenchmarkIndexRecord(b *testing.B) {
	for _, shape := range benchShapes {
		b.Run(shape.name, func(b *testing.B) {
			recs := make([][]byte, 4096)
			for i := range recs {
				recs[i] = benchRecord(i, shape.uniq, shape.keys)
			}
			a := bareActor(b, nil, 0, 0)
			b.ReportAllocs()
			b.ResetTimer()
			cpu := testkit.ProcessCPU(b)
			for i := range b.N {
				if err := a.indexRecord(int64(i)*256, recs[i%len(recs)]); err != nil {
					b.Fatal(err)
				}
			}
			if err := a.putKeys(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(testkit.ProcessCPU(b)-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkCatchUp: indexing records from a commit log, as after a crash
// or behind the writer (scan, parse, put, end), per record. The log holds
// catchUpLogRecords; once they are indexed the next ones go to a new
// index over the same log, so the disk a run takes stays bounded.
func BenchmarkCatchUp(b *testing.B) {
	const catchUpLogRecords = 1 << 20 // about 350 MB of log
	for _, shape := range benchShapes {
		b.Run(shape.name, func(b *testing.B) {
			clog := newLog(b, 128<<20)
			for i := range catchUpLogRecords {
				if _, err := clog.Append(benchRecord(i, shape.uniq, shape.keys), 0, int64(1_700_000_000_000+i)); err != nil {
					b.Fatal(err)
				}
			}
			var a *indexActor
			dir := ""
			restart := func() {
				if a != nil {
					_ = a.x.idx.Close()
					_ = os.RemoveAll(dir)
				}
				dir = filepath.Join(b.TempDir(), "index")
				a = openActor(b, dir, clog, 0, 0)
			}
			restart()
			defer func() { _ = a.x.idx.Close() }()
			b.ReportAllocs()
			b.ResetTimer()
			cpu := testkit.ProcessCPU(b)
			for left, done := b.N, 0; left > 0; {
				if done == catchUpLogRecords {
					b.StopTimer()
					stopped := testkit.ProcessCPU(b)
					restart()
					cpu += testkit.ProcessCPU(b) - stopped
					done = 0
					b.StartTimer()
				}
				step := min(left, catchUpLogRecords-done, scanChunkRecords)
				a.catchUp(step, 0, noBound)
				done += step
				left -= step
			}
			b.ReportMetric(float64(testkit.ProcessCPU(b)-cpu)/float64(b.N), "cpu-ns/op")
			if a.failed || a.next == 0 {
				b.Fatalf("catch-up failed or read nothing (next %d)", a.next)
			}
		})
	}
}
