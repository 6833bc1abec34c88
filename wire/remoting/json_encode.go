package remoting

import (
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// appendJSONHeader appends c's header in the JSON codec (wire doc §2.1):
//
//	{"code":0,"language":"GO","version":401,"opaque":7,"flag":1,
//	 "remark":"...","extFields":{"k":"v",...},"serializeTypeCurrentRPC":"JSON"}
//
// on one line, no spaces. remark is omitted when empty; extFields is always
// present ({} when empty) and every value is a JSON string, which is what the
// Go client's strict decoder needs (client-quirks A1.2). extFields keys come
// in Go map order, i.e. unsorted: sorting would cost a key slice per frame
// and no client depends on the order (the Go client's ACL signature sorts
// on its side).
//
// Written by hand with strconv.Append* rather than encoding/json.Marshal:
// this runs once per response and must not allocate beyond growing dst.
// The fields of a decoded send header (sendext.go) follow those of
// c.ExtFields, and the entries of ext follow them.
func appendJSONHeader(dst []byte, c *Command, ext []ExtField) []byte {
	dst = appendJSONHeaderStart(dst, c)
	first := true
	for k, v := range c.ExtFields {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = AppendJSONString(dst, k)
		dst = append(dst, ':')
		dst = AppendJSONString(dst, v)
	}
	if sh := c.send; sh != nil {
		for i, v := range sh.vals {
			if sh.set&(1<<i) == 0 {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = AppendJSONString(dst, sh.keys.names[i])
			dst = append(dst, ':')
			dst = AppendJSONString(dst, v)
		}
	}
	for _, f := range ext {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = AppendJSONString(dst, f.Key)
		dst = append(dst, ':')
		switch {
		case f.IsInt:
			dst = append(dst, '"')
			dst = strconv.AppendInt(dst, f.Int, 10)
			dst = append(dst, '"')
		case f.Bytes != nil:
			dst = appendJSONBytes(dst, f.Bytes)
		default:
			dst = AppendJSONString(dst, f.Str)
		}
	}
	return append(dst, `},"serializeTypeCurrentRPC":"JSON"}`...)
}

// appendJSONHeaderStart appends c's JSON header up to the opening brace of
// extFields: code, language, version, opaque, flag and remark. Shared with
// SendResponseEncoder, whose frames must equal appendJSONHeader's.
func appendJSONHeaderStart(dst []byte, c *Command) []byte {
	dst = append(dst, `{"code":`...)
	dst = strconv.AppendInt(dst, int64(c.Code), 10)
	dst = append(dst, `,"language":`...)
	if c.Language == "" {
		dst = append(dst, `"`+LanguageGo+`"`...)
	} else {
		dst = AppendJSONString(dst, c.Language)
	}
	dst = append(dst, `,"version":`...)
	dst = strconv.AppendInt(dst, int64(c.Version), 10)
	dst = append(dst, `,"opaque":`...)
	dst = strconv.AppendInt(dst, int64(c.Opaque), 10)
	dst = append(dst, `,"flag":`...)
	dst = strconv.AppendInt(dst, int64(c.Flag), 10)
	if c.Remark != "" {
		dst = append(dst, `,"remark":`...)
		dst = AppendJSONString(dst, c.Remark)
	}
	return append(dst, `,"extFields":{`...)
}

const hexDigits = "0123456789abcdef"

// jsonSafe[b] is true for ASCII bytes that go into a JSON string verbatim.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// AppendJSONString appends s as a quoted JSON string. It escapes '"', '\\'
// and control characters, writes U+2028/U+2029 as \u escapes (JavaScript
// clients such as ali-ons may eval-parse), and replaces each byte of invalid
// UTF-8 with \ufffd so the output is always valid JSON; the JSON decoder
// applies the same per-byte replacement, so decoded strings round-trip.
// Runs of safe bytes are copied in one append. The escapes are the ones
// encoding/json writes with HTML escaping off, so wire/body's hand-written
// encoders use it too.
//
// It only reads s and returns dst extended; safe for concurrent use.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0 // first byte of s not yet copied
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if jsonSafe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendJSONBytes is AppendJSONString for text held in a byte slice. The
// string view of b lives only during the call, which never retains it.
func appendJSONBytes(dst, b []byte) []byte {
	if len(b) == 0 {
		return append(dst, `""`...)
	}
	return AppendJSONString(dst, unsafe.String(&b[0], len(b)))
}
