package remoting

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

func sampleCommands() map[string]*Command {
	return map[string]*Command{
		"send request": {
			Code: ReqSendMessageV2, Language: "JAVA", Version: 121, Opaque: 42,
			ExtFields: map[string]string{"a": "group", "b": "TopicTest", "e": "3", "g": "1795238031504", "k": "false"},
			Body:      []byte("hello"),
		},
		"error response": {
			Code: RespSystemError, Language: "GO", Version: Version, Opaque: -7, Flag: FlagResponse,
			Remark: "quote \" backslash \\ newline \n tab \t nul \x00 del \x7f é 中 \u2028",
		},
		"empty":                {},
		"oneway negative code": {Code: -5, Flag: FlagOneway, Opaque: 1<<31 - 1, ExtFields: map[string]string{"": ""}},
		"binary body":          {Code: ReqPullMessage, Body: []byte{0, 1, 2, 0xff, 0xfe}},
	}
}

func TestAppendDecodeRoundTrip(t *testing.T) {
	for name, c := range sampleCommands() {
		for _, st := range []byte{SerializeJSON, SerializeRocketMQ} {
			c := *c
			c.SerializeType = st
			frame := AppendFrame([]byte("prefix"), &c)
			if !bytes.HasPrefix(frame, []byte("prefix")) {
				t.Fatalf("%s/%d: AppendFrame clobbered dst", name, st)
			}
			frame = frame[len("prefix"):]
			n, err := FrameLength(frame, 0)
			if err != nil || n != len(frame) {
				t.Fatalf("%s/%d: FrameLength = %d, %v; want %d", name, st, n, err, len(frame))
			}
			if frame[4] != st {
				t.Fatalf("%s/%d: serializeType byte %d", name, st, frame[4])
			}
			got, err := DecodeFrame(frame)
			if err != nil {
				t.Fatalf("%s/%d: DecodeFrame: %v", name, st, err)
			}
			if d := diffCommands(&c, got); d != "" {
				t.Fatalf("%s/%d: round trip differs: %s", name, st, d)
			}
		}
	}
}

func TestDecodeFrameCopies(t *testing.T) {
	c := &Command{Code: 10, Remark: "remark", ExtFields: map[string]string{"topic": "T"}, Body: []byte("body")}
	for _, st := range []byte{SerializeJSON, SerializeRocketMQ} {
		c.SerializeType = st
		frame := AppendFrame(nil, c)
		got, err := DecodeFrame(frame)
		if err != nil {
			t.Fatal(err)
		}
		for i := range frame {
			frame[i] = 'X'
		}
		if topic, _ := got.Ext("topic"); got.Remark != "remark" || topic != "T" || string(got.Body) != "body" {
			t.Fatalf("type %d: decoded command shares the frame buffer: %+v", st, got)
		}
	}
}

func TestAppendFrameHead(t *testing.T) {
	c := &Command{Code: RespSuccess, Flag: FlagResponse, Opaque: 9, ExtFields: map[string]string{"nextBeginOffset": "12"}}
	body := []byte("zero-copy body")
	head := AppendFrameHead(nil, c, len(body))
	whole := AppendFrame(nil, &Command{Code: c.Code, Flag: c.Flag, Opaque: c.Opaque, ExtFields: c.ExtFields, Body: body})
	if got := append(head, body...); !bytes.Equal(got, whole) {
		t.Fatalf("head+body != AppendFrame:\n%q\n%q", got, whole)
	}
	// c.Body is ignored by AppendFrameHead.
	c.Body = []byte("ignored")
	if again := AppendFrameHead(nil, c, len(body)); !bytes.Equal(again, head) {
		t.Fatalf("AppendFrameHead used c.Body")
	}
}

func TestBinaryFallsBackToJSON(t *testing.T) {
	for name, c := range map[string]*Command{
		"code beyond int16":    {Code: 200050},
		"version beyond int16": {Version: 40000},
		"unknown language":     {Language: "COBOL"},
		"key of 64 KiB":        {ExtFields: map[string]string{strings.Repeat("k", 1<<16): "v"}},
	} {
		c.SerializeType = SerializeRocketMQ
		frame := AppendFrame(nil, c)
		if frame[4] != SerializeJSON {
			t.Fatalf("%s: encoded with type %d, want JSON fallback", name, frame[4])
		}
		got, err := DecodeFrame(frame)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got.SerializeType = SerializeRocketMQ
		if d := diffCommands(c, got); d != "" {
			t.Fatalf("%s: %s", name, d)
		}
	}
}

