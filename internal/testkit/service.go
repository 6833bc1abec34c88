package testkit

import (
	"context"
	"testing"
)

// Service is a component with the New → Start → Shutdown lifecycle, such as
// netio.Server and namesrv.Server.
type Service interface {
	Start() error
	Shutdown(ctx context.Context) error
}

// Start starts s, failing the test with "Start: <err>" if it cannot, and
// shuts it down at the test's cleanup, bounded by Timeout; a failing Shutdown
// is reported as a test error ("Shutdown: <err>"), since these are the tests
// of s itself. It returns s.
func Start[S Service](t testing.TB, s S) S {
	t.Helper()
	if err := s.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return s
}
