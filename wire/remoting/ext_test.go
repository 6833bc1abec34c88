package remoting

import (
	"errors"
	"strings"
	"testing"
)

func TestExtAccessors(t *testing.T) {
	c := &Command{ExtFields: map[string]string{
		"empty": "", "word": "x", "n": "-12", "max64": "9223372036854775807",
		"over32": "2147483648", "min32": "-2147483648", "yes": "true", "YES": "TRUE", "no": "false", "one": "1", "mixed": "tRuE",
	}}
	if v, ok := c.Ext("word"); !ok || v != "x" {
		t.Fatalf(`Ext("word") = %q, %v`, v, ok)
	}
	for _, key := range []string{"empty", "absent"} {
		if v, ok := c.Ext(key); ok || v != "" {
			t.Fatalf("Ext(%q) = %q, %v; want absent (the Go client sends absent fields as \"\")", key, v, ok)
		}
		if _, err := c.RequiredString(key); !errors.Is(err, ErrMissingField) || !strings.Contains(err.Error(), "<"+key+">") {
			t.Fatalf("RequiredString(%q) err = %v, want ErrMissingField naming the key", key, err)
		}
	}

	ints := []struct {
		key     string
		want64  int64
		err64   error
		want32  int32
		err32   error
		wantOpt int64 // OptionalInt64 with default 99
	}{
		{key: "n", want64: -12, want32: -12, wantOpt: -12},
		{key: "max64", want64: 1<<63 - 1, err32: ErrBadField, wantOpt: 1<<63 - 1},
		{key: "over32", want64: 1 << 31, err32: ErrBadField, wantOpt: 1 << 31},
		{key: "min32", want64: -1 << 31, want32: -1 << 31, wantOpt: -1 << 31},
		{key: "word", err64: ErrBadField, err32: ErrBadField},
		{key: "empty", err64: ErrMissingField, err32: ErrMissingField, wantOpt: 99},
		{key: "absent", err64: ErrMissingField, err32: ErrMissingField, wantOpt: 99},
	}
	for _, tc := range ints {
		if got, err := c.RequiredInt64(tc.key); got != tc.want64 || !errors.Is(err, tc.err64) {
			t.Errorf("RequiredInt64(%q) = %d, %v; want %d, %v", tc.key, got, err, tc.want64, tc.err64)
		}
		if got, err := c.RequiredInt32(tc.key); got != tc.want32 || !errors.Is(err, tc.err32) {
			t.Errorf("RequiredInt32(%q) = %d, %v; want %d, %v", tc.key, got, err, tc.want32, tc.err32)
		}
		optErr := tc.err64
		if errors.Is(optErr, ErrMissingField) {
			optErr = nil
		}
		if got, err := c.OptionalInt64(tc.key, 99); got != tc.wantOpt || !errors.Is(err, optErr) {
			t.Errorf("OptionalInt64(%q, 99) = %d, %v; want %d, %v", tc.key, got, err, tc.wantOpt, optErr)
		}
	}
	if got, err := c.OptionalInt32("absent", -3); got != -3 || err != nil {
		t.Errorf(`OptionalInt32("absent", -3) = %d, %v`, got, err)
	}
	if got, err := c.OptionalInt32("over32", -3); !errors.Is(err, ErrBadField) {
		t.Errorf(`OptionalInt32("over32", -3) = %d, %v; want ErrBadField`, got, err)
	}

	bools := []struct {
		key      string
		def      bool
		want     bool
		describe string
	}{
		{key: "yes", want: true, describe: "true"},
		{key: "YES", want: true, describe: "upper case"},
		{key: "no", def: true, want: false, describe: "false over a true default"},
		{key: "word", def: true, want: false, describe: "not a boolean"},
		{key: "one", def: true, want: false, describe: `"1" is not true in Java`},
		{key: "mixed", want: true, describe: "any case of true"},
		{key: "absent", def: true, want: true, describe: "absent keeps the default"},
		{key: "empty", def: true, want: true, describe: "empty keeps the default"},
	}
	for _, tc := range bools {
		if got := c.OptionalBool(tc.key, tc.def); got != tc.want {
			t.Errorf("OptionalBool(%q, %v) = %v, want %v (%s)", tc.key, tc.def, got, tc.want, tc.describe)
		}
	}
}
