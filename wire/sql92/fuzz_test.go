package sql92

import (
	"errors"
	"testing"
)

// FuzzCompile feeds arbitrary selectors and properties: Compile either
// fails with ErrInvalid or gives an expression within the limits, and
// matching never panics and agrees between Match and MatchBytes.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"a BETWEEN 3 AND 7 AND b = 'x'", "a IS NULL OR b IN ('y')", "NOT (a > 1.5e3) OR c <> -2",
		"b NOT CONTAINS 'x' AND b STARTSWITH 'y' AND b ENDSWITH 'z'", "a = 1 -- c\n/* d */ OR TRUE",
		"((a = 1))", "a = 'it''s'", "a >", "a = 007", "a BETWEEN 5 AND 3", "a > 2147483648L",
	} {
		f.Add(s, "a\x015\x02b\x01x\x02")
	}
	f.Fuzz(func(t *testing.T, expr, props string) {
		e, err := Compile(expr)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if len(expr) > ExprBytesMax || e.root.depth() > DepthMax {
			t.Fatalf("accepted %d bytes of depth %d", len(expr), e.root.depth())
		}
		if e.Match(props) != e.MatchBytes([]byte(props)) {
			t.Fatalf("Match and MatchBytes disagree")
		}
	})
}
