package remoting

import (
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// readString reads a quoted string. The fast path returns a substring of
// src for plain ASCII without escapes.
func (d *jsonDecoder) readString() (string, error) {
	if !d.consume('"') {
		return "", d.syntaxError("expected string")
	}
	start := d.pos
	for i := start; i < len(d.src); i++ {
		switch b := d.src[i]; {
		case b == '"':
			d.pos = i + 1
			return d.src[start:i], nil
		case b == '\\' || b < 0x20 || b >= utf8.RuneSelf:
			return d.readStringSlow(start)
		}
	}
	d.pos = len(d.src)
	return "", d.syntaxError("unterminated string")
}

var errBadEscape = errors.New("invalid escape in string")

// readStringSlow handles escapes, control characters and non-ASCII bytes
// from start (just after the opening quote). The result stays a substring of
// src until the first byte that must change; from then on the string is
// built in d.arena.
func (d *jsonDecoder) readStringSlow(start int) (string, error) {
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
	for i := start; i < len(src); {
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
			if mark >= 0 {
				d.arena = append(d.arena, b)
			}
			i++
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
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
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
