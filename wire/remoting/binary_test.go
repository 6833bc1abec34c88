package remoting

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// binaryHeader builds a binary header field by field, so tests can lie in
// any length.
type binaryHeader struct {
	code      int16
	language  byte
	version   int16
	opaque    int32
	flag      int32
	remarkLen uint32
	remark    string
	extLen    uint32
	ext       []byte
}

func (h binaryHeader) bytes() []byte {
	be := binary.BigEndian
	b := be.AppendUint16(nil, uint16(h.code))
	b = append(b, h.language)
	b = be.AppendUint16(b, uint16(h.version))
	b = be.AppendUint32(b, uint32(h.opaque))
	b = be.AppendUint32(b, uint32(h.flag))
	b = be.AppendUint32(b, h.remarkLen)
	b = append(b, h.remark...)
	b = be.AppendUint32(b, h.extLen)
	return append(b, h.ext...)
}

func extEntry(key, value string) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(key)))
	b = append(b, key...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(value)))
	return append(b, value...)
}

func TestBinaryExactBytes(t *testing.T) {
	c := &Command{Code: -2, Language: "NODE_JS", Version: 401, Opaque: 0x01020304, Flag: 3,
		Remark: "hi", ExtFields: map[string]string{"k": "vv"}, SerializeType: SerializeRocketMQ}
	want := binaryHeader{code: -2, language: 13, version: 401, opaque: 0x01020304, flag: 3,
		remarkLen: 2, remark: "hi", extLen: 9, ext: extEntry("k", "vv")}.bytes()
	frame := AppendFrame(nil, c)
	if got := frame[8:]; !bytes.Equal(got, want) {
		t.Fatalf("header\n got %x\nwant %x", got, want)
	}
	got, err := DecodeFrame(frame)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffCommands(c, got); d != "" {
		t.Fatal(d)
	}
}

func TestBinaryDecodeForms(t *testing.T) {
	tests := []struct {
		name  string
		h     binaryHeader
		check func(*Command) bool
	}{
		{"empty", binaryHeader{}, func(c *Command) bool {
			return c.Language == "JAVA" && c.Remark == "" && c.ExtFields == nil
		}},
		{"unknown language", binaryHeader{language: 200}, func(c *Command) bool { return c.Language == "200" }},
		{"negative ints", binaryHeader{code: -1, version: -32768, opaque: -5, flag: -1}, func(c *Command) bool {
			return c.Code == -1 && c.Version == -32768 && c.Opaque == -5 && c.Flag == -1
		}},
		{"empty key and value", binaryHeader{extLen: 6, ext: extEntry("", "")}, func(c *Command) bool {
			v, ok := c.ExtFields[""]
			return ok && v == "" && len(c.ExtFields) == 1
		}},
		{"raw bytes kept", binaryHeader{remarkLen: 2, remark: "\xff\x00", extLen: 9, ext: extEntry("\xfe", "\x00\x01")},
			func(c *Command) bool { return c.Remark == "\xff\x00" && c.ExtFields["\xfe"] == "\x00\x01" }},
		{"trailing bytes ignored", binaryHeader{extLen: 8, ext: append(extEntry("a", "b"), "junk"...)},
			func(c *Command) bool { return len(c.ExtFields) == 1 && c.ExtFields["a"] == "b" }},
	}
	for _, tt := range tests {
		c, err := DecodeFrame(rawFrame(SerializeRocketMQ, tt.h.bytes(), nil))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !tt.check(c) {
			t.Errorf("%s: got %+v", tt.name, c)
		}
	}
}

func TestBinaryDecodeRejects(t *testing.T) {
	twoEntries := append(extEntry("a", "1"), extEntry("bb", "22")...)
	tests := []struct {
		name   string
		header []byte
		errSub string
	}{
		{"20 bytes", make([]byte, 20), "shorter than 21"},
		{"remark past end", binaryHeader{remarkLen: 1}.bytes(), "remark length 1"},
		{"remark negative", binaryHeader{remarkLen: 0xFFFFFFFF}.bytes(), "remark length"},
		{"remark eats ext length", binaryHeader{remarkLen: 3, remark: "abc"}.bytes()[:23], "remark length"},
		{"ext past end", binaryHeader{extLen: 1}.bytes(), "extFields length 1"},
		{"ext huge", binaryHeader{extLen: 0x7FFFFFFF}.bytes(), "extFields length"},
		{"key length cut", binaryHeader{extLen: 1, ext: []byte{0}}.bytes(), "key length"},
		{"key past block", binaryHeader{extLen: 3, ext: []byte{0, 5, 'a'}}.bytes(), "key length 5"},
		{"value length cut", binaryHeader{extLen: 5, ext: extEntry("a", "")[:5]}.bytes(), "value length"},
		{"value past block", binaryHeader{extLen: 7, ext: extEntry("a", "1")[:7]}.bytes(), "value length 1"},
		{"value huge", binaryHeader{extLen: 7, ext: []byte{0, 1, 'a', 0xFF, 0xFF, 0xFF, 0xFF}}.bytes(), "value length"},
		{"second entry cut", binaryHeader{extLen: uint32(len(twoEntries) - 1), ext: twoEntries[:len(twoEntries)-1]}.bytes(), "value length 2"},
	}
	for _, tt := range tests {
		_, err := DecodeFrame(rawFrame(SerializeRocketMQ, tt.header, nil))
		if !errors.Is(err, ErrFrame) || !strings.Contains(err.Error(), tt.errSub) {
			t.Errorf("%s: err = %v, want ErrFrame containing %q", tt.name, err, tt.errSub)
		}
	}
}

func TestLanguageCode(t *testing.T) {
	for i := 0; i < 256; i++ {
		name := LanguageName(byte(i))
		code, ok := LanguageCode(name)
		if !ok || code != byte(i) {
			t.Fatalf("LanguageCode(LanguageName(%d)=%q) = %d, %v", i, name, code, ok)
		}
	}
	if LanguageName(9) != LanguageGo || LanguageName(13) != "NODE_JS" {
		t.Fatal("table order")
	}
	for _, bad := range []string{"go", "07", "+7", "256", "-1", "COBOL"} {
		if _, ok := LanguageCode(bad); ok {
			t.Errorf("LanguageCode(%q) accepted", bad)
		}
	}
	if code, ok := LanguageCode(""); !ok || code != 9 {
		t.Errorf("empty language = %d, %v; want GO", code, ok)
	}
}
