package config

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnknownKey is wrapped when a key names no broker property.
var ErrUnknownKey = errors.New("config: unknown key")

// ParseProperties parses Java .properties text (the UPDATE_BROKER_CONFIG
// body) into pairs in text order.
func ParseProperties(text []byte) ([]KV, error) {
	kvs, err := parseProperties(text)
	if err != nil {
		return nil, fmt.Errorf("%w: properties: %v", ErrInvalid, err)
	}
	return kvs, nil
}

// With returns a copy of b with kvs applied, then validated as at load.
// An unknown key fails with ErrUnknownKey and a bad value with ErrInvalid;
// b itself never changes. Whether a key may change while the broker runs is
// the caller's decision.
func (b Broker) With(kvs []KV) (Broker, error) {
	known := make(map[string]bool)
	for _, f := range b.fields() {
		known[f.key] = true
		for _, a := range f.aliases {
			known[a] = true
		}
	}
	for _, kv := range kvs {
		if !known[kv.Key] {
			return Broker{}, fmt.Errorf("%w %q", ErrUnknownKey, kv.Key)
		}
	}
	next := b
	if _, err := apply(next.fields(), kvs); err != nil {
		return Broker{}, err
	}
	if err := next.Validate(); err != nil {
		return Broker{}, err
	}
	return next, nil
}

// SetProperties returns the .properties text with kvs set, keeping every
// other line as written (comments, blank lines, keys this broker does not
// know): each logical line that defines one of the keys (its continuation
// lines included) becomes "key=value", and keys the text does not define are
// appended at the end. It is how UPDATE_BROKER_CONFIG persists a change into
// the operator's config file. A definition whose key is spelled with a
// \uXXXX escape is not recognised: the appended line then wins on load, as
// a later definition does in Java.
func SetProperties(text []byte, kvs []KV) []byte {
	want := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		want[kv.Key] = kv.Value
	}
	written := make(map[string]bool, len(kvs))
	lines := physicalLines(string(text))
	var out []byte
	for i := 0; i < len(lines); {
		start := i
		key, entry := propertyKey(lines[i])
		for entry && continues(lines[i]) && i+1 < len(lines) {
			i++
		}
		i++
		if v, ok := want[key]; entry && ok {
			out = appendProperty(out, key, v)
			written[key] = true
			continue
		}
		for _, l := range lines[start:i] {
			out = append(out, l...)
		}
	}
	if outLines := physicalLines(string(out)); len(outLines) > 0 {
		last := outLines[len(outLines)-1]
		if !strings.HasSuffix(last, "\n") && !strings.HasSuffix(last, "\r") {
			out = append(out, '\n')
		}
		if continues(last) {
			out = append(out, '\n') // ends the continuation the text ends with
		}
	}
	for _, kv := range kvs {
		if !written[kv.Key] {
			out = appendProperty(out, kv.Key, want[kv.Key])
			written[kv.Key] = true
		}
	}
	return out
}

// physicalLines splits s after each line terminator ("\n", "\r\n" or a lone
// "\r", as Java reads them).
func physicalLines(s string) []string {
	var lines []string
	for s != "" {
		i := strings.IndexAny(s, "\r\n")
		if i < 0 {
			return append(lines, s)
		}
		end := i + 1
		if s[i] == '\r' && end < len(s) && s[end] == '\n' {
			end++
		}
		lines, s = append(lines, s[:end]), s[end:]
	}
	return lines
}

// propertyKey returns the unescaped key a physical line starts, false for a
// blank or comment line (Java's Properties.load rules; a \uXXXX escape is
// not decoded, so such a spelling never matches and the key is appended).
func propertyKey(line string) (string, bool) {
	s := strings.TrimLeft(strings.TrimRight(line, "\r\n"), " \t\f")
	if s == "" || s[0] == '#' || s[0] == '!' {
		return "", false
	}
	var key strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f':
			return key.String(), true
		case c == '\\' && i+1 < len(s):
			i++
			c = s[i]
			switch c {
			case 't':
				c = '\t'
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 'f':
				c = '\f'
			}
		}
		key.WriteByte(c)
	}
	return key.String(), true
}

// continues reports whether a physical line ends in an odd number of
// backslashes, which continues its logical line on the next one.
func continues(line string) bool {
	s := strings.TrimRight(line, "\r\n")
	n := len(s) - len(strings.TrimRight(s, `\`))
	return n%2 == 1
}

// appendProperty appends "key=value\n", escaped so that Java and LoadBroker
// read back exactly key and value.
func appendProperty(out []byte, key, value string) []byte {
	out = appendEscaped(out, key, true)
	out = append(out, '=')
	out = appendEscaped(out, value, false)
	return append(out, '\n')
}

func appendEscaped(out []byte, s string, isKey bool) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			out = append(out, `\\`...)
		case c == '\t':
			out = append(out, `\t`...)
		case c == '\n':
			out = append(out, `\n`...)
		case c == '\r':
			out = append(out, `\r`...)
		case c == '\f':
			out = append(out, `\f`...)
		case c == ' ' && (isKey || i == 0), isKey && strings.IndexByte("=:#!", c) >= 0:
			out = append(out, '\\', c)
		default:
			out = append(out, c)
		}
	}
	return out
}
