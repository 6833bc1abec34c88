package remoting

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
)

func decodeJSON(t *testing.T, header string) *Command {
	t.Helper()
	c, err := DecodeFrame(jsonFrame(header, ""))
	if err != nil {
		t.Fatalf("decode %s: %v", header, err)
	}
	return c
}

// TestDecodeGoClientHeader uses the header shape captured from
// rocketmq-client-go 2.1.2 (client-quirks A1 item 1).
func TestDecodeGoClientHeader(t *testing.T) {
	c := decodeJSON(t, `{"code":10,"language":"GO","version":317,"opaque":2,"flag":0,"remark":"",`+
		`"extFields":{"producerGroup":"pg","topic":"TopicTest","defaultTopic":"TBW102","defaultTopicQueueNums":"4",`+
		`"queueId":"1","sysFlag":"0","bornTimestamp":"1700000000000","flag":"0","properties":"","reconsumeTimes":"0",`+
		`"unitMode":"false","maxReconsumeTimes":"0","batch":"false"}}`)
	want := &Command{
		Code: 10, Language: "GO", Version: 317, Opaque: 2,
		ExtFields: map[string]string{
			"producerGroup": "pg", "topic": "TopicTest", "defaultTopic": "TBW102", "defaultTopicQueueNums": "4",
			"queueId": "1", "sysFlag": "0", "bornTimestamp": "1700000000000", "flag": "0", "properties": "",
			"reconsumeTimes": "0", "unitMode": "false", "maxReconsumeTimes": "0", "batch": "false",
		},
	}
	if d := diffCommands(want, c); d != "" {
		t.Fatal(d)
	}
}

// TestDecodeAliOnsHeader uses ali-ons' raw JSON types (client-quirks B2).
func TestDecodeAliOnsHeader(t *testing.T) {
	c := decodeJSON(t, `{"code":310,"language":"JAVA","opaque":5,"flag":0,"version":121,`+
		`"extFields":{"a":"pg","b":"T","d":4,"e":0,"g":1795238031504,"k":false,"j":true,`+
		`"commitOffset":-1,"subVersion":1795238031507,"f":1.50,"h":1e3,"u":null,"nested":{"x": [1,2]}},`+
		`"serializeTypeCurrentRPC":"JSON","unknown":{"deep":[{},[],null]}}`)
	want := map[string]string{
		"a": "pg", "b": "T", "d": "4", "e": "0", "g": "1795238031504", "k": "false", "j": "true",
		"commitOffset": "-1", "subVersion": "1795238031507", "f": "1.50", "h": "1e3", "nested": `{"x": [1,2]}`,
	}
	if !maps.Equal(c.ExtFields, want) {
		t.Fatalf("extFields = %v\nwant %v", sortedExt(c.ExtFields), sortedExt(want))
	}
	if c.Code != 310 || c.Language != "JAVA" || c.Version != 121 || c.Opaque != 5 || c.Remark != "" {
		t.Fatalf("header = %+v", c)
	}
}

