package sql92

import (
	"math"
	"strconv"
	"strings"
)

// kind is the Java type of a value during evaluation.
type kind uint8

const (
	kindNull   kind = iota
	kindBool        // java.lang.Boolean
	kindInt         // java.lang.Integer (n within int32)
	kindLong        // java.lang.Long
	kindDouble      // java.lang.Double
	kindString      // java.lang.String
)

// value is one evaluated operand. Passed by value: evaluation allocates
// nothing.
type value struct {
	k kind
	b bool
	n int64
	f float64
	s string
}

var (
	null     = value{}
	valTrue  = value{k: kindBool, b: true}
	valFalse = value{k: kindBool}
)

func boolValue(b bool) value {
	if b {
		return valTrue
	}
	return valFalse
}

func (v value) isNumber() bool { return v.k == kindInt || v.k == kindLong || v.k == kindDouble }

// compare orders two non-NULL values the way ComparisonExpression.__compare
// does with string conversion on: the left type decides how the right one
// is converted (or the left one widened). ok is false when Java throws: a
// string that does not parse as the other side's number, or a boolean on
// the left of a string (a ClassCastException in Java). Values of types
// that cannot be converted compare as -1 (Java's answer), so they are
// unequal and "less".
func compare(l, r value) (c int, ok bool) {
	if l.k != r.k {
		if l, r, ok = convert(l, r); !ok {
			return 0, false
		}
		if l.k != r.k {
			return -1, true
		}
	}
	switch l.k {
	case kindBool:
		switch {
		case l.b == r.b:
			return 0, true
		case r.b:
			return -1, true
		default:
			return 1, true
		}
	case kindInt, kindLong:
		switch {
		case l.n < r.n:
			return -1, true
		case l.n > r.n:
			return 1, true
		default:
			return 0, true
		}
	case kindDouble:
		return compareDouble(l.f, r.f), true
	default: // kindString; only the sign's zero-ness is ever used (=, <>)
		return strings.Compare(l.s, r.s), true
	}
}

// convert brings l and r of different kinds to one kind where Java does.
func convert(l, r value) (value, value, bool) {
	var ok bool
	switch l.k {
	case kindBool:
		if r.k == kindString {
			return l, r, false
		}
	case kindInt, kindLong:
		switch r.k {
		case kindInt, kindLong: // the Integer one is widened to Long
			l.k, r.k = kindLong, kindLong
		case kindDouble:
			l = value{k: kindDouble, f: float64(l.n)}
		case kindString:
			r, ok = parseInteger(r.s, l.k)
			return l, r, ok
		}
	case kindDouble:
		switch r.k {
		case kindInt, kindLong:
			r = value{k: kindDouble, f: float64(r.n)}
		case kindString:
			r, ok = parseDouble(r.s)
			return l, r, ok
		}
	case kindString:
		switch r.k {
		case kindBool:
			l = boolValue(strings.EqualFold(l.s, "true")) // Boolean.valueOf
		case kindInt, kindLong:
			l, ok = parseInteger(l.s, r.k)
			return l, r, ok
		case kindDouble:
			l, ok = parseDouble(l.s)
			return l, r, ok
		}
	}
	return l, r, true
}

// compareDouble is Double.compare: -0.0 < 0.0, NaN above +Inf and equal to
// itself.
func compareDouble(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	ab, bb := javaDoubleBits(a), javaDoubleBits(b)
	switch {
	case ab < bb:
		return -1
	case ab > bb:
		return 1
	default:
		return 0
	}
}

// javaDoubleBits is Double.doubleToLongBits (every NaN collapsed to one).
func javaDoubleBits(f float64) int64 {
	if math.IsNaN(f) {
		return 0x7ff8000000000000
	}
	return int64(math.Float64bits(f))
}

// parseInteger is Integer.valueOf (k kindInt) or Long.valueOf (k kindLong):
// an optional sign and decimal digits, nothing else. It does not allocate,
// also on failure, which is the common case of a selective filter.
func parseInteger(s string, k kind) (value, bool) {
	digits := s
	neg := false
	if len(digits) > 0 && (digits[0] == '+' || digits[0] == '-') {
		neg = digits[0] == '-'
		digits = digits[1:]
	}
	if len(digits) == 0 {
		return null, false
	}
	for len(digits) > 1 && digits[0] == '0' {
		digits = digits[1:]
	}
	if len(digits) > 19 {
		return null, false
	}
	var u uint64
	for i := 0; i < len(digits); i++ {
		if !isDigit(digits[i]) {
			return null, false
		}
		u = u*10 + uint64(digits[i]-'0') // 19 digits cannot overflow uint64
	}
	limit := uint64(1) << 63 // magnitude of the minimum
	if k == kindInt {
		limit = 1 << 31
	}
	if u > limit || (!neg && u == limit) {
		return null, false
	}
	n := int64(u)
	if neg {
		n = -n
	}
	return value{k: k, n: n}, true
}

// parseDouble is Double.valueOf: surrounding characters up to ' ' trimmed,
// "NaN" and "Infinity" with an optional sign, decimal or hexadecimal
// floating-point syntax with an optional f/F/d/D suffix. Syntax is checked
// first so a non-number does not allocate strconv's error.
func parseDouble(s string) (value, bool) {
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	unsigned := strings.TrimLeft(s, "+-")
	if len(s)-len(unsigned) <= 1 {
		switch unsigned {
		case "NaN":
			return value{k: kindDouble, f: math.NaN()}, true
		case "Infinity":
			if s[0] == '-' {
				return value{k: kindDouble, f: math.Inf(-1)}, true
			}
			return value{k: kindDouble, f: math.Inf(1)}, true
		}
	}
	if n := len(s); n > 1 && strings.IndexByte("fFdD", s[n-1]) >= 0 {
		s = s[:n-1]
	}
	if !floatSyntax(s) {
		return null, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !isRangeError(err) {
		return null, false
	}
	// Out of range: ParseFloat gives ±Inf or 0, as Java does.
	return value{k: kindDouble, f: f}, true
}

func isRangeError(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// floatSyntax accepts what Java's FloatingDecimal reads (suffix removed):
//
//	[+-]? ( D+ (. D*)? | . D+ ) ([eE] [+-]? D+)?
//	[+-]? 0[xX] ( H+ .? | H* . H+ ) [pP] [+-]? D+
func floatSyntax(s string) bool {
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		rest, ok := mantissa(s[2:], countHex)
		return ok && len(rest) > 0 && (rest[0] == 'p' || rest[0] == 'P') && signedDigits(rest[1:])
	}
	rest, ok := mantissa(s, countDigits)
	return ok && (rest == "" || (rest[0] == 'e' || rest[0] == 'E') && signedDigits(rest[1:]))
}

// mantissa skips the digits count accepts, a point and more such digits at
// the start of s and returns the rest; ok is false when there were no
// digits on either side of the point.
func mantissa(s string, count func(string) int) (rest string, ok bool) {
	whole := count(s)
	s = s[whole:]
	frac := 0
	if len(s) > 0 && s[0] == '.' {
		frac = count(s[1:])
		s = s[1+frac:]
	}
	return s, whole+frac > 0
}

// signedDigits reports whether s is [+-]? D+.
func signedDigits(s string) bool {
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	return len(s) > 0 && countDigits(s) == len(s)
}

func countHex(s string) int {
	n := 0
	for n < len(s) && (isDigit(s[n]) || 'a' <= s[n]|0x20 && s[n]|0x20 <= 'f') {
		n++
	}
	return n
}
