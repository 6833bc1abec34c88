package main

import (
	"os"
	"runtime/debug"
)

// gcPercent is the generator's GOGC when the environment sets none. Its
// live heap is a few MiB, so Go's default of 100 collected 10–15 times a
// second at 50,000 msgs/s (GODEBUG=gctrace=1, e2e at --rate 50000), each
// cycle a stop-the-world pause and a mark phase on the cores the broker
// under test needs: latency the generator added to its own figures. With
// 1000 it collects about once in two seconds and holds a few tens of MiB.
// Set in main, not init: the package's tests run a broker in the same
// process, and its GC figures are theirs to check.
const gcPercent = 1000

func setGCPercent() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
}