func TestDecodeJSONFieldForms(t *testing.T) {
	tests := []struct {
		name   string
		header string
		check  func(*Command) bool
	}{
		{"language as int", `{"language":9}`, func(c *Command) bool { return c.Language == "GO" }},
		{"language 0", `{"language":0}`, func(c *Command) bool { return c.Language == "JAVA" }},
		{"language 13", `{"language":13}`, func(c *Command) bool { return c.Language == "NODE_JS" }},
		{"language unknown int", `{"language":99}`, func(c *Command) bool { return c.Language == "99" }},
		{"language null", `{"language":null}`, func(c *Command) bool { return c.Language == "" }},
		{"null remark", `{"code":1,"remark":null}`, func(c *Command) bool { return c.Code == 1 && c.Remark == "" }},
		{"missing remark", `{"code":1}`, func(c *Command) bool { return c.Remark == "" }},
		{"null extFields", `{"extFields":null}`, func(c *Command) bool { return c.ExtFields == nil }},
		{"empty extFields", `{"extFields":{}}`, func(c *Command) bool { return c.ExtFields != nil && len(c.ExtFields) == 0 }},
		{"quoted int", `{"code":"17","opaque":"-3"}`, func(c *Command) bool { return c.Code == 17 && c.Opaque == -3 }},
		{"null int", `{"code":null}`, func(c *Command) bool { return c.Code == 0 }},
		{"int32 extremes", `{"opaque":-2147483648,"flag":2147483647}`, func(c *Command) bool {
			return c.Opaque == -2147483648 && c.Flag == 2147483647
		}},
		{"whitespace", " \r\n\t{ \"code\" : 3 , \"extFields\" : { \"a\" : 1 } } \n", func(c *Command) bool {
			return c.Code == 3 && c.ExtFields["a"] == "1"
		}},
		{"last duplicate wins", `{"code":1,"code":2,"extFields":{"a":"x","a":null,"b":"1","b":"2"}}`, func(c *Command) bool {
			_, hasA := c.ExtFields["a"]
			return c.Code == 2 && !hasA && c.ExtFields["b"] == "2"
		}},
		{"escapes", `{"remark":"q\"b\\s\/n\nt\tu\u00e9\ud83d\ude00 lone\ud800x"}`, func(c *Command) bool {
			return c.Remark == "q\"b\\s/n\nt\tué😀 lone\uFFFDx"
		}},
		{"escaped key", `{"c\u006fde":5}`, func(c *Command) bool { return c.Code == 5 }},
		{"invalid utf8", "{\"remark\":\"a\xffb\xc3\"}", func(c *Command) bool { return c.Remark == "a\uFFFDb\uFFFD" }},
		{"raw utf8", `{"remark":"中文"}`, func(c *Command) bool { return c.Remark == "中文" }},
		{"remark as number", `{"remark":12}`, func(c *Command) bool { return c.Remark == "12" }},
	}
	for _, tt := range tests {
		c := decodeJSON(t, tt.header)
		if !tt.check(c) {
			t.Errorf("%s: got %+v", tt.name, c)
		}
	}
}

// TestDecodeJSONArenaStrings decodes many rewritten strings from one header
// (they share the decoder's arena, grown past its first size by U+FFFD
// replacements) and checks none overwrote another.
func TestDecodeJSONArenaStrings(t *testing.T) {
	want := map[string]string{}
	var b strings.Builder
	b.WriteString(`{"extFields":{`)
	for i := range 50 {
		if i > 0 {
			b.WriteByte(',')
		}
		key := "k\u0001" + strings.Repeat("x", i)
		value := strings.Repeat("\uFFFD", i) + "\n"
		want[key] = value
		fmt.Fprintf(&b, `"k\u0001%s":"%s\n"`, strings.Repeat("x", i), strings.Repeat("\xff", i))
	}
	b.WriteString(`}}`)
	c := decodeJSON(t, b.String())
	if !maps.Equal(c.ExtFields, want) {
		t.Fatalf("extFields = %q\nwant %q", sortedExt(c.ExtFields), sortedExt(want))
	}
}

func TestDecodeJSONRejects(t *testing.T) {
	for _, header := range []string{
		``, ` `, `[]`, `"x"`, `null`, `{`, `{"code"`, `{"code":}`, `{"code":1,}`, `{"code":1 "flag":2}`,
		`{"code":1}x`, `{"code":1}{}`, `{code:1}`, `{'code':1}`, `{"code":1.5}`, `{"code":1e2}`,
		`{"code":2147483648}`, `{"code":"x"}`, `{"code":true}`, `{"code":{}}`, `{"code":01}`, `{"code":-}`,
		`{"code":+1}`, `{"opaque":1.}`, `{"opaque":.5}`, `{"opaque":1e}`, `{"extFields":"a"}`,
		`{"extFields":[]}`, `{"extFields":{"a":1,}}`, `{"extFields":{"a"}}`, `{"extFields":{1:2}}`,
		`{"remark":"\x"}`, `{"remark":"\u12"}`, `{"remark":"a` + "\n" + `"}`, `{"remark":tru}`,
		`{"remark":nul}`, `{"x":[1,]}`, `{"x":[1 2]}`, `{"x":{"a":1,"b"}}`, `{"remark":"abc`,
		`{"x":` + strings.Repeat("[", jsonNestingMax+1) + strings.Repeat("]", jsonNestingMax+1) + `}`,
	} {
		if _, err := DecodeFrame(jsonFrame(header, "")); !errors.Is(err, ErrFrame) {
			t.Errorf("%q: err = %v, want ErrFrame", header, err)
		}
	}
}

