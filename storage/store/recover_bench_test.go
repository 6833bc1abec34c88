package store

import (
	"os"
	"testing"

	"github.com/rs/zerolog"
)

// BenchmarkRecoverCrashedStore opens the store directory named by
// ACTORMQ_RECOVERY_STORE as after a crash, once per iteration: the abort
// file stays, so every Open runs the abnormal recovery (commit-log
// validation from the checkpoint's segment, consume-queue truncation,
// re-dispatch). Run it on a copy of a broker store left by kill -9 (make
// bench's recovery run leaves none; see benchmarks/run.sh), with
// -cpuprofile for the shares of each phase:
//
//	ACTORMQ_RECOVERY_STORE=/path/store go test ./storage/store -run NONE \
//	    -bench RecoverCrashedStore -benchtime 3x -cpuprofile recover.prof
func BenchmarkRecoverCrashedStore(b *testing.B) {
	root := os.Getenv("ACTORMQ_RECOVERY_STORE")
	if root == "" {
		b.Skip("ACTORMQ_RECOVERY_STORE names no store directory")
	}
	for b.Loop() {
		s, err := Open(Config{RootDir: root, Logger: zerolog.Nop()})
		if err != nil {
			b.Fatal(err)
		}
		if !s.Abnormal {
			b.Fatal("the store was closed cleanly: no crash to recover from")
		}
		if err := s.impl.shutdown(s, false); err != nil {
			b.Fatal(err)
		}
	}
}
