package wallclock

import (
	"testing"
	"time"
)

func TestJumpMovesNowAndUntil(t *testing.T) {
	t.Cleanup(Reset)
	at := time.Now().Add(time.Hour)
	Jump(-2 * time.Hour)
	if d := Until(at); d < 3*time.Hour-time.Minute || d > 3*time.Hour {
		t.Fatalf("Until an hour ahead after a 2h backward jump = %s, want about 3h", d)
	}
	Jump(3 * time.Hour)
	if got := Offset(); got != time.Hour {
		t.Fatalf("Offset = %s, want 1h", got)
	}
	if d := Now().Sub(time.Now()); d < time.Hour-time.Minute || d > time.Hour+time.Minute {
		t.Fatalf("Now is %s from time.Now, want about 1h", d)
	}
	Reset()
	if d := Until(at); d > time.Hour {
		t.Fatalf("Until after Reset = %s, want ≤ 1h", d)
	}
}

// BenchmarkNow is the cost of the seam without a jump, next to time.Now.
func BenchmarkNow(b *testing.B) {
	b.Run("wallclock", func(b *testing.B) {
		for b.Loop() {
			_ = Now()
		}
	})
	b.Run("time", func(b *testing.B) {
		for b.Loop() {
			_ = time.Now()
		}
	})
}
