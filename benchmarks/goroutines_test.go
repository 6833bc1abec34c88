package benchmarks

import (
	"runtime/metrics"
	"testing"
)

// goroutinesCreated reads the runtime's count of goroutines created since
// the process started.
func goroutinesCreated() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// reportGoroutinesPerOp reports goroutines created per op since created
// (a goroutinesCreated reading taken where the timer was reset): the cost of
// a goroutine start per mailbox wake-up that protoactor's default dispatcher
// pays, and that actorsys.Hot avoids. It does not depend on machine load.
func reportGoroutinesPerOp(b *testing.B, created uint64) {
	b.ReportMetric(float64(goroutinesCreated()-created)/float64(b.N), "goroutines/op")
}