func TestHeaderTooLarge(t *testing.T) {
	c := &Command{Code: RespSuccess, Opaque: 77, Flag: FlagResponse, Remark: strings.Repeat("r", HeaderBytesMax), Body: []byte("b")}
	frame := AppendFrame(nil, c)
	got, err := DecodeFrame(frame)
	if err != nil {
		t.Fatal(err)
	}
	if got.Opaque != 77 || got.Flag != FlagResponse || got.Remark != errHeaderTooLargeRemark || string(got.Body) != "b" {
		t.Fatalf("fallback header wrong: %+v", got)
	}
}

func TestFrameLength(t *testing.T) {
	prefix := func(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }
	tests := []struct {
		name   string
		prefix []byte
		max    int
		want   int
		errSub string
	}{
		{name: "minimum", prefix: prefix(4), want: 8},
		{name: "typical", prefix: prefix(100), want: 104},
		{name: "exactly max", prefix: prefix(FrameBytesMaxDefault - 4), want: FrameBytesMaxDefault},
		{name: "over default max", prefix: prefix(FrameBytesMaxDefault - 3), errSub: "exceeds"},
		{name: "custom max", prefix: prefix(100), max: 103, errSub: "exceeds"},
		{name: "custom max fits", prefix: prefix(100), max: 104, want: 104},
		{name: "huge", prefix: prefix(0xFFFFFFFF), errSub: "exceeds"},
		{name: "below type word", prefix: prefix(3), errSub: "below"},
		{name: "zero", prefix: prefix(0), errSub: "below"},
		{name: "short prefix", prefix: []byte{0, 0, 1}, errSub: "4 bytes"},
	}
	for _, tt := range tests {
		got, err := FrameLength(tt.prefix, tt.max)
		if tt.errSub != "" {
			if !errors.Is(err, ErrFrame) || !strings.Contains(err.Error(), tt.errSub) {
				t.Errorf("%s: err = %v, want ErrFrame containing %q", tt.name, err, tt.errSub)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: got %d, %v; want %d", tt.name, got, err, tt.want)
		}
	}
}

// TestDecodeFrameTruncated cuts valid frames at every length: each prefix
// must fail with ErrFrame (its length prefix no longer matches), never panic.
func TestDecodeFrameTruncated(t *testing.T) {
	for name, c := range sampleCommands() {
		for _, st := range []byte{SerializeJSON, SerializeRocketMQ} {
			c.SerializeType = st
			frame := AppendFrame(nil, c)
			for n := 0; n < len(frame); n++ {
				if _, err := DecodeFrame(frame[:n]); !errors.Is(err, ErrFrame) {
					t.Fatalf("%s/%d: frame cut at %d: err = %v, want ErrFrame", name, st, n, err)
				}
			}
		}
	}
}

// TestDecodeFrameTruncatedHeader keeps the framing consistent but cuts the
// header itself short, so the header decoders see every truncation.
func TestDecodeFrameTruncatedHeader(t *testing.T) {
	for name, c := range sampleCommands() {
		for _, st := range []byte{SerializeJSON, SerializeRocketMQ} {
			c.SerializeType = st
			frame := AppendFrame(nil, c)
			headerLen := int(binary.BigEndian.Uint32(frame[4:]) & HeaderBytesMax)
			header := frame[8 : 8+headerLen]
			for n := 0; n < headerLen; n++ {
				if _, err := DecodeFrame(rawFrame(st, header[:n], nil)); !errors.Is(err, ErrFrame) {
					t.Fatalf("%s/%d: header cut at %d: err = %v, want ErrFrame", name, st, n, err)
				}
			}
		}
	}
}

func TestDecodeFrameBadFraming(t *testing.T) {
	good := AppendFrame(nil, &Command{Code: 10, Body: []byte("body")})
	withTypeWord := func(word uint32) []byte {
		f := bytes.Clone(good)
		binary.BigEndian.PutUint32(f[4:], word)
		return f
	}
	headerLen := binary.BigEndian.Uint32(good[4:]) & HeaderBytesMax
	tests := []struct {
		name   string
		frame  []byte
		errSub string
	}{
		{name: "empty", frame: nil, errSub: "shorter than the 8-byte head"},
		{name: "length below 4", frame: []byte{0, 0, 0, 3, 0, 0, 0, 0}, errSub: "length prefix says"},
		{name: "extra trailing byte", frame: append(bytes.Clone(good), 0), errSub: "length prefix says"},
		{name: "headerLen past frame", frame: withTypeWord(uint32(len(good) - 7)), errSub: "exceeds"},
		{name: "headerLen max", frame: withTypeWord(HeaderBytesMax), errSub: "exceeds"},
		{name: "headerLen short", frame: withTypeWord(headerLen - 1), errSub: "json header"},
		{name: "headerLen long", frame: withTypeWord(headerLen + 1), errSub: "json header"},
		{name: "unknown serializeType", frame: withTypeWord(2<<24 | headerLen), errSub: "unknown serializeType 2"},
		{name: "binary type on JSON header", frame: withTypeWord(1<<24 | headerLen), errSub: "binary header"},
	}
	for _, tt := range tests {
		_, err := DecodeFrame(tt.frame)
		if !errors.Is(err, ErrFrame) || !strings.Contains(err.Error(), tt.errSub) {
			t.Errorf("%s: err = %v, want ErrFrame containing %q", tt.name, err, tt.errSub)
		}
	}
}

func TestDecodeFrameEmptyHeaderAndBody(t *testing.T) {
	// headerLen 0 is not a valid JSON object, and not 21 binary bytes.
	for _, st := range []byte{SerializeJSON, SerializeRocketMQ} {
		if _, err := DecodeFrame(rawFrame(st, nil, nil)); !errors.Is(err, ErrFrame) {
			t.Fatalf("type %d: empty header: err = %v", st, err)
		}
	}
	c, err := DecodeFrame(jsonFrame(`{"code":11}`, ""))
	if err != nil || c.Code != 11 || c.Body != nil {
		t.Fatalf("got %+v, %v", c, err)
	}
}

// TestAppendFrameExt checks that ext entries (strings, escapes, ints, bytes) decode
// as if they had been in ExtFields, in both codecs, and that the frame does
// not allocate beyond dst.
func TestAppendFrameExt(t *testing.T) {
	ext := []ExtField{
		{Key: "msgId", Str: "7F00000100002A9F0000000000000000"},
		{Key: "queueOffset", Int: -1234567890123, IsInt: true},
		{Key: "queueId", Int: 0, IsInt: true},
		{Key: "quote\"", Str: "back\\slash é"},
		{Key: "empty", Str: ""},
		{Key: "bytes", Bytes: []byte("7F000001\"")},
		{Key: "emptyBytes", Bytes: []byte{}},
	}
	for _, st := range []byte{SerializeJSON, SerializeRocketMQ} {
		c := &Command{Code: RespSuccess, Language: "GO", Version: Version, Opaque: 9, Flag: FlagResponse,
			ExtFields: map[string]string{"MSG_REGION": "DefaultRegion"}, Body: []byte("b"), SerializeType: st}
		got, err := DecodeFrame(AppendFrameExt(nil, c, ext))
		if err != nil {
			t.Fatalf("%d: DecodeFrame: %v", st, err)
		}
		want := *c
		want.ExtFields = map[string]string{"MSG_REGION": "DefaultRegion", "msgId": "7F00000100002A9F0000000000000000",
			"queueOffset": "-1234567890123", "queueId": "0", "quote\"": "back\\slash é", "empty": "",
			"bytes": "7F000001\"", "emptyBytes": ""}
		if d := diffCommands(&want, got); d != "" {
			t.Fatalf("%d: differs: %s", st, d)
		}
	}
	c := Command{Code: RespSuccess, Opaque: 9, Flag: FlagResponse}
	dst := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { dst = AppendFrameExt(dst[:0], &c, ext) }); n != 0 {
		t.Fatalf("AppendFrameExt allocates %v times per frame", n)
	}
}
