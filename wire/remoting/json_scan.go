package remoting

import "fmt"

// jsonNestingMax bounds the depth of values skipped or kept as raw text, as
// encoding/json does, so hostile input cannot exhaust the stack.
const jsonNestingMax = 10000

// jsonKind is the type of one scanned JSON value.
type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonString
	jsonNumber
	jsonBool
	jsonComposite // object or array
)

func (k jsonKind) String() string {
	switch k {
	case jsonNull:
		return "null"
	case jsonString:
		return "string"
	case jsonNumber:
		return "number"
	case jsonBool:
		return "boolean"
	default:
		return "object/array"
	}
}

// jsonValue is one scanned value converted to the string the header keeps:
// the unescaped string, the literal number text, "true"/"false", the raw
// text of an object or array, or "" for null.
type jsonValue struct {
	kind jsonKind
	text string
}

// jsonDecoder scans one JSON header held in src. src is a private copy of
// the header bytes, so every value that needs no unescaping is returned as a
// substring of it without another allocation; values that do are built in
// one shared arena.
type jsonDecoder struct {
	src   string
	pos   int
	arena []byte // backing store of strings that needed rewriting, see arenaString
}

func (d *jsonDecoder) syntaxError(msg string) error {
	return fmt.Errorf("%s at offset %d", msg, d.pos)
}

func (d *jsonDecoder) skipSpace() {
	// Clients write compact JSON: one compare answers nearly every call.
	for d.pos < len(d.src) && d.src[d.pos] <= ' ' {
		switch d.src[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek returns the next byte, or 0 at the end.
func (d *jsonDecoder) peek() byte {
	if d.pos < len(d.src) {
		return d.src[d.pos]
	}
	return 0
}

func (d *jsonDecoder) consume(b byte) bool {
	if d.pos < len(d.src) && d.src[d.pos] == b {
		d.pos++
		return true
	}
	return false
}

// readValue reads any JSON value starting at d.pos (no leading space).
func (d *jsonDecoder) readValue() (jsonValue, error) {
	switch b := d.peek(); {
	case b == '"':
		s, err := d.readString()
		return jsonValue{kind: jsonString, text: s}, err
	case b == '-' || (b >= '0' && b <= '9'):
		s, err := d.readNumber()
		return jsonValue{kind: jsonNumber, text: s}, err
	case b == 't':
		return jsonValue{kind: jsonBool, text: "true"}, d.readLiteral("true")
	case b == 'f':
		return jsonValue{kind: jsonBool, text: "false"}, d.readLiteral("false")
	case b == 'n':
		return jsonValue{kind: jsonNull}, d.readLiteral("null")
	case b == '{' || b == '[':
		start := d.pos
		if err := d.skipValue(0); err != nil {
			return jsonValue{}, err
		}
		return jsonValue{kind: jsonComposite, text: validUTF8PerByte(d.src[start:d.pos])}, nil
	default:
		return jsonValue{}, d.syntaxError("expected a JSON value")
	}
}

func (d *jsonDecoder) readLiteral(lit string) error {
	if len(d.src)-d.pos < len(lit) || d.src[d.pos:d.pos+len(lit)] != lit {
		return d.syntaxError("invalid literal")
	}
	d.pos += len(lit)
	return nil
}

// readNumber checks JSON number grammar and returns the literal text:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *jsonDecoder) readNumber() (string, error) {
	start := d.pos
	d.consume('-')
	switch b := d.peek(); {
	case b == '0':
		d.pos++
	case b >= '1' && b <= '9':
		d.skipDigits()
	default:
		return "", d.syntaxError("invalid number")
	}
	if d.consume('.') {
		if !d.skipDigits() {
			return "", d.syntaxError("invalid number fraction")
		}
	}
	if b := d.peek(); b == 'e' || b == 'E' {
		d.pos++
		if b := d.peek(); b == '+' || b == '-' {
			d.pos++
		}
		if !d.skipDigits() {
			return "", d.syntaxError("invalid number exponent")
		}
	}
	return d.src[start:d.pos], nil
}

// skipDigits skips [0-9]* and reports whether it skipped any.
func (d *jsonDecoder) skipDigits() bool {
	start := d.pos
	i := start
	for i < len(d.src) && d.src[i]-'0' <= 9 {
		i++
	}
	d.pos = i
	return i > start
}

// skipValue checks and skips one value, recursing into objects and arrays.
func (d *jsonDecoder) skipValue(depth int) error {
	open := d.peek()
	if open != '{' && open != '[' {
		_, err := d.readValue()
		return err
	}
	if depth++; depth > jsonNestingMax {
		return d.syntaxError("JSON nested too deeply")
	}
	closer := byte('}')
	if open == '[' {
		closer = ']'
	}
	d.pos++
	d.skipSpace()
	if d.consume(closer) {
		return nil
	}
	for {
		d.skipSpace()
		if open == '{' {
			if _, err := d.readString(); err != nil {
				return err
			}
			d.skipSpace()
			if !d.consume(':') {
				return d.syntaxError("expected ':' after object key")
			}
			d.skipSpace()
		}
		if err := d.skipValue(depth); err != nil {
			return err
		}
		d.skipSpace()
		if d.consume(',') {
			continue
		}
		if d.consume(closer) {
			return nil
		}
		return d.syntaxError("expected ',' or closing bracket")
	}
}
