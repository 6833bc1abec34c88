package commitlog

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/actormq/actormq/internal/testkit"
)

// BenchmarkGroupCommit is the writer's work per record as a broker does it:
// groups of records staged and committed (CommitLog.Stage, Commit), with a
// goroutine preparing 32 MiB ahead as the prefaulter actor does (ahead=
// written: PrefaultWritten, create: CreateAhead), and
// for sync=true a Flush after every group (SYNC_FLUSH), else one per 16
// MiB. cpu-ns/rec is the process's CPU time (user+sys, all threads: the
// prefaulter's and the flushes' included, the kernel's flusher threads
// not) per record, which depends much less than ns/op on what else the
// machine runs.
func BenchmarkGroupCommit(b *testing.B) {
	for _, c := range []struct {
		body, group int
		sync        bool
		ahead       []string
	}{
		{128, 125, true, []string{"written", "create"}},
		{128, 125, false, []string{"create"}},
		{1024, 32, false, []string{"create"}},
		{128, 64, false, []string{"create"}},
	} {
		for _, ahead := range c.ahead {
			name := fmt.Sprintf("body=%d/group=%d/sync=%v/ahead=%s", c.body, c.group, c.sync, ahead)
			b.Run(name, func(b *testing.B) { benchmarkGroupCommit(b, c.body, c.group, c.sync, ahead) })
		}
	}
}

func benchmarkGroupCommit(b *testing.B, body, group int, sync bool, ahead string) {
	const fileSize = 64 << 20
	const distance = 32 << 20
	l := openBenchLog(b, fileSize)
	pf := map[string]func(int64) (int64, error){
		"written": l.PrefaultWritten, "create": l.CreateAhead,
	}[ahead]
	pre := startBenchPrefaulter(b, pf, distance)
	rec := testRecord(1, body)
	// A group's records back to back in one buffer, as the writer's Batch
	// holds them: Stage keeps them there until Commit.
	groupBuf := bytes.Repeat(rec, group)
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	flushAt := int64(16 << 20)
	cpu0 := testkit.ProcessCPU(b)
	b.ResetTimer()
	for i := 0; i < b.N; {
		for j := 0; j < group && i < b.N; j, i = j+1, i+1 {
			if _, err := stageOne(b, l, groupBuf[j*len(rec):(j+1)*len(rec)], int64(i), int64(i)); err != nil {
				b.Fatal(err)
			}
		}
		if err := l.Commit(); err != nil {
			b.Fatal(err)
		}
		pos := l.WrotePosition()
		if sync || pos >= flushAt {
			flushAt = pos + 16<<20
			if _, err := l.Flush(); err != nil {
				b.Fatal(err)
			}
		}
		pre.poke(pos)
		trimBenchLog(b, l, fileSize)
	}
	b.StopTimer()
	pre.stop()
	b.ReportMetric(float64(testkit.ProcessCPU(b)-cpu0)/float64(b.N), "cpu-ns/rec")
}
