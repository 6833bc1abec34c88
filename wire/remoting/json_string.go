package remoting

import (
	"errors"
	"fmt"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// readString reads a quoted string. The fast path returns a substring of
// src for plain ASCII without escapes; its first loop is stringStop's,
// written out here because a header's strings are short and many (a send
// header has 35), so the call would cost as much as the scan.
func (d *jsonDecoder) readString() (string, error) {
	if !d.consume('"') {
		return "", d.syntaxError("expected string")
	}
	src, start := d.src, d.pos
	i := start
	for ; i+8 <= len(src); i += 8 {
		if m := laneStops(load8(src[i : i+8])); m != 0 {
			i += bits.TrailingZeros64(m) / 8
			if src[i] == '"' {
				d.pos = i + 1
				return src[start:i], nil
			}
			return d.readStringSlow(start, i)
		}
	}
	i = stringStop(src, i)
	if i < len(src) && src[i] == '"' {
		d.pos = i + 1
		return src[start:i], nil
	}
	return d.readStringSlow(start, i)
}

// Bytes of eight lanes, for laneStops.
const (
	laneOnes = 0x0101010101010101
	laneHigh = 0x8080808080808080
)

// load8 reads the 8 bytes of w (len(w) == 8) little-endian: w[0] is the
// lowest lane. The compiler merges the loads into one.
func load8(w string) uint64 {
	_ = w[7]
	return uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
}

// laneStops sets the high bit of each lane of x whose byte a plain string
// scan must stop at: '"' or '\\' (a zero after the XOR), below 0x20, or
// 0x80 and above. A borrow can also flag a lane above a flagged one, never
// below the first, so the lowest flag is exact.
func laneStops(x uint64) uint64 {
	q := x ^ (laneOnes * '"')
	bs := x ^ (laneOnes * '\\')
	return ((q-laneOnes)&^q | (bs-laneOnes)&^bs | (x - laneOnes*0x20) | x) & laneHigh
}

// stringStop returns the index of the first byte at or after i in s that a
// plain string scan must stop at: '"', '\\', a control byte or a non-ASCII
// byte; len(s) when there is none. It tests eight bytes per step.
// Rejected alternative: a 256-entry table, one load and branch per byte.
func stringStop(s string, i int) int {
	for ; i+8 <= len(s); i += 8 {
		if m := laneStops(load8(s[i : i+8])); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(s); i++ {
		if b := s[i]; b == '"' || b == '\\' || b < 0x20 || b >= utf8.RuneSelf {
			return i
		}
	}
	return len(s)
}

var errBadEscape = errors.New("invalid escape in string")

// readStringSlow finishes a string that starts at start (just after the
// opening quote) and whose first byte that is not plain ASCII is at i:
// escapes, control characters, non-ASCII bytes or the end of src. The
// result stays a substring of src until the first byte that must change;
// from then on the string is built in d.arena, plain runs copied whole.
func (d *jsonDecoder) readStringSlow(start, i int) (string, error) {
	src := d.src
	mark := -1 // start of this string in d.arena once it is being rewritten
	rewrite := func(i int) {
		if mark < 0 {
			if d.arena == nil {
				// Unescaping mostly shrinks text, so one header-sized arena
				// usually holds every rewritten string of the header.
				d.arena = make([]byte, 0, len(src))
			}
			mark = len(d.arena)
			d.arena = append(d.arena, src[start:i]...)
		}
	}
	for i < len(src) {
		b := src[i]
		switch {
		case b == '"':
			d.pos = i + 1
			if mark < 0 {
				return src[start:i], nil
			}
			return d.arenaString(mark), nil
		case b < 0x20:
			d.pos = i
			return "", d.syntaxError("control character in string")
		case b == '\\':
			rewrite(i)
			n, err := appendEscape(&d.arena, src[i:])
			if err != nil {
				d.pos = i
				return "", fmt.Errorf("%w at offset %d", err, i)
			}
			i += n
		case b < utf8.RuneSelf:
			run := stringStop(src, i)
			if mark >= 0 {
				d.arena = append(d.arena, src[i:run]...)
			}
			i = run
		default:
			r, size := utf8.DecodeRuneInString(src[i:])
			if r == utf8.RuneError && size == 1 {
				rewrite(i)
				d.arena = utf8.AppendRune(d.arena, utf8.RuneError)
			} else if mark >= 0 {
				d.arena = append(d.arena, src[i:i+size]...)
			}
			i += size
		}
	}
	d.pos = len(src)
	return "", d.syntaxError("unterminated string")
}

// arenaString returns d.arena[mark:] as a string without copying.
//
// Safe because arena bytes are never written again once a string covers
// them: later strings only append past len(d.arena), and when append
// reallocates, the old array (still referenced by earlier strings) is left
// untouched. The arena belongs to this decoder and dies with the header.
// Rejected alternative: string(buf) per escaped string, one more allocation
// for every Go-client send (its properties field is full of \u0001 escapes).
func (d *jsonDecoder) arenaString(mark int) string {
	b := d.arena[mark:]
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// appendEscape decodes the escape at the start of s (s[0] == '\\') into buf
// and returns the bytes consumed. A \u surrogate pair becomes one rune; a
// lone surrogate becomes U+FFFD, as encoding/json does.
func appendEscape(buf *[]byte, s string) (int, error) {
	if len(s) < 2 {
		return 0, errBadEscape
	}
	switch s[1] {
	case '"', '\\', '/':
		*buf = append(*buf, s[1])
	case 'b':
		*buf = append(*buf, '\b')
	case 'f':
		*buf = append(*buf, '\f')
	case 'n':
		*buf = append(*buf, '\n')
	case 'r':
		*buf = append(*buf, '\r')
	case 't':
		*buf = append(*buf, '\t')
	case 'u':
		// \u00XX below 0x80 is how clients escape control characters (the
		// Go client's properties separators \u0001 and \u0002): one byte.
		if len(s) >= 6 && s[2] == '0' && s[3] == '0' {
			if hi, lo := hexDigit(s[4]), hexDigit(s[5]); hi < 8 && lo < 16 {
				*buf = append(*buf, hi<<4|lo)
				return 6, nil
			}
		}
		r, ok := hex4(s[2:])
		if !ok {
			return 0, errBadEscape
		}
		if utf16.IsSurrogate(r) {
			if len(s) >= 12 && s[6] == '\\' && s[7] == 'u' {
				if r2, ok := hex4(s[8:]); ok {
					if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
						*buf = utf8.AppendRune(*buf, pair)
						return 12, nil
					}
				}
			}
			r = utf8.RuneError
		}
		*buf = utf8.AppendRune(*buf, r)
		return 6, nil
	default:
		return 0, errBadEscape
	}
	return 2, nil
}

// hex4 parses four hex digits at the start of s.
func hex4(s string) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[:4]) {
		v := hexDigit(c)
		if v > 15 {
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}

// hexDigit returns the value of the hex digit c, or 16 when c is not one.
func hexDigit(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 16
}

// validUTF8PerByte replaces each byte of invalid UTF-8 in s with U+FFFD,
// matching AppendJSONString, and returns s itself when it is valid.
// (strings.ToValidUTF8 would merge a run of bad bytes into one U+FFFD.)
func validUTF8PerByte(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	buf := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = utf8.AppendRune(buf, utf8.RuneError)
		} else {
			buf = append(buf, s[i:i+size]...)
		}
		i += size
	}
	return string(buf)
}
