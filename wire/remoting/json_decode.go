package remoting

import (
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
// plus one shared arena for all strings that contain escapes or bad UTF-8:
// a Go-client send decodes in 8 allocations (Command, header copy, arena,
// map, body), 10 before the arena, and 4 when the map is a recycled one
// (ReleaseExt).
func decodeJSONHeader(header []byte, c *Command) error {
	d := jsonDecoder{src: string(header)}
	if err := d.decodeObject(c); err != nil {
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
		c.ExtFields, err = d.readExtFields()
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

// readExtFields reads the extFields object; null gives a nil map.
func (d *jsonDecoder) readExtFields() (map[string]string, error) {
	if d.peek() != '{' {
		v, err := d.readValue()
		if err != nil {
			return nil, err
		}
		if v.kind != jsonNull {
			return nil, fmt.Errorf("extFields: %s is not an object", v.kind)
		}
		return nil, nil
	}
	d.pos++
	ext := newExtFields(extFieldsHint(d.src[d.pos:]))
	d.skipSpace()
	if d.consume('}') {
		return ext, nil
	}
	for {
		d.skipSpace()
		key, err := d.readString()
		if err != nil {
			return nil, err
		}
		d.skipSpace()
		if !d.consume(':') {
			return nil, d.syntaxError("expected ':' after extFields key")
		}
		d.skipSpace()
		v, err := d.readValue()
		if err != nil {
			return nil, err
		}
		if v.kind == jsonNull {
			delete(ext, key) // null is absent, also over an earlier duplicate
		} else {
			ext[key] = v.text
		}
		d.skipSpace()
		if d.consume(',') {
			continue
		}
		if d.consume('}') {
			return ext, nil
		}
		return nil, d.syntaxError("expected ',' or '}' in extFields")
	}
}
