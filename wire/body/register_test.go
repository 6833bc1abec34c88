package body

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

// javaRegisterBody builds the compressed form section by section, the way
// a Java broker writes it; mappings < 0 leaves the 5.x mapping count out
// (a 4.x broker).
func javaRegisterBody(dv string, topics []string, filters string, mappings int32) []byte {
	var raw bytes.Buffer
	chunk := func(s string) {
		_ = binary.Write(&raw, binary.BigEndian, int32(len(s)))
		raw.WriteString(s)
	}
	chunk(dv)
	_ = binary.Write(&raw, binary.BigEndian, int32(len(topics)))
	for _, t := range topics {
		chunk(t)
	}
	chunk(filters)
	if mappings >= 0 {
		_ = binary.Write(&raw, binary.BigEndian, mappings)
	}
	return deflate(raw.Bytes())
}

func deflate(raw []byte) []byte {
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	_, _ = w.Write(raw)
	_ = w.Close()
	return z.Bytes()
}

func inflate(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestDecodeJavaRegisterBody(t *testing.T) {
	want := map[string]TopicConfig{
		"T1": {TopicName: "T1", ReadQueueNums: 8, WriteQueueNums: 8, Perm: 6, TopicFilterType: "SINGLE_TAG"},
		"T2": {TopicName: "T2", ReadQueueNums: 4, WriteQueueNums: 2, Perm: 4, TopicFilterType: "SINGLE_TAG",
			Attributes: map[string]string{"+message.type": "NORMAL"}},
		"T3": {TopicName: "T3", ReadQueueNums: 1, WriteQueueNums: 1, Perm: 2, TopicFilterType: "MULTI_TAG"},
		"T4": {TopicName: "T4", ReadQueueNums: 1, WriteQueueNums: 1, Perm: 6, TopicFilterType: "SINGLE_TAG"},
	}
	topics := []string{
		"T1 8 8 6 SINGLE_TAG",                            // 4.x
		`T2 4 2 4 SINGLE_TAG {"+message.type":"NORMAL"}`, // 5.x with attributes
		"T3 1 1 2 MULTI_TAG ",                            // 5.x, null attributes: trailing separator
		"T4 1 1 6 SINGLE_TAG {not json",                  // Java drops attributes it cannot parse
	}
	for _, tt := range []struct {
		name     string
		mappings int32
	}{{name: "4.x broker", mappings: -1}, {name: "5.x broker", mappings: 0}} {
		t.Run(tt.name, func(t *testing.T) {
			b := javaRegisterBody(`{"stateVersion":0,"timestamp":1700000000000,"counter":7}`, topics, `["f1:1"]`, tt.mappings)
			rb, err := DecodeRegisterBody(b, true)
			if err != nil {
				t.Fatal(err)
			}
			w := rb.TopicConfigSerializeWrapper
			if w.DataVersion != (DataVersion{Timestamp: 1700000000000, Counter: 7}) {
				t.Fatalf("dataVersion = %+v", w.DataVersion)
			}
			if !reflect.DeepEqual(w.TopicConfigTable, want) {
				t.Fatalf("topics = %+v", w.TopicConfigTable)
			}
			if !reflect.DeepEqual(rb.FilterServerList, []string{"f1:1"}) {
				t.Fatalf("filters = %v", rb.FilterServerList)
			}
		})
	}
}

// TestEncodeRegisterBodyJavaLayout checks the encoder byte for byte against
// the sections a 4.x NameServer reads (five text fields, no attributes)
// followed by the 5.x zero mapping count.
func TestEncodeRegisterBodyJavaLayout(t *testing.T) {
	rb := RegisterBrokerBody{TopicConfigSerializeWrapper: TopicConfigSerializeWrapper{
		DataVersion: DataVersion{Timestamp: 5, Counter: 3},
		TopicConfigTable: map[string]TopicConfig{
			"B": {TopicName: "B", ReadQueueNums: 16, WriteQueueNums: 8, Perm: 6, TopicFilterType: "MULTI_TAG",
				TopicSysFlag: 1, Order: true, Attributes: map[string]string{"k": "v"}},
			"A": {TopicName: "A", ReadQueueNums: 1, WriteQueueNums: 1, Perm: 2},
		},
	}}
	got := inflate(t, EncodeRegisterBody(&rb))
	want := inflate(t, javaRegisterBody(`{"stateVersion":0,"timestamp":5,"counter":3}`,
		[]string{"A 1 1 2 SINGLE_TAG", "B 16 8 6 MULTI_TAG"}, `[]`, 0))
	if !bytes.Equal(got, want) {
		t.Fatalf("inflated body\n got %q\nwant %q", got, want)
	}
}

func TestRegisterBodyRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			table := make(map[string]TopicConfig, n)
			for i := range n {
				name := fmt.Sprintf("topic-%06d", i)
				table[name] = TopicConfig{TopicName: name, ReadQueueNums: int32(i%16 + 1), WriteQueueNums: 8, Perm: 6, TopicFilterType: "SINGLE_TAG"}
			}
			rb := RegisterBrokerBody{
				TopicConfigSerializeWrapper: TopicConfigSerializeWrapper{TopicConfigTable: table, DataVersion: DataVersion{Timestamp: 9, Counter: int64(n)}},
				FilterServerList:            []string{"127.0.0.1:1"},
			}
			back, err := DecodeRegisterBody(EncodeRegisterBody(&rb), true)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, rb) {
				t.Fatalf("round trip changed the body: %+v", back)
			}
		})
	}
}

