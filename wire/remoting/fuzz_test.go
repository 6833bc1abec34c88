package remoting

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"testing"
)

// fuzzSeedFrames are valid frames of both codecs that every fuzz target
// starts from, besides the committed corpora in testdata/fuzz/.
func fuzzSeedFrames() [][]byte {
	var frames [][]byte
	for _, c := range sampleCommands() {
		for _, st := range []byte{SerializeJSON, SerializeRocketMQ} {
			c.SerializeType = st
			frames = append(frames, AppendFrame(nil, c))
		}
	}
	frames = append(frames,
		jsonFrame(`{"code":310,"language":"JAVA","opaque":5,"flag":0,"version":121,"extFields":{"g":1795238031504,"k":false,"u":null}}`, "b"),
		jsonFrame(`{"code":10,"language":9,"version":317,"opaque":2,"flag":0,"remark":null,"extFields":{"a":"\u00e9\ud83d\ude00"}}`, ""),
		jsonFrame(`{"code":320,"extFields":{"a":"x","b":null,"a":"\u0001y","c":{"d":1}}}`, "b"),
		jsonFrame(`{"code":325,"extFields":{"a":"x","bname":"y"}}`, ""),
	)
	return frames
}

// FuzzDecodeFrame: arbitrary bytes never panic and fail only with ErrFrame;
// whatever decodes re-encodes (AppendFrame) to a frame that decodes to the
// same command, and decodes the same again after its Release.
func FuzzDecodeFrame(f *testing.F) {
	for _, frame := range fuzzSeedFrames() {
		f.Add(frame)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		c, err := DecodeFrame(frame)
		if err != nil {
			if !errors.Is(err, ErrFrame) {
				t.Fatalf("error does not wrap ErrFrame: %v", err)
			}
			return
		}
		if n, err := FrameLength(frame, len(frame)); err != nil || n != len(frame) {
			t.Fatalf("DecodeFrame accepted a frame FrameLength rejects: %d, %v", n, err)
		}
		checkFrameRoundTrip(t, c)
		// Release hands a send or pull request's buffer to the next decode: the
		// same frame decodes to the same command again, into it.
		want := AppendFrame(nil, c)
		c.Release()
		again, err := DecodeFrame(frame)
		if err != nil {
			t.Fatalf("frame does not decode after a Release: %v", err)
		}
		first, err := DecodeFrame(want)
		if err != nil {
			t.Fatalf("re-encoded frame does not decode: %v", err)
		}
		if d := diffCommands(first, again); d != "" {
			t.Fatalf("decoded after a Release: %s", d)
		}
		first.Release()
		again.Release()
	})
}

// frameHeader returns the header bytes of a well-formed frame.
func frameHeader(frame []byte) []byte {
	return frame[8 : 8+binary.BigEndian.Uint32(frame[4:])&HeaderBytesMax]
}

func checkFrameRoundTrip(t *testing.T, c *Command) {
	t.Helper()
	again, err := DecodeFrame(AppendFrame(nil, c))
	if err != nil {
		t.Fatalf("re-encoded frame does not decode: %v\ncommand %+v", err, c)
	}
	if d := diffCommands(c, again); d != "" {
		t.Fatalf("round trip differs: %s", d)
	}
}

// FuzzJSONHeader compares the hand-written JSON header decoder with a
// reference built on encoding/json (UseNumber, RawMessage) that applies the
// same field rules: both must reject the same headers and decode the rest
// to the same command, which must also survive an encode/decode round trip.
func FuzzJSONHeader(f *testing.F) {
	for _, frame := range fuzzSeedFrames() {
		if frame[4] == SerializeJSON {
			f.Add(frameHeader(frame))
		}
	}
	f.Fuzz(func(t *testing.T, header []byte) {
		var got Command
		err := decodeJSONHeader(header, &got)
		want, refErr := referenceDecodeJSON(header)
		if (err != nil) != (refErr != nil) {
			t.Fatalf("decoder error %v, reference error %v", err, refErr)
		}
		if err != nil {
			if !errors.Is(err, ErrFrame) {
				t.Fatalf("error does not wrap ErrFrame: %v", err)
			}
			return
		}
		checkFrameRoundTrip(t, &got)
		flattenExt(&got)
		if !reflect.DeepEqual(&got, want) {
			t.Fatalf("decoder %+v\nreference %+v", &got, want)
		}
	})
}

// FuzzBinaryHeader: arbitrary binary headers never panic; decoded ones
// re-encode (always binary, since decoded values fit the codec) no longer
// than the input and decode to the same command.
func FuzzBinaryHeader(f *testing.F) {
	for _, frame := range fuzzSeedFrames() {
		if frame[4] == SerializeRocketMQ {
			f.Add(frameHeader(frame))
		}
	}
	f.Fuzz(func(t *testing.T, header []byte) {
		var c Command
		if err := decodeBinaryHeader(header, &c); err != nil {
			if !errors.Is(err, ErrFrame) {
				t.Fatalf("error does not wrap ErrFrame: %v", err)
			}
			return
		}
		c.SerializeType = SerializeRocketMQ
		if !binaryEncodable(&c, nil) {
			t.Fatalf("decoded command does not fit the binary codec: %+v", c)
		}
		if encoded := appendBinaryHeader(nil, &c, nil); len(encoded) > len(header) {
			t.Fatalf("re-encoded header grew from %d to %d bytes", len(header), len(encoded))
		}
		checkFrameRoundTrip(t, &c)
	})
}

// referenceDecodeJSON decodes a JSON header with encoding/json's streaming
// API, key by key in order, so repeated keys behave as in the scanner.
func referenceDecodeJSON(header []byte) (*Command, error) {
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not an object")
	}
	c := &Command{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errors.New("key is not a string")
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		kind, text := referenceValue(raw)
		switch key {
		case "code", "version", "opaque", "flag":
			var n int32
			switch kind {
			case jsonNull:
			case jsonNumber, jsonString:
				v, err := strconv.ParseInt(text, 10, 32)
				if err != nil {
					return nil, err
				}
				n = int32(v)
			default:
				return nil, fmt.Errorf("%s is %s", key, kind)
			}
			*map[string]*int32{"code": &c.Code, "version": &c.Version, "opaque": &c.Opaque, "flag": &c.Flag}[key] = n
		case "language":
			c.Language = text
			if kind == jsonNumber {
				c.Language = languageFromJSONNumber(text)
			}
		case "remark":
			c.Remark = text
		case "extFields":
			c.ExtFields = nil
			switch kind {
			case jsonNull:
			case jsonComposite:
				var fields map[string]json.RawMessage
				if err := json.Unmarshal(raw, &fields); err != nil {
					return nil, err
				}
				c.ExtFields = make(map[string]string, len(fields))
				for k, v := range fields {
					if kind, text := referenceValue(v); kind != jsonNull {
						c.ExtFields[k] = text
					}
				}
			default:
				return nil, errors.New("extFields is not an object")
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the object: %v", err)
	}
	return c, nil
}

// referenceValue classifies a raw JSON value and converts it to the header
// string form.
func referenceValue(raw json.RawMessage) (jsonKind, string) {
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			panic(err) // the decoder already validated it
		}
		return jsonString, s
	case 'n':
		return jsonNull, ""
	case 't', 'f':
		return jsonBool, string(raw)
	case '{', '[':
		return jsonComposite, validUTF8PerByte(string(raw))
	default:
		return jsonNumber, string(raw)
	}
}
