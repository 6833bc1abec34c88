package remoting

import (
	"bytes"
	"fmt"
	"strings"
)

// decodeJSONHeader fills c from a JSON-codec header (wire doc §2.1). It is
// lenient where real clients differ and strict about JSON syntax:
//
//   - code, version, opaque, flag: a JSON integer (or a string holding one)
//     within int32; null means 0.
//   - language: a name string, or an integer mapped through the LanguageCode
//     table (unknown integers keep their text); null means "".
//   - remark: any value, converted like an extFields value; null means "".
//   - extFields: an object or null. Values of any type become strings:
//     strings as-is, numbers with their exact literal text (ali-ons sends
//     "g":1795238031504, which must not become 1.795238031504e+12), booleans
//     "true"/"false", objects and arrays their raw JSON text; null values are
//     absent.
//   - unknown keys (serializeTypeCurrentRPC, ...) are skipped; for a repeated
//     key the last occurrence wins.
//   - invalid UTF-8 inside strings becomes U+FFFD, one per bad byte, as
//     encoding/json does.
//
// Rejected alternative: encoding/json with UseNumber and json.RawMessage.
// It does the same job but allocates per field and reflects per call; this
// scanner copies the header into one string and hands out substrings of it,
// plus one shared arena for all strings that contain escapes or bad UTF-8,
// allocated together with the copy when the header has escapes. A request
// with a 13-entry map (several table allocations) decodes in 7 allocations,
// 3 when the map is a recycled one (ReleaseExt); a send request in none
// once the pools are warm: Command, header copy, arena and body in a pooled
// frame (framepool.go), its fields in a recycled array (sendext.go).
func decodeJSONHeader(header []byte, c *Command) error {
	return decodeJSONHeaderBody(header, nil, c)
}

// decodeJSONHeaderBody is decodeJSONHeader that also copies body, when not
// nil, into the header's allocation and sets c.Body to it (DecodeFrame).
// The header copy goes into c's pooled frame when it has one.
func decodeJSONHeaderBody(header, body []byte, c *Command) error {
	var d jsonDecoder
	arenaBytes := 0
	if esc := bytes.IndexByte(header, '\\'); esc >= 0 {
		// Some string needs unescaping (every Go-client send: its properties
		// are full of \u0001): the header copy's allocation also holds the
		// arena. Strings that need rewriting start at or after the opening
		// quote of the one holding the first backslash (no escaped quote
		// comes before it), and unescaping only shrinks them, so the rest of
		// the header from that quote is enough, unless bad UTF-8 grows them
		// (append reallocates then).
		arenaBytes = len(header) - max(bytes.LastIndexByte(header[:esc], '"'), 0)
	}
	if arenaBytes > 0 || body != nil || c.frame != nil {
		d.src, d.arena, c.Body = headerCopy(c, header, arenaBytes, body)
	} else {
		d.src = string(header)
	}
	if err := d.decodeObject(c); err != nil {
		c.Body = nil
		return fmt.Errorf("%w: json header: %w", ErrFrame, err)
	}
	return nil
}

func (d *jsonDecoder) decodeObject(c *Command) error {
	d.skipSpace()
	if !d.consume('{') {
		return d.syntaxError("header is not a JSON object")
	}
	err := d.readMembers(func(key string) error { return d.decodeField(c, key) })
	if err != nil {
		return err
	}
	d.skipSpace()
	if d.pos != len(d.src) {
		return d.syntaxError("data after the header object")
	}
	return nil
}

func (d *jsonDecoder) decodeField(c *Command, key string) error {
	var err error
	switch key {
	case "code":
		c.Code, err = d.readInt32(key)
	case "version":
		c.Version, err = d.readInt32(key)
	case "opaque":
		c.Opaque, err = d.readInt32(key)
	case "flag":
		c.Flag, err = d.readInt32(key)
	case "language":
		var v jsonValue
		if v, err = d.readValue(); err == nil {
			c.Language = v.text
			if v.kind == jsonNumber {
				c.Language = languageFromJSONNumber(v.text)
			}
		}
	case "remark":
		var v jsonValue
		if v, err = d.readValue(); err == nil {
			c.Remark = v.text
		}
	case "extFields":
		err = d.readExtFields(c)
	default:
		err = d.skipValue(0)
	}
	return err
}

// readInt32 reads an integer header field.
func (d *jsonDecoder) readInt32(key string) (int32, error) {
	if n, ok := d.readSmallInt(); ok {
		return n, nil
	}
	v, err := d.readValue()
	if err != nil {
		return 0, err
	}
	switch v.kind {
	case jsonNull:
		return 0, nil
	case jsonNumber, jsonString:
		n, err := parseDecimal(v.text, 32)
		if err != nil {
			return 0, fmt.Errorf("field %q: %q is not an int32", key, v.text)
		}
		return int32(n), nil
	default:
		return 0, fmt.Errorf("field %q: %s is not an int32", key, v.kind)
	}
}