func TestDecodeRegisterBodyRejects(t *testing.T) {
	valid := javaRegisterBody(`{"counter":1}`, []string{"T 1 1 6 SINGLE_TAG"}, `[]`, -1)
	tests := []struct {
		name       string
		body       []byte
		compressed bool
	}{
		{name: "bad json", body: []byte("{"), compressed: false},
		{name: "not zlib", body: []byte("plain text"), compressed: true},
		{name: "truncated stream", body: valid[:len(valid)-6], compressed: true},
		{name: "short topic text", body: javaRegisterBody(`{}`, []string{"T 1 1 6"}, `[]`, -1), compressed: true},
		{name: "empty topic name", body: javaRegisterBody(`{}`, []string{" 1 1 6 SINGLE_TAG"}, `[]`, -1), compressed: true},
		{name: "bad number", body: javaRegisterBody(`{}`, []string{"T x 1 6 SINGLE_TAG"}, `[]`, -1), compressed: true},
		{name: "bad dataVersion", body: javaRegisterBody(`{`, nil, `[]`, -1), compressed: true},
		{name: "missing filter list", body: deflate([]byte{0, 0, 0, 2, '{', '}', 0, 0, 0, 0}), compressed: true},
		{name: "huge count", body: deflate([]byte{0, 0, 0, 2, '{', '}', 0x7f, 0xff, 0xff, 0xff}), compressed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeRegisterBody(tt.body, tt.compressed); !errors.Is(err, ErrRegisterBody) {
				t.Fatalf("err = %v, want ErrRegisterBody", err)
			}
		})
	}
	// A body inflating beyond the bound (64 MiB; 1 KiB here) is refused.
	bomb := javaRegisterBody(`{}`, []string{string(make([]byte, 2000)) + " 1 1 6 SINGLE_TAG"}, `[]`, -1)
	if _, err := decodeRegisterBody(bomb, true, 1024); !errors.Is(err, ErrRegisterBody) || !strings.Contains(err.Error(), "inflates beyond") {
		t.Fatalf("zip bomb: err = %v, want ErrRegisterBody", err)
	}
}

func FuzzDecodeRegisterBody(f *testing.F) {
	f.Add(javaRegisterBody(`{"counter":1}`, []string{"T 1 1 6 SINGLE_TAG"}, `[]`, -1))
	f.Add(javaRegisterBody(`{}`, []string{`T 4 4 6 SINGLE_TAG {"a":"b"}`, "U 1 1 2 MULTI_TAG "}, `["x"]`, 0))
	f.Add([]byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		rb, err := DecodeRegisterBody(b, true)
		if err != nil {
			if !errors.Is(err, ErrRegisterBody) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		for name, tc := range rb.TopicConfigSerializeWrapper.TopicConfigTable {
			if name == "" || name != tc.TopicName {
				t.Fatalf("topic key %q for %q", name, tc.TopicName)
			}
		}
	})
}
