package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
)

// TestTraceFlag writes the generator's execution trace of a whole run,
// ended by the stop function main calls after the command returned.
func TestTraceFlag(t *testing.T) {
	ns := startCluster(t)
	path := filepath.Join(t.TempDir(), "bench.trace")
	root, stopTrace := newRoot(&lockedWriter{t: t})
	root.SetArgs([]string{"produce", "-n", ns, "-t", "BenchTrace", "-s", "16", "--duration", "300ms", "--trace", path})
	err := root.ExecuteContext(testkit.ContextWithin(t, time.Minute))
	if serr := stopTrace(); serr != nil {
		t.Fatal(serr)
	}
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// An execution trace starts with its version line, "go 1.NN trace".
	if !bytes.HasPrefix(b, []byte("go 1.")) || len(b) < 1024 {
		t.Fatalf("trace of %d bytes starts %q", len(b), b[:min(len(b), 16)])
	}
	if err := stopTrace(); err != nil { // a second stop is a no-op
		t.Fatal(err)
	}
}
