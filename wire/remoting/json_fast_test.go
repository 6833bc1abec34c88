package remoting

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestStringStop compares the eight-bytes-at-a-time scan with a byte loop:
// every byte value at every lane and offset, and random text.
func TestStringStop(t *testing.T) {
	naive := func(s string, i int) int {
		for ; i < len(s); i++ {
			if b := s[i]; b == '"' || b == '\\' || b < 0x20 || b >= utf8.RuneSelf {
				return i
			}
		}
		return len(s)
	}
	plain := strings.Repeat("abcdefgh", 4)
	for b := range 256 {
		for at := range len(plain) {
			s := plain[:at] + string([]byte{byte(b)}) + plain[at+1:]
			for from := range 3 {
				if got, want := stringStop(s, from), naive(s, from); got != want {
					t.Fatalf("byte %#x at %d from %d: %d, want %d", b, at, from, got, want)
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab \"\\\x00\x1f\x20\x7f\x80\xff\x21\x5b\x5d")
	for range 20000 {
		buf := make([]byte, rng.IntN(40))
		for i := range buf {
			buf[i] = alphabet[rng.IntN(len(alphabet))]
		}
		s := string(buf)
		from := rng.IntN(len(s) + 1)
		if got, want := stringStop(s, from), naive(s, from); got != want {
			t.Fatalf("%q from %d: %d, want %d", s, from, got, want)
		}
	}
}

// TestParseDecimal: the fast path agrees with strconv.ParseInt on values
// and on which input fails.
func TestParseDecimal(t *testing.T) {
	inputs := []string{"", "-", "+", "0", "-0", "7", "+7", "007", "-007", "1795238031504", "12a", "1 ", " 1", "--1",
		"2147483647", "2147483648", "-2147483648", "-2147483649", "999999999", "-999999999", "9999999999",
		"999999999999999999", "-999999999999999999", "9223372036854775807", "9223372036854775808",
		"-9223372036854775808", "-9223372036854775809", "1_000", "0x10", "１"}
	for _, s := range inputs {
		for _, bits := range []int{32, 64} {
			got, err := parseDecimal(s, bits)
			want, wantErr := strconv.ParseInt(s, 10, bits)
			if got != want || (err != nil) != (wantErr != nil) {
				t.Errorf("parseDecimal(%q, %d) = %d, %v; ParseInt: %d, %v", s, bits, got, err, want, wantErr)
			}
		}
	}
}

// TestDecodeCapturedSend decodes the Go client's send headers exactly as
// captured (captured_bench_test.go) into the field array.
func TestDecodeCapturedSend(t *testing.T) {
	c, err := DecodeFrame(jsonFrame(capturedSendV1, "body"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"defaultTopic": "TBW102", "batch": "false",
		"properties":    "UNIQ_KEY\x01C0000202705D00000000681372a80001\x02WAIT\x01true\x02TAGS\x01TagA\x02KEYS\x01order-1\x02",
		"producerGroup": "PG_bench", "topic": "BenchTopic", "queueId": "3", "sysFlag": "0", "flag": "0",
		"reconsumeTimes": "0", "maxReconsumeTimes": "0", "defaultTopicQueueNums": "4",
		"bornTimestamp": "1795238031504", "unitMode": "false",
	}
	if c.send == nil || c.Code != ReqSendMessage || c.Language != "GO" || c.Version != 317 || c.Opaque != 123456 ||
		c.Remark != "" || string(c.Body) != "body" || !reflect.DeepEqual(extMap(c), want) {
		t.Fatalf("decoded %+v ext %v", c, extMap(c))
	}
	if err := readSendFields(c, false); err != nil {
		t.Fatal(err)
	}
	c, err = DecodeFrame(jsonFrame(capturedSendBatch, ""))
	if err != nil {
		t.Fatal(err)
	}
	if c.send == nil || c.Code != ReqSendBatchMessage || len(extMap(c)) != 13 || extMap(c)["i"] != "" {
		t.Fatalf("decoded %+v ext %v", c, extMap(c))
	}
	if err := readSendFields(c, true); err != nil {
		t.Fatal(err)
	}
}

// TestDecodeSendHeaderForms runs send headers through the decoder and the
// encoding/json reference of the fuzz target: escapes in keys and values
// (the one-byte \u00XX path and its edges), unknown and duplicate keys,
// values of other types, and malformed input, which must fail with
// ErrFrame at every truncation.
func TestDecodeSendHeaderForms(t *testing.T) {
	headers := []string{
		capturedSendV1,
		capturedSendBatch,
		`{"code":10,"extFields":{"\u0074opic":"T","properties":"a\u0001b\u007f\u0080\u00e9\u00C9\u0000\ud83d\ude00\/\n"}}`,
		`{"code":10,"extFields":{"topic":"T\u00zz"}}`,
		`{"code":10,"extFields":{"topic":"T\u00"}}`,
		`{"code":10,"extFields":{"topic":"T\u00e"}}`,
		`{"code":10,"extFields":{"topic":"\xff\xfeé","flag":"x\x01"}}`,
		`{"code":10,"extFields":{"topic":"T","myKey":"v","topic":"U"}}`,
		`{"code":320,"extFields":{"a":"x","a":"y","b":null,"b":"T","c":["x",{"y":1}],"d":4,"e":true,"f":null}}`,
		`{"code":320,"extFields":{"a":"x","ab":"y"}}`,
		`{"code":320,"extFields":{"a" : "x" , "b":"y" } }`,
		`{"code":"10","version":"317","opaque":-5,"flag":null,"extFields":{"topic":"T"}}`,
		`{"code":10.5,"extFields":{"topic":"T"}}`,
		`{"code":10,"version":-0,"opaque":999999999,"flag":-999999999,"extFields":{}}`,
		`{"opaque":1234567890,"flag":-2147483648}`,
		`{"code":010}`, `{"code":1e1}`, `{"code":10E0}`, `{"code":10.0}`, `{"code":-}`, `{"code":10x}`, `{"code":-a}`,
		`{"code":10,"opaque":true,"extFields":{"topic":"T"}}`,
		`{"code":10,"opaque":2147483648,"extFields":{"topic":"T"}}`,
		`{"code":10,"extFields":{"topic":"T",}}`,
		`{"code":10,"extFields":{"topic":"T" "flag":"0"}}`,
		`{"code":10,"extFields":{"topic" "T"}}`,
		`{"code":10,"extFields":{topic:"T"}}`,
		`{"code":10,"extFields":{"topic":tru}}`,
		`{"code":10,"extFields":["topic"]}`,
		`{"code":10,"extFields":{"topic":"T"}}x`,
	}
	for _, h := range headers {
		for n := range len(h) + 1 {
			header := []byte(h[:n])
			var got Command
			err := decodeJSONHeader(header, &got)
			want, refErr := referenceDecodeJSON(header)
			if (err != nil) != (refErr != nil) {
				t.Fatalf("%s: decoder error %v, reference error %v", header, err, refErr)
			}
			if err != nil {
				if !errors.Is(err, ErrFrame) {
					t.Fatalf("%s: error does not wrap ErrFrame: %v", header, err)
				}
				continue
			}
			flattenExt(&got)
			if !reflect.DeepEqual(&got, want) {
				t.Fatalf("%s:\ndecoder   %+v\nreference %+v", header, &got, want)
			}
		}
	}
}

// TestSendKeyIndex: each spelling finds exactly its own names; any other
// key (a name with one byte changed, cut or extended, the other
// spelling's names) is refused.
func TestSendKeyIndex(t *testing.T) {
	for _, keys := range []*sendKeys{&sendKeysV1, &sendKeysV2} {
		want := map[string]int{}
		for i, name := range keys.names {
			if name != "" {
				want[name] = i
			}
		}
		var probes []string
		for _, spelling := range []*sendKeys{&sendKeysV1, &sendKeysV2} {
			for _, name := range spelling.names {
				probes = append(probes, name, name+"x", "x"+name)
				for at := range len(name) {
					probes = append(probes, name[:at], name[:at]+"X"+name[at+1:], name[:at]+"_"+name[at+1:])
				}
			}
		}
		for _, key := range probes {
			i, ok := keys.index(key)
			wantI, wantOK := want[key]
			if ok != wantOK || i != wantI {
				t.Errorf("short=%v: index(%q) = %d, %v; want %d, %v", keys.short, key, i, ok, wantI, wantOK)
			}
		}
	}
}
