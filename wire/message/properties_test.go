package message

import (
	"maps"
	"slices"
	"testing"
	"unicode/utf16"
)

func TestParseProperties(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string
	}{
		{name: "empty", in: "", want: map[string]string{}},
		{name: "java trailing separator", in: "TAGS\x01TagA\x02KEYS\x01k1 k2\x02", want: map[string]string{"TAGS": "TagA", "KEYS": "k1 k2"}},
		{name: "no trailing separator", in: "TAGS\x01TagA\x02KEYS\x01k1", want: map[string]string{"TAGS": "TagA", "KEYS": "k1"}},
		{name: "entry without name-value separator", in: "garbage\x02A\x01b\x02", want: map[string]string{"A": "b"}},
		{name: "empty key", in: "\x01v\x02A\x01b\x02", want: map[string]string{"A": "b"}},
		{name: "empty value", in: "K\x01\x02A\x01b\x02", want: map[string]string{"A": "b"}},
		{name: "short entries", in: "\x02\x02a\x02\x01\x02A\x01b", want: map[string]string{"A": "b"}},
		{name: "value keeps later separators", in: "A\x01b\x01c\x02", want: map[string]string{"A": "b\x01c"}},
		{name: "later duplicate wins", in: "A\x01first\x02A\x01second\x02", want: map[string]string{"A": "second"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseProperties(tc.in)
			if !maps.Equal(got, tc.want) {
				t.Fatalf("ParseProperties(%q) = %q, want %q", tc.in, got, tc.want)
			}
			for k, v := range tc.want {
				if pv, ok := PropertyValue(tc.in, k); !ok || pv != v {
					t.Fatalf("PropertyValue(%q) = %q,%v want %q", k, pv, ok, v)
				}
			}
		})
	}
}

func TestPropertyValue(t *testing.T) {
	s := "TAGS\x01TagA\x02KEYS\x01k\x02EMPTY\x01\x02TA\x01x\x02"
	tests := []struct {
		key, want string
		ok        bool
	}{
		{key: "TAGS", want: "TagA", ok: true},
		{key: "TA", want: "x", ok: true},
		{key: "T", ok: false},
		{key: "TAGSX", ok: false},
		{key: "EMPTY", ok: false},
		{key: "", ok: false},
		{key: "TAGS\x01TagA", ok: false},
		{key: "MISSING", ok: false},
	}
	for _, tc := range tests {
		got, ok := PropertyValue(s, tc.key)
		if got != tc.want || ok != tc.ok {
			t.Errorf("PropertyValue(%q) = %q,%v want %q,%v", tc.key, got, ok, tc.want, tc.ok)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = PropertyValue(s, "TA") }); n != 0 {
		t.Fatalf("PropertyValue allocates %v times", n)
	}
}

// TestEachProperty: the entries EachProperty visits, in order, build the
// same map as ParseProperties (a later duplicate wins), skipping what Java
// skips, and visiting allocates nothing.
func TestEachProperty(t *testing.T) {
	tests := []struct {
		in        string
		wantOrder []string
	}{
		{in: ""},
		{in: "TAGS\x01TagA\x02KEYS\x01k\x02EMPTY\x01\x02\x01v\x02noSep\x02TAGS\x01TagB", wantOrder: []string{"TAGS", "KEYS", "TAGS"}},
		{in: "A\x01x\x01y\x02\x02\x02B\x01z\x02", wantOrder: []string{"A", "B"}},
		{in: "\x02\x02"},
	}
	for _, tc := range tests {
		got := map[string]string{}
		var order []string
		EachProperty(tc.in, func(k, v string) {
			got[k] = v
			order = append(order, k)
		})
		if want := ParseProperties(tc.in); !maps.Equal(got, want) {
			t.Errorf("%q: visited %v, ParseProperties %v", tc.in, got, want)
		}
		if !slices.Equal(order, tc.wantOrder) {
			t.Errorf("%q: order %v, want %v", tc.in, order, tc.wantOrder)
		}
	}
	n := 0
	if a := testing.AllocsPerRun(100, func() { EachProperty("A\x01x\x02B\x01y\x02", func(string, string) { n++ }) }); a != 0 {
		t.Fatalf("EachProperty allocates %v times", a)
	}
}