// TestEncodeJSONShape checks the exact bytes of an encoded header.
func TestEncodeJSONShape(t *testing.T) {
	tests := []struct {
		name string
		c    *Command
		want string
	}{
		{
			name: "response with one field",
			c: &Command{Code: 0, Language: "GO", Version: 401, Opaque: 2, Flag: 1,
				ExtFields: map[string]string{"queueOffset": "12"}},
			want: `{"code":0,"language":"GO","version":401,"opaque":2,"flag":1,"extFields":{"queueOffset":"12"},"serializeTypeCurrentRPC":"JSON"}`,
		},
		{
			name: "defaults and remark escaping",
			c:    &Command{Code: 1, Remark: "a\"b\\c\nd\re\tf\bg\fh\x01i\x1fj\x7fk\u2028l\u2029m\xffn</>"},
			want: `{"code":1,"language":"GO","version":0,"opaque":0,"flag":0,"remark":"a\"b\\c\nd\re\tf\bg\fh\u0001i\u001fj` +
				"\x7f" + `k\u2028l\u2029m\ufffdn</>","extFields":{},"serializeTypeCurrentRPC":"JSON"}`,
		},
	}
	for _, tt := range tests {
		if got := string(appendJSONHeader(nil, tt.c, nil)); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

// TestEncodeJSONIsValidForStrictClients decodes our output the way the Go
// client does (a struct with int16 code/version and map[string]string).
func TestEncodeJSONIsValidForStrictClients(t *testing.T) {
	type goClientHeader struct {
		Code      int16             `json:"code"`
		Language  string            `json:"language"`
		Version   int16             `json:"version"`
		Opaque    int32             `json:"opaque"`
		Flag      int32             `json:"flag"`
		Remark    string            `json:"remark"`
		ExtFields map[string]string `json:"extFields"`
	}
	for name, c := range sampleCommands() {
		var goClient goClientHeader
		if err := json.Unmarshal(appendJSONHeader(nil, c, nil), &goClient); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		wantLanguage := c.Language
		if wantLanguage == "" {
			wantLanguage = LanguageGo
		}
		if int32(goClient.Code) != c.Code || int32(goClient.Version) != c.Version || goClient.Language != wantLanguage ||
			goClient.Opaque != c.Opaque || goClient.Flag != c.Flag || goClient.Remark != c.Remark ||
			!maps.Equal(goClient.ExtFields, c.ExtFields) && len(c.ExtFields) > 0 {
			t.Fatalf("%s: decoded %+v from %+v", name, goClient, c)
		}
	}
}

// TestEncodeJSONStringMatchesEncodingJSON checks AppendJSONString writes the
// very bytes encoding/json writes with HTML escaping off (wire/body relies on
// it to match its EncodeJSON output), which also makes it valid JSON.
func TestEncodeJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "\x00\x1f\"\\/<>&", "\b\f\n\r\t\x7f", "é中😀", "\xff\xfe", "a\xe2\x82", "\xed\xa0\x80", "\u2028\u2029", "\ufffd"} {
		var std bytes.Buffer
		enc := json.NewEncoder(&std)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		want := bytes.TrimSuffix(std.Bytes(), []byte("\n"))
		if got := AppendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("%q: we write %s, encoding/json %s", s, got, want)
		}
	}
}
