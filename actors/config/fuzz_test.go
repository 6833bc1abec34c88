package config

import (
	"errors"
	"maps"
	"testing"
)

// FuzzBrokerProperties feeds arbitrary .properties text through parsing,
// key application and Validate: no panic, and every value error is
// ErrInvalid.
func FuzzBrokerProperties(f *testing.F) {
	f.Add([]byte("brokerName=b1\nlistenPort=10911\n"))
	f.Add([]byte("deleteWhen=04;16\nbrokerRole=SLAVE\nbrokerId=1\n"))
	f.Add([]byte("# c\nmapedFileSizeConsumeQueue : 1001\nflushDiskType SYNC_FLUSH\n"))
	f.Add([]byte("namesrvAddr=127.0.0.1:9876;bad\nregisterNameServerPeriod=99999999999999\n"))
	f.Add([]byte("fileReservedTime=9223372036854775807\nmessageDelayLevel=1s \\\n 2s\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		kvs, err := parseProperties(text)
		if err != nil {
			return
		}
		b := rawBroker()
		if _, err := apply(b.fields(), kvs); err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if err := b.Validate(); err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("unclassified Validate error %v", err)
		}
		n := DefaultNamesrv()
		if _, err := apply(n.fields(), kvs); err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("unclassified namesrv error %v", err)
		}
	})
}

// FuzzSetProperties sets two keys in arbitrary .properties text: whenever
// the text parses, the result parses too, with the two keys at their new
// values and every other key as it was.
func FuzzSetProperties(f *testing.F) {
	f.Add([]byte("a=0\n# c\nx : 1\n"))
	f.Add([]byte("x=1,\\\n  2\na\\\n=3"))
	f.Add([]byte("x=\\"))
	f.Add([]byte("b\\ c=1\r\nb=2\r\n"))
	set := []KV{{"a", "1"}, {"b", " two\\"}}
	f.Fuzz(func(t *testing.T, text []byte) {
		before, err := parseProperties(text)
		if err != nil {
			return
		}
		out := SetProperties(text, set)
		after, err := parseProperties(out)
		if err != nil {
			t.Fatalf("%q became %q, which does not parse: %v", text, out, err)
		}
		want := map[string]string{}
		for _, kv := range before {
			want[kv.Key] = kv.Value
		}
		for _, kv := range set {
			want[kv.Key] = kv.Value
		}
		got := map[string]string{}
		for _, kv := range after {
			got[kv.Key] = kv.Value
		}
		if !maps.Equal(got, want) {
			t.Fatalf("%q became %q:\n got %q\nwant %q", text, out, got, want)
		}
	})
}