func TestFormatProperties(t *testing.T) {
	if got := FormatProperties(nil); got != "" {
		t.Fatalf("nil = %q", got)
	}
	props := map[string]string{"TAGS": "TagA", "KEYS": "k1 k2", "WAIT": "true"}
	want := "KEYS\x01k1 k2\x02TAGS\x01TagA\x02WAIT\x01true\x02"
	got := FormatProperties(props)
	if got != want {
		t.Fatalf("FormatProperties = %q, want %q", got, want)
	}
	if back := ParseProperties(got); !maps.Equal(back, props) {
		t.Fatalf("round trip = %q", back)
	}
}

func TestSetRemoveProperty(t *testing.T) {
	tests := []struct {
		name, in, key, value, want string
	}{
		{name: "empty", in: "", key: "CLUSTER", value: "c1", want: "CLUSTER\x01c1\x02"},
		{name: "append", in: "TAGS\x01a\x02", key: "CLUSTER", value: "c1", want: "TAGS\x01a\x02CLUSTER\x01c1\x02"},
		{name: "missing trailing separator", in: "TAGS\x01a", key: "CLUSTER", value: "c1", want: "TAGS\x01a\x02CLUSTER\x01c1\x02"},
		{name: "replace", in: "CLUSTER\x01old\x02TAGS\x01a\x02", key: "CLUSTER", value: "new", want: "TAGS\x01a\x02CLUSTER\x01new\x02"},
		{name: "replace duplicates", in: "K\x011\x02K\x012\x02", key: "K", value: "3", want: "K\x013\x02"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := SetProperty(tc.in, tc.key, tc.value); got != tc.want {
				t.Fatalf("SetProperty = %q, want %q", got, tc.want)
			}
		})
	}
	if got := RemoveProperty("A\x011\x02B\x012\x02C\x013", "C"); got != "A\x011\x02B\x012\x02" {
		t.Fatalf("RemoveProperty last = %q", got)
	}
	if got := RemoveProperty("A\x011\x02B\x012\x02", "A"); got != "B\x012\x02" {
		t.Fatalf("RemoveProperty first = %q", got)
	}
	s := "A\x011\x02"
	if got := RemoveProperty(s, "Z"); got != s {
		t.Fatalf("RemoveProperty missing = %q", got)
	}
}

// javaHashCode is Java's String.hashCode written out literally: encode to
// UTF-16 code units, then h = 31*h + c in int32.
func javaHashCode(s string) int64 {
	var h int32
	for _, c := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(c)
	}
	return int64(h)
}

func TestTagsHashCode(t *testing.T) {
	tests := []struct {
		tag  string
		want int64
	}{
		{tag: "TagA", want: 2598919},
		{tag: "TagB", want: 2598920},
		{tag: "", want: 0},
		{tag: "a", want: 97},
		// Overflows int32 and comes out negative, sign-extended.
		{tag: "order_tag_2024", want: -2053758890},
		{tag: "TagA || TagB || TagC", want: javaHashCode("TagA || TagB || TagC")},
		{tag: "标签", want: javaHashCode("标签")},
		// U+1F600 is a surrogate pair D83D DE00 in UTF-16.
		{tag: "tag😀x", want: javaHashCode("tag😀x")},
	}
	for _, tc := range tests {
		if got := TagsHashCode(tc.tag); got != tc.want {
			t.Errorf("TagsHashCode(%q) = %d, want %d", tc.tag, got, tc.want)
		}
	}
	// The surrogate pair counts as two code units, not one rune.
	var h int32
	for _, c := range []int32{'t', 'a', 'g', 0xD83D, 0xDE00, 'x'} {
		h = 31*h + c
	}
	if got := TagsHashCode("tag😀x"); got != int64(h) {
		t.Fatalf("surrogate pair: got %d, want %d", got, h)
	}
	if h != -826375781 {
		t.Fatalf("hand-computed hash %d", h)
	}
}

func TestDelayLevel(t *testing.T) {
	for props, want := range map[string]int{
		"":                             0,
		"DELAY\x013\x02":               3,
		"TAGS\x01a\x02DELAY\x0118\x02": 18,
		"DELAY\x01x\x02":               0,
		"DELAY\x01-1\x02":              -1,
	} {
		if got := DelayLevel(props); got != want {
			t.Errorf("DelayLevel(%q) = %d, want %d", props, got, want)
		}
	}
}
