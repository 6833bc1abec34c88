package sql92

import (
	"errors"
	"strings"
	"testing"

	"github.com/actormq/actormq/wire/message"
)

// props encodes key/value pairs as a properties string.
func props(kv ...string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return message.FormatProperties(m)
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		expr string
	}{
		{name: "empty", expr: ""},
		{name: "blank", expr: "  \t\n"},
		{name: "only a comment", expr: "-- nothing"},
		{name: "missing operand", expr: "a >"},
		{name: "equal NULL", expr: "a = NULL"},
		{name: "NULL equal", expr: "NULL = a"},
		{name: "not equal NULL", expr: "a <> NULL"},
		{name: "boolean literal equal number", expr: "TRUE = 1"},
		{name: "boolean literal equal string", expr: "FALSE = 'x'"},
		{name: "greater than string", expr: "a > 'x'"},
		{name: "greater than boolean", expr: "a > TRUE"},
		{name: "greater than NULL", expr: "a >= NULL"},
		{name: "condition ordered", expr: "(a > 1) > 2"},
		{name: "chained ordering", expr: "a < 1 < 2"},
		{name: "between reversed", expr: "a BETWEEN 5 AND 3"},
		{name: "between reversed float", expr: "a BETWEEN 5.5 AND 5"},
		{name: "between NULL", expr: "a BETWEEN NULL AND 3"},
		{name: "between strings", expr: "a BETWEEN 'a' AND 'b'"},
		{name: "between mixed", expr: "a BETWEEN 1 AND 'x'"},
		{name: "between missing AND", expr: "a BETWEEN 1 OR 3"},
		{name: "not between string", expr: "a NOT BETWEEN 'a' AND 3"},
		{name: "in on literal", expr: "'a' IN ('a')"},
		{name: "in numbers", expr: "a IN (1, 2)"},
		{name: "in empty", expr: "a IN ()"},
		{name: "in unclosed", expr: "a IN ('x'"},
		{name: "in trailing comma", expr: "a IN ('x',)"},
		{name: "contains property", expr: "a CONTAINS b"},
		{name: "not a number condition", expr: "NOT 1"},
		{name: "number selector", expr: "1"},
		{name: "string selector", expr: "'x'"},
		{name: "negated selector", expr: "-a"},
		{name: "and with number", expr: "a = 1 AND 2"},
		{name: "trailing tokens", expr: "a = 1 b = 2"},
		{name: "trailing paren", expr: "a = 1)"},
		{name: "unbalanced paren", expr: "(a = 1"},
		{name: "leading zeros", expr: "a = 007"},
		{name: "bad number suffix", expr: "a = 5x"},
		{name: "two points", expr: "a = 1.5.3"},
		{name: "lone point", expr: "a = ."},
		{name: "integer overflow", expr: "a = 9223372036854775808"},
		{name: "float overflow", expr: "a = 1e999"},
		{name: "unterminated string", expr: "a = 'x"},
		{name: "unterminated comment", expr: "a = 1 /* x"},
		{name: "unknown character", expr: "a # 1"},
		{name: "double equals", expr: "a == 1"},
		{name: "bang equals", expr: "a != 1"},
		{name: "like", expr: "a LIKE 'x%'"},
		{name: "is number", expr: "a IS 5"},
		{name: "is not without null", expr: "a IS NOT 5"},
		{name: "not before equals", expr: "a NOT = 1"},
		{name: "arithmetic", expr: "a + 1 > 2"},
		{name: "non-ASCII identifier", expr: "ä = 1"},
		{name: "dotted identifier", expr: "a.b = 1"},
		{name: "double quotes", expr: `a = "x"`},
		{name: "keyword as property", expr: "in = 'x'"},
		{name: "too long", expr: "a = '" + strings.Repeat("x", ExprBytesMax) + "'"},
		{name: "too deep parens", expr: strings.Repeat("(", DepthMax+1) + "a = 1" + strings.Repeat(")", DepthMax+1)},
		{name: "too deep NOT", expr: strings.Repeat("NOT ", DepthMax+1) + "a"},
		{name: "too deep minus", expr: "a = " + strings.Repeat("- ", DepthMax+1) + "1"},
		{name: "too deep equality chain", expr: "a = 1" + strings.Repeat(" = TRUE", DepthMax)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Compile(tt.expr)
			if err == nil {
				t.Fatalf("Compile(%.60q) = %v, want an error", tt.expr, e)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestCompileAccepts(t *testing.T) {
	for _, expr := range []string{
		"TRUE", "FALSE", "NULL", "a", "NOT a", "a = 1 -- trailing comment", "/* lead */ a = 1",
		"a = 1 --c\r\nAND b = 2", "a BETWEEN -5 AND -10", "a NOT BETWEEN 5 AND 3", "1 = TRUE", "TRUE = FALSE",
		"a > -'x'", "a = 0.0", "a iS nOt NuLl", "$x_1 = 'y'", "_ IS NULL", "a = 5L", "a = 5l", "a = 0",
		"'abc' CONTAINS 'b'", "a = .5", "a = 5.", "a = 5e3", "a = 5.E-3", "a > 2147483648",
		"a = -9223372036854775807", "a = 1 = TRUE", "a IS NULL IS NULL", "+'x' = a", "a IN ('x', 'x')",
		"a between 1 and 3 and b in ('x')", "(((a = 1)))", "a<>1", "a>=1AND b<=2",
		strings.Repeat("(", DepthMax-1) + "a" + strings.Repeat(")", DepthMax-1),
		"a = 1" + strings.Repeat(" AND a = 1", 1000),
	} {
		if _, err := Compile(expr); err != nil {
			t.Errorf("Compile(%.60q): %v", expr, err)
		}
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		name  string
		expr  string
		props string
		want  bool
	}{
		// = and <> with conversions of the property to the literal's type.
		{name: "int equal", expr: "a = 3", props: props("a", "3"), want: true},
		{name: "int equal leading zero", expr: "a = 3", props: props("a", "03"), want: true},
		{name: "int equal plus sign", expr: "a = 3", props: props("a", "+3"), want: true},
		{name: "int equal space fails", expr: "a = 3", props: props("a", " 3")},
		{name: "int equal decimal fails", expr: "a = 3", props: props("a", "3.0")},
		{name: "int equal word fails", expr: "a = 3", props: props("a", "x")},
		{name: "int equal absent", expr: "a = 3", props: props("b", "3")},
		{name: "int literal left", expr: "3 = a", props: props("a", "3"), want: true},
		{name: "int literal overflows int", expr: "a = 5", props: props("a", "2147483648")},
		{name: "long literal", expr: "a = 5000000000", props: props("a", "5000000000"), want: true},
		{name: "long literal L", expr: "a > 4999999999L", props: props("a", "5000000000"), want: true},
		{name: "double equal int text", expr: "a = 3.0", props: props("a", "3"), want: true},
		{name: "double equal trimmed", expr: "a = 3.0", props: props("a", " 3 "), want: true},
		{name: "double equal suffix", expr: "a = 3.0", props: props("a", "3f"), want: true},
		{name: "double equal hex", expr: "a = 1.0", props: props("a", "0x1p0"), want: true},
		{name: "double equal Go-only syntax fails", expr: "a = 1000.0", props: props("a", "1_000")},
		{name: "negative zero differs", expr: "a = 0.0", props: props("a", "-0.0")},
		{name: "NaN above all doubles", expr: "a > 1.0", props: props("a", "NaN"), want: true},
		{name: "NaN is no integer", expr: "a > 1", props: props("a", "NaN")},
		{name: "not equal", expr: "a <> 3", props: props("a", "4"), want: true},
		{name: "not equal same", expr: "a <> 3", props: props("a", "3")},
		{name: "not equal absent", expr: "a <> 3", props: props("b", "4")},
		{name: "not equal word fails", expr: "a <> 3", props: props("a", "x")},
		{name: "string equal", expr: "b = 'x'", props: props("b", "x"), want: true},
		{name: "string equal case", expr: "b = 'x'", props: props("b", "X")},
		{name: "escaped quote", expr: "b = 'it''s'", props: props("b", "it's"), want: true},
		{name: "two properties as strings", expr: "a = b", props: props("a", "1", "b", "1.0")},
		{name: "two properties same", expr: "a = b", props: props("a", "x", "b", "x"), want: true},
		{name: "property names case-sensitive", expr: "A = 1", props: props("a", "1")},
		{name: "negative literal", expr: "a = -1", props: props("a", "-1"), want: true},
		{name: "negated property is NULL", expr: "-a = -1", props: props("a", "1")},
		{name: "double negation", expr: "a = - -1", props: props("a", "1"), want: true},
		{name: "boolean literal", expr: "a = TRUE", props: props("a", "TRUE"), want: true},
		{name: "boolean literal lower", expr: "a = TRUE", props: props("a", "true"), want: true},
		{name: "boolean literal other word", expr: "a = TRUE", props: props("a", "yes")},
		{name: "Boolean.valueOf false", expr: "a = FALSE", props: props("a", "yes"), want: true},
		{name: "boolean left of string throws", expr: "TRUE = a", props: props("a", "true")},
		{name: "number and boolean unequal", expr: "1 = TRUE", props: props()},
		{name: "equality chain", expr: "a = 1 = TRUE", props: props("a", "1"), want: true},
		// Orderings.
		{name: "greater", expr: "a > 5", props: props("a", "6"), want: true},
		{name: "greater equal edge", expr: "a >= 5", props: props("a", "5"), want: true},
		{name: "less", expr: "a < 5", props: props("a", "5")},
		{name: "less equal", expr: "a <= 5.5", props: props("a", "5.5"), want: true},
		{name: "exponent literal", expr: "a < 1e1", props: props("a", "9.99"), want: true},
		{name: "long literal parses long", expr: "a > 2147483648", props: props("a", "2147483649"), want: true},
		{name: "int literal parses int", expr: "a > 2147483647", props: props("a", "2147483648")},
		{name: "int widened to long", expr: "2147483647 < 2147483648", want: true},
		{name: "long against int", expr: "2147483648 > 2147483647 AND 2147483648 <> 0", want: true},
		{name: "long against double", expr: "2147483648 < 2147483648.5", want: true},
		{name: "strings ordered as doubles", expr: "a > b", props: props("a", "10", "b", "9"), want: true},
		{name: "non-numeric strings fail", expr: "a > b", props: props("a", "x", "b", "9")},
		{name: "ordering absent", expr: "a > 5", props: props()},
		{name: "literal on the left", expr: "5 < a", props: props("a", "6"), want: true},
		// BETWEEN.
		{name: "between low edge", expr: "a BETWEEN 3 AND 7", props: props("a", "3"), want: true},
		{name: "between high edge", expr: "a BETWEEN 3 AND 7", props: props("a", "7"), want: true},
		{name: "between above", expr: "a BETWEEN 3 AND 7", props: props("a", "8")},
		{name: "between below", expr: "a BETWEEN 3 AND 7", props: props("a", "2")},
		{name: "between absent", expr: "a BETWEEN 3 AND 7", props: props()},
		{name: "between word", expr: "a BETWEEN 3 AND 7", props: props("a", "x")},
		{name: "between doubles", expr: "a BETWEEN 0.5 AND 1.5", props: props("a", "1"), want: true},
		{name: "between negative bounds unchecked", expr: "a BETWEEN -3 AND -7", props: props("a", "-5")},
		{name: "not between below", expr: "a NOT BETWEEN 3 AND 7", props: props("a", "2"), want: true},
		{name: "not between above", expr: "a NOT BETWEEN 3 AND 7", props: props("a", "8"), want: true},
		{name: "not between inside", expr: "a NOT BETWEEN 3 AND 7", props: props("a", "5")},
		{name: "not between absent", expr: "a NOT BETWEEN 3 AND 7", props: props()},
		// IN.
		{name: "in hit", expr: "b IN ('x', 'y')", props: props("b", "y"), want: true},
		{name: "in miss", expr: "b IN ('x', 'y')", props: props("b", "z")},
		{name: "in absent", expr: "b IN ('x')", props: props()},
		{name: "in number text", expr: "b IN ('1')", props: props("b", "1"), want: true},
		{name: "not in hit", expr: "b NOT IN ('x')", props: props("b", "z"), want: true},
		{name: "not in miss", expr: "b NOT IN ('x')", props: props("b", "x")},
		{name: "not in absent", expr: "b NOT IN ('x')", props: props()},
		{name: "in many", expr: "b IN ('a','b','c','d','e','f')", props: props("b", "e"), want: true},
		// IS [NOT] NULL.
		{name: "is null absent", expr: "a IS NULL", props: props("b", "1"), want: true},
		{name: "is null present", expr: "a IS NULL", props: props("a", "1")},
		{name: "is not null present", expr: "a IS NOT NULL", props: props("a", "1"), want: true},
		{name: "is not null absent", expr: "a IS NOT NULL", props: props()},
		{name: "empty value is absent", expr: "a IS NULL", props: "a\x01\x02b\x01y\x02", want: true},
		{name: "later duplicate wins", expr: "a = 2", props: "a\x011\x02a\x012\x02", want: true},
		// Three-valued logic.
		{name: "or with NULL", expr: "a = 1 OR b = 'x'", props: props("b", "x"), want: true},
		{name: "and with NULL", expr: "a = 1 AND b = 'x'", props: props("b", "x")},
		{name: "not NULL", expr: "NOT (a = 1)", props: props()},
		{name: "not false", expr: "NOT (a = 1)", props: props("a", "2"), want: true},
		{name: "not of NULL and FALSE", expr: "NOT (a = 1 AND b = 'x')", props: props("b", "y"), want: true},
		{name: "not of NULL and TRUE", expr: "NOT (a = 1 AND b = 'x')", props: props("b", "x")},
		{name: "not binds tighter", expr: "NOT a = 1", props: props("a", "1")},
		{name: "error aborts before OR", expr: "a > 5 OR b = 'x'", props: props("a", "abc", "b", "x")},
		{name: "OR short-circuits an error", expr: "b = 'x' OR a > 5", props: props("a", "abc", "b", "x"), want: true},
		{name: "AND short-circuits an error", expr: "b = 'y' AND a > 5", props: props("a", "abc", "b", "x")},
		{name: "precedence AND over OR", expr: "a = 1 OR a = 2 AND b = 'x'", props: props("a", "1", "b", "y"), want: true},
		{name: "parentheses", expr: "(a = 1 OR a = 2) AND b = 'x'", props: props("a", "1", "b", "y")},
		{name: "long chain", expr: strings.Repeat("a = 1 AND ", 500) + "b = 'x'", props: props("a", "1", "b", "x"), want: true},
		// Bare conditions.
		{name: "true", expr: "TRUE", props: props(), want: true},
		{name: "false", expr: "FALSE", props: props()},
		{name: "null", expr: "NULL", props: props()},
		{name: "bare property is false", expr: "a", props: props("a", "true")},
		{name: "not bare property", expr: "NOT a", props: props("a", "true"), want: true},
		{name: "not bare absent", expr: "NOT a", props: props()},
		// String tests (5.x).
		{name: "contains", expr: "b CONTAINS 'el'", props: props("b", "hello"), want: true},
		{name: "contains miss", expr: "b CONTAINS 'xy'", props: props("b", "hello")},
		{name: "not contains", expr: "b NOT CONTAINS 'el'", props: props("b", "hello")},
		{name: "not contains miss", expr: "b NOT CONTAINS 'xy'", props: props("b", "hello"), want: true},
		{name: "contains absent", expr: "b CONTAINS 'el'", props: props()},
		{name: "not contains absent", expr: "b NOT CONTAINS 'el'", props: props()},
		{name: "contains empty", expr: "b CONTAINS ''", props: props("b", "hello")},
		{name: "not contains empty", expr: "b NOT CONTAINS ''", props: props("b", "hello")},
		{name: "startswith", expr: "b STARTSWITH 'he'", props: props("b", "hello"), want: true},
		{name: "not startswith", expr: "b NOT STARTSWITH 'he'", props: props("b", "hello")},
		{name: "endswith", expr: "b ENDSWITH 'lo'", props: props("b", "hello"), want: true},
		{name: "not endswith", expr: "b NOT ENDSWITH 'xx'", props: props("b", "hello"), want: true},
		{name: "contains on number is false", expr: "1 CONTAINS '1'", props: props()},
		// Lexical details.
		{name: "comments", expr: "a = 1 /* c */ AND -- note\n b = 'x'", props: props("a", "1", "b", "x"), want: true},
		{name: "keywords any case", expr: "a between 1 and 3 aNd b iN ('x')", props: props("a", "2", "b", "x"), want: true},
		{name: "system property", expr: "TAGS = 'TagA'", props: props("TAGS", "TagA", "KEYS", "k"), want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Compile(tt.expr)
			if err != nil {
				t.Fatalf("Compile(%.60q): %v", tt.expr, err)
			}
			if got := e.Match(tt.props); got != tt.want {
				t.Fatalf("Match(%q) = %v, want %v", tt.props, got, tt.want)
			}
			if got := e.MatchBytes([]byte(tt.props)); got != tt.want {
				t.Fatalf("MatchBytes(%q) = %v, want %v", tt.props, got, tt.want)
			}
		})
	}
}

func TestParseDouble(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{in: "1", want: 1, ok: true},
		{in: " 1.5 ", want: 1.5, ok: true},
		{in: "-.5", want: -0.5, ok: true},
		{in: "5.", want: 5, ok: true},
		{in: "1e3", want: 1000, ok: true},
		{in: "1E+3d", want: 1000, ok: true},
		{in: "0x10p0", want: 16, ok: true},
		{in: "0x.8p1", want: 1, ok: true},
		{in: "-0X1.P-1", want: -0.5, ok: true},
		{in: "0xp0"},
		{in: "0x1p"},
		{in: "0x1.8"},
		{in: "1.e"},
		{in: "-Infinity", want: -1 / zero(), ok: true},
		{in: "1e999", want: 1 / zero(), ok: true},
		{in: "inf"},
		{in: "infinity"},
		{in: "nan"},
		{in: "1_0"},
		{in: "0x10"},
		{in: "1e"},
		{in: "."},
		{in: "+-1"},
		{in: ""},
		{in: "f"},
	}
	for _, tt := range tests {
		v, ok := parseDouble(tt.in)
		if ok != tt.ok || ok && v.f != tt.want {
			t.Errorf("parseDouble(%q) = %v %v, want %v %v", tt.in, v.f, ok, tt.want, tt.ok)
		}
	}
}

func zero() float64 { return 0 }

func TestParseInteger(t *testing.T) {
	tests := []struct {
		in   string
		k    kind
		want int64
		ok   bool
	}{
		{in: "2147483647", k: kindInt, want: 2147483647, ok: true},
		{in: "-2147483648", k: kindInt, want: -2147483648, ok: true},
		{in: "2147483648", k: kindInt},
		{in: "9223372036854775807", k: kindLong, want: 9223372036854775807, ok: true},
		{in: "-9223372036854775808", k: kindLong, want: -9223372036854775808, ok: true},
		{in: "9223372036854775808", k: kindLong},
		{in: "000000000000000000000000042", k: kindInt, want: 42, ok: true},
		{in: "+", k: kindInt},
		{in: "1 ", k: kindInt},
		{in: "0x1", k: kindLong},
	}
	for _, tt := range tests {
		v, ok := parseInteger(tt.in, tt.k)
		if ok != tt.ok || ok && (v.n != tt.want || v.k != tt.k) {
			t.Errorf("parseInteger(%q, %d) = %d %v, want %d %v", tt.in, tt.k, v.n, ok, tt.want, tt.ok)
		}
	}
}

// TestMatchAllocs checks that evaluation allocates nothing per message,
// also when a conversion fails.
func TestMatchAllocs(t *testing.T) {
	e, err := Compile("a BETWEEN 3 AND 7 AND b IN ('x', 'y') OR c > 1.5 OR d CONTAINS 'q'")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{props("a", "5", "b", "x"), props("a", "word", "c", "x"), props()} {
		raw := []byte(p)
		if n := testing.AllocsPerRun(100, func() { e.MatchBytes(raw) }); n != 0 {
			t.Errorf("MatchBytes(%q) allocates %v times", p, n)
		}
	}
}
