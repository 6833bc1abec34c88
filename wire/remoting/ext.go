package remoting

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrMissingField is wrapped by the Required* accessors when a header field
// that RocketMQ marks required is absent or empty. Brokers answer it with
// SYSTEM_ERROR and the error text as remark, as Java does.
var ErrMissingField = errors.New("remoting: missing required header field")

// ErrBadField is wrapped when a header field does not parse.
var ErrBadField = errors.New("remoting: malformed header field")

// Ext returns the extFields value for key and whether it was present and non-empty.
// The Go client sends absent fields as "", so empty counts as absent. It
// reads decoded send headers too, which keep their fields in an array
// instead of the ExtFields map (sendext.go).
func (c *Command) Ext(key string) (string, bool) {
	if c.send != nil {
		if i, ok := c.send.field(key); ok {
			v, _ := c.send.get(i)
			return v, v != ""
		}
	}
	v, ok := c.ExtFields[key]
	return v, ok && v != ""
}

// EachExt calls f for every extFields entry, in ExtFields or in the field
// array of a decoded send header (sendext.go), whose ExtFields is nil: code
// that walks all of a request's fields uses it instead of ranging over
// ExtFields.
func (c *Command) EachExt(f func(key, value string)) {
	for k, v := range c.ExtFields {
		f(k, v)
	}
	if c.send != nil {
		c.send.each(f)
	}
}

// RequiredString returns a required string field.
func (c *Command) RequiredString(key string) (string, error) {
	v, ok := c.Ext(key)
	if !ok {
		return "", fmt.Errorf("%w: the custom field <%s> is null", ErrMissingField, key)
	}
	return v, nil
}

// RequiredInt64 returns a required integer field.
func (c *Command) RequiredInt64(key string) (int64, error) { return c.requiredInt(key, 64) }

// RequiredInt32 returns a required 32-bit integer field.
func (c *Command) RequiredInt32(key string) (int32, error) {
	n, err := c.requiredInt(key, 32)
	return int32(n), err
}

// requiredInt parses a required decimal field that must fit bitSize bits.
func (c *Command) requiredInt(key string, bitSize int) (int64, error) {
	v, err := c.RequiredString(key)
	if err != nil {
		return 0, err
	}
	n, err := parseDecimal(v, bitSize)
	if err != nil {
		return 0, fmt.Errorf("%w: %s=%q", ErrBadField, key, v)
	}
	return n, nil
}

// parseDecimal is strconv.ParseInt(s, 10, bitSize) for bitSize 32 or 64,
// with a fast path for the numbers clients send: plain digits, optionally
// after '-', few enough that they cannot overflow (9 for 32 bits, 18 for
// 64). Anything else, including every error, takes ParseInt, so the two
// agree on all input (a '+' sign, overflow). It runs several times per
// send header, where ParseInt's generality costs several times more.
func parseDecimal(s string, bitSize int) (int64, error) {
	digits := s
	if len(s) > 0 && s[0] == '-' {
		digits = s[1:]
	}
	digitsMax := 18
	if bitSize == 32 {
		digitsMax = 9
	}
	if len(digits) == 0 || len(digits) > digitsMax {
		return strconv.ParseInt(s, 10, bitSize)
	}
	var n int64
	for i := 0; i < len(digits); i++ {
		c := digits[i] - '0'
		if c > 9 {
			return strconv.ParseInt(s, 10, bitSize)
		}
		n = n*10 + int64(c)
	}
	if len(digits) < len(s) {
		n = -n
	}
	return n, nil
}

// OptionalInt64 returns an integer field or def when it is absent.
func (c *Command) OptionalInt64(key string, def int64) (int64, error) {
	if _, ok := c.Ext(key); !ok {
		return def, nil
	}
	return c.RequiredInt64(key)
}

// OptionalInt32 returns a 32-bit integer field or def when it is absent.
func (c *Command) OptionalInt32(key string, def int32) (int32, error) {
	if _, ok := c.Ext(key); !ok {
		return def, nil
	}
	return c.RequiredInt32(key)
}

// OptionalBool returns a boolean field or def when it is absent. Like Java's
// Boolean.parseBoolean, only "true" (any case) is true.
func (c *Command) OptionalBool(key string, def bool) bool {
	v, ok := c.Ext(key)
	if !ok {
		return def
	}
	return strings.EqualFold(v, "true")
}
