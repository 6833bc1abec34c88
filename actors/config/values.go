package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrInvalid is wrapped by every error about a bad value; the message names
// the property key and the value as written.
var ErrInvalid = errors.New("config: invalid value")

// KV is one property of the effective configuration, in the units of the
// file (milliseconds, hours, bytes).
type KV struct {
	Key   string
	Value string
}

// value is one typed config field seen through its property text. Parsing
// follows Java's MixAll.properties2Object: strings are trimmed, numbers,
// booleans and enum names are not (a trailing space made Java silently skip
// the key; we reject it instead so the operator sees the mistake).
type value interface {
	// set parses s into the field; the error is the reason only, the caller
	// adds key and value.
	set(s string) error
	// get formats the field as the file would write it.
	get() string
	// check validates the current value (also for configs built in code).
	check() error
	// isZero reports whether the field holds its Go zero value.
	isZero() bool
}

// field binds a property key (and older spellings) to a struct field.
type field struct {
	key     string
	aliases []string
	val     value
	// zeroIsDefault: Validate replaces a zero value with the default because
	// zero is meaningless for this key (a config built in code left it unset).
	zeroIsDefault bool
}

func invalid(key, raw string, reason error) error {
	return fmt.Errorf("%w: %s=%q: %v", ErrInvalid, key, raw, reason)
}

type strVal struct{ p *string }

func (v strVal) set(s string) error { *v.p = strings.TrimSpace(s); return nil }
func (v strVal) get() string        { return *v.p }
func (v strVal) check() error       { return nil }
func (v strVal) isZero() bool       { return *v.p == "" }

type boolVal struct{ p *bool }

func (v boolVal) set(s string) error {
	switch {
	case strings.EqualFold(s, "true"):
		*v.p = true
	case strings.EqualFold(s, "false"):
		*v.p = false
	default:
		return errors.New("want true or false")
	}
	return nil
}
func (v boolVal) get() string  { return strconv.FormatBool(*v.p) }
func (v boolVal) check() error { return nil }
func (v boolVal) isZero() bool { return !*v.p }

// intVal is an integer with an inclusive range.
type intVal[T int | int32 | int64] struct {
	p        *T
	min, max int64
}

func (v intVal[T]) set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return errors.New("not an integer (numbers are not trimmed)")
	}
	if n < v.min || n > v.max {
		return fmt.Errorf("want %d..%d", v.min, v.max)
	}
	*v.p = T(n)
	return nil
}
func (v intVal[T]) get() string { return strconv.FormatInt(int64(*v.p), 10) }
func (v intVal[T]) check() error {
	if n := int64(*v.p); n < v.min || n > v.max {
		return fmt.Errorf("want %d..%d", v.min, v.max)
	}
	return nil
}
func (v intVal[T]) isZero() bool { return *v.p == 0 }

// durVal is a duration written as an integer count of unit (ms or hours).
type durVal struct {
	p    *time.Duration
	unit time.Duration
}

func (v durVal) set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return errors.New("not an integer (numbers are not trimmed)")
	}
	if n < 0 {
		return errors.New("negative duration")
	}
	if n > int64(time.Duration(1<<63-1)/v.unit) {
		return errors.New("duration too large")
	}
	*v.p = time.Duration(n) * v.unit
	return nil
}
func (v durVal) get() string { return strconv.FormatInt(int64(*v.p/v.unit), 10) }
func (v durVal) check() error {
	if *v.p < 0 {
		return errors.New("negative duration")
	}
	return nil
}
func (v durVal) isZero() bool { return *v.p == 0 }

// enumVal is a Java enum written by its name.
type enumVal[T ~string] struct {
	p       *T
	allowed []T
}

func (v enumVal[T]) set(s string) error {
	for _, a := range v.allowed {
		if string(a) == s {
			*v.p = a
			return nil
		}
	}
	return v.want()
}
func (v enumVal[T]) get() string { return string(*v.p) }
func (v enumVal[T]) check() error {
	for _, a := range v.allowed {
		if a == *v.p {
			return nil
		}
	}
	return v.want()
}
func (v enumVal[T]) isZero() bool { return *v.p == "" }
func (v enumVal[T]) want() error {
	names := make([]string, len(v.allowed))
	for i, a := range v.allowed {
		names[i] = string(a)
	}
	return fmt.Errorf("want one of %s", strings.Join(names, ", "))
}

// hoursVal is deleteWhen: hours of the day separated by ';' ("04;16").
type hoursVal struct{ p *[]int }

func (v hoursVal) set(s string) error {
	var hours []int
	// Java splits the trimmed string on ';' and drops empty pieces.
	for _, part := range strings.Split(strings.TrimSpace(s), ";") {
		if part == "" {
			continue
		}
		h, err := strconv.Atoi(part)
		if err != nil || h < 0 || h > 23 {
			return fmt.Errorf("hour %q: want 0..23", part)
		}
		hours = append(hours, h)
	}
	*v.p = hours
	return nil
}
func (v hoursVal) get() string {
	parts := make([]string, len(*v.p))
	for i, h := range *v.p {
		parts[i] = fmt.Sprintf("%02d", h)
	}
	return strings.Join(parts, ";")
}
func (v hoursVal) check() error {
	for _, h := range *v.p {
		if h < 0 || h > 23 {
			return fmt.Errorf("hour %d: want 0..23", h)
		}
	}
	return nil
}
func (v hoursVal) isZero() bool { return len(*v.p) == 0 }