// readSmallInt reads a JSON integer of at most 9 digits at d.pos, what
// every client sends for code, version, opaque and flag, in one pass
// instead of readValue's check and parseDecimal's second walk. ok is false,
// with nothing consumed, for anything else (a string, a fraction or
// exponent, more digits, invalid grammar): readValue decides then.
func (d *jsonDecoder) readSmallInt() (int32, bool) {
	src, i := d.src, d.pos
	neg := i < len(src) && src[i] == '-'
	if neg {
		i++
	}
	var n int64
	j := i
	for j < len(src) && j-i <= 9 && src[j]-'0' <= 9 {
		n = n*10 + int64(src[j]-'0')
		j++
	}
	digits := j - i
	if digits == 0 || digits > 9 || (digits > 1 && src[i] == '0') {
		return 0, false
	}
	if j < len(src) && (src[j] == '.' || src[j] == 'e' || src[j] == 'E') {
		return 0, false
	}
	d.pos = j
	if neg {
		n = -n
	}
	return int32(n), true
}

// extFieldsCountMax caps the JSON size estimate, so a hostile header full of
// colons cannot make the map preallocate much.
const extFieldsCountMax = 64

// extFieldsHint estimates the entries of an extFields object starting at
// rest by counting ':' (one per entry, more when values contain colons).
// A map sized for 8 or fewer entries is one small allocation and one sized
// for more costs a table; measured 2 vs 4 allocations, so guessing right
// for the many small requests pays for the scan.
func extFieldsHint(rest string) int {
	return min(strings.Count(rest, ":"), extFieldsCountMax)
}

// readExtFields reads the extFields object into c, replacing what an
// earlier extFields key of the header set; null gives a nil map. For the
// send codes (sendext.go) it first tries a sendExt, which needs the code to
// come before extFields, as every client writes it; otherwise, or when a
// key is not one of the send header's, it decodes the object again into a
// map.
func (d *jsonDecoder) readExtFields(c *Command) error {
	c.ExtFields = nil
	if c.send != nil {
		c.send.release()
		c.send = nil
	}
	if d.peek() != '{' {
		v, err := d.readValue()
		if err != nil {
			return err
		}
		if v.kind != jsonNull {
			return fmt.Errorf("extFields: %s is not an object", v.kind)
		}
		return nil
	}
	d.pos++
	if keys := sendKeysFor(c.Code); keys != nil {
		start := d.pos
		sh := newSendExt(keys)
		ok, err := d.readSendEntries(sh)
		if err != nil || ok {
			if err != nil {
				sh.release()
				return err
			}
			c.send = sh
			return nil
		}
		sh.release()
		d.pos = start
	}
	ext := newExtFields(extFieldsHint(d.src[d.pos:]))
	err := d.readMembers(func(key string) error {
		v, err := d.readValue()
		if err != nil {
			return err
		}
		if v.kind == jsonNull {
			delete(ext, key) // null is absent, also over an earlier duplicate
		} else {
			ext[key] = v.text
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.ExtFields = ext
	return nil
}

// readSendEntries reads the entries of a send header's extFields object
// (its '{' already consumed) into sh through the closing '}'. The first key
// that is not one of sh's stops the read, reporting false.
// It is readMembers without the callback and with string values read
// straight into sh, every client's case: this loop runs for every send.
func (d *jsonDecoder) readSendEntries(sh *sendExt) (bool, error) {
	d.skipSpace()
	if d.consume('}') {
		return true, nil
	}
	for {
		d.skipSpace()
		var i int
		if k := d.src[d.pos:]; sh.keys.short && len(k) >= 3 && k[0] == '"' && k[1]-'a' < 26 && k[2] == '"' {
			// A one-letter V2 key needs no string scan.
			i = int(k[1] - 'a')
			d.pos += 3
		} else {
			key, err := d.readString()
			if err != nil {
				return false, err
			}
			var ok bool
			if i, ok = sh.field(key); !ok {
				return false, nil // the map decode rereads the object, errors included
			}
		}
		d.skipSpace()
		if !d.consume(':') {
			return false, d.syntaxError("expected ':' after object key")
		}
		d.skipSpace()
		if d.peek() == '"' {
			v, err := d.readString()
			if err != nil {
				return false, err
			}
			sh.put(i, v)
		} else {
			v, err := d.readValue()
			if err != nil {
				return false, err
			}
			if v.kind == jsonNull {
				sh.remove(i) // null is absent, also over an earlier duplicate
			} else {
				sh.put(i, v.text)
			}
		}
		d.skipSpace()
		if d.consume(',') {
			continue
		}
		if d.consume('}') {
			return true, nil
		}
		return false, d.syntaxError("expected ',' or '}' in object")
	}
}

// readMembers reads the members of an object (its '{' already consumed)
// through the closing '}', handing each key to member, which reads the
// value: the header object and the extFields map share it.
func (d *jsonDecoder) readMembers(member func(key string) error) error {
	d.skipSpace()
	if d.consume('}') {
		return nil
	}
	for {
		d.skipSpace()
		key, err := d.readString()
		if err != nil {
			return err
		}
		d.skipSpace()
		if !d.consume(':') {
			return d.syntaxError("expected ':' after object key")
		}
		d.skipSpace()
		if err := member(key); err != nil {
			return err
		}
		d.skipSpace()
		if d.consume(',') {
			continue
		}
		if d.consume('}') {
			return nil
		}
		return d.syntaxError("expected ',' or '}' in object")
	}
}
