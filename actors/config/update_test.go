package config

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
)

func TestBrokerWith(t *testing.T) {
	b := DefaultBroker()
	next, err := b.With([]KV{{Key: "storeReplyMessageEnable", Value: "false"}, {Key: "mapedFileSizeCommitLog", Value: "1024"}})
	if err != nil {
		t.Fatal(err)
	}
	if next.StoreReplyMessageEnable || next.MapedFileSizeCommitLog != 1024 || !b.StoreReplyMessageEnable || b.MapedFileSizeCommitLog == 1024 {
		t.Fatalf("With: next %v/%d, original %v/%d", next.StoreReplyMessageEnable, next.MapedFileSizeCommitLog,
			b.StoreReplyMessageEnable, b.MapedFileSizeCommitLog)
	}
	if _, err := b.With([]KV{{Key: "storeReplyMessageEnable", Value: "false"}, {Key: "nope", Value: "1"}}); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("unknown key: %v", err)
	}
	if _, err := b.With([]KV{{Key: "messageDelayLevel", Value: "1x"}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("invalid value: %v", err)
	}
	kvs, err := ParseProperties([]byte("# comment\na=1\nb : two\n"))
	if err != nil || len(kvs) != 2 || kvs[0] != (KV{"a", "1"}) || kvs[1] != (KV{"b", "two"}) {
		t.Fatalf("ParseProperties = %v, %v", kvs, err)
	}
}

func TestSetProperties(t *testing.T) {
	for _, c := range []struct{ name, text, want string }{
		{"empty text", "", "a=1\nb=x y\n"},
		{"replaced in place, rest kept",
			"# a=0 in a comment\n! b=0 too\n\n  a : 0\nother=keep\r\nb\t0\n",
			"# a=0 in a comment\n! b=0 too\n\n" + "a=1\nother=keep\r\nb=x y\n"},
		{"continuation lines go with their entry",
			"a=0,\\\n   0,\\\n   0\nc=\\\\\n",
			"a=1\nc=\\\\\n" + "b=x y\n"},
		{"every definition replaced; no final newline", "a=0\nc=1\na=2", "a=1\nc=1\na=1\nb=x y\n"},
		{"escaped key and a longer key kept", "a\\=b=0\nab=0\na\\u0062=0\n", "a\\=b=0\nab=0\na\\u0062=0\n" + "a=1\nb=x y\n"},
		{"a comment ending in a backslash continues nothing", "#x\\\na=0\n", "#x\\\na=1\nb=x y\n"},
	} {
		got := string(SetProperties([]byte(c.text), []KV{{"a", "1"}, {"b", "x y"}}))
		if got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
	// What is written reads back as written.
	text := SetProperties([]byte("x=1\n"), []KV{{"k y=", " lead\tC:\\dir\n"}, {"x", "2"}})
	kvs, err := ParseProperties(text)
	if err != nil || len(kvs) != 2 || kvs[0] != (KV{"x", "2"}) || kvs[1] != (KV{"k y=", " lead\tC:\\dir\n"}) {
		t.Fatalf("%q read back as %q, %v", text, kvs, err)
	}
}

// TestLoadBrokerFallsBackToBak: a config file lost between the renames of an
// update is read from its .bak, with a warning.
func TestLoadBrokerFallsBackToBak(t *testing.T) {
	path := writeConf(t, "brokerName=from-bak\n")
	if err := os.Rename(path, path+".bak"); err != nil {
		t.Fatal(err)
	}
	b, warnings, err := LoadBroker(path, nil)
	if err != nil || b.BrokerName != "from-bak" || len(warnings) != 1 || !strings.Contains(warnings[0], ".bak") {
		t.Fatalf("LoadBroker = %q, %q, %v", b.BrokerName, warnings, err)
	}
	if err := os.Remove(path + ".bak"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadBroker(path, nil); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("LoadBroker without file or .bak: %v", err)
	}
}
