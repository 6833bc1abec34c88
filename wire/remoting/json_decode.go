package remoting

import (
	"bytes"
	"fmt"
	"strconv"
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
// 3 when the map is a recycled one (ReleaseExt); a send request in 3
// (Command, header copy with arena, body), its fields in a recycled array
// (sendext.go).
func decodeJSONHeader(header []byte, c *Command) error {
	return decodeJSONHeaderBody(header, nil, c)
}

// decodeJSONHeaderBody is decodeJSONHeader that also copies body, when not
// nil, into the header's allocation and sets c.Body to it (DecodeFrame).
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
	if arenaBytes > 0 || body != nil {
		d.src, d.arena, c.Body = headerCopy(header, arenaBytes, body)
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
	d.skipSpace()
	if !d.consume('}') {
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
			if err := d.decodeField(c, key); err != nil {
				return err
			}
			d.skipSpace()
			if d.consume(',') {
				continue
			}
			if d.consume('}') {
				break
			}
			return d.syntaxError("expected ',' or '}' in header object")
		}
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
	v, err := d.readValue()
	if err != nil {
		return 0, err
	}
	switch v.kind {
	case jsonNull:
		return 0, nil
	case jsonNumber, jsonString:
		n, err := strconv.ParseInt(v.text, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("field %q: %q is not an int32", key, v.text)
		}
		return int32(n), nil
	default:
		return 0, fmt.Errorf("field %q: %s is not an int32", key, v.kind)
	}
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
		ok, err := d.readObjectEntries(keys.index, func(i int, _ string, v jsonValue) {
			if v.kind == jsonNull {
				sh.remove(i) // null is absent, also over an earlier duplicate
			} else {
				sh.put(i, v.text)
			}
		})
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
	_, err := d.readObjectEntries(nil, func(_ int, key string, v jsonValue) {
		if v.kind == jsonNull {
			delete(ext, key) // null is absent, also over an earlier duplicate
		} else {
			ext[key] = v.text
		}
	})
	if err != nil {
		return err
	}
	c.ExtFields = ext
	return nil
}

// readObjectEntries reads the entries of the extFields object (its '{'
// already consumed) through the closing '}', handing each key and value to
// put. With known set, put also gets the key's index from known, and the
// first key known refuses stops the read, before its value, reporting false.
func (d *jsonDecoder) readObjectEntries(known func(key string) (int, bool), put func(i int, key string, v jsonValue)) (bool, error) {
	d.skipSpace()
	if d.consume('}') {
		return true, nil
	}
	for {
		d.skipSpace()
		key, err := d.readString()
		if err != nil {
			return false, err
		}
		d.skipSpace()
		if !d.consume(':') {
			return false, d.syntaxError("expected ':' after extFields key")
		}
		d.skipSpace()
		i := 0
		if known != nil {
			var ok bool
			if i, ok = known(key); !ok {
				return false, nil
			}
		}
		v, err := d.readValue()
		if err != nil {
			return false, err
		}
		put(i, key, v)
		d.skipSpace()
		if d.consume(',') {
			continue
		}
		if d.consume('}') {
			return true, nil
		}
		return false, d.syntaxError("expected ',' or '}' in extFields")
	}
}
