package body

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// The REGISTER_BROKER body (wire-protocol.md §8.3) has two forms, chosen by
// the request header `compressed`: the JSON of RegisterBrokerBody, or one
// zlib stream of big-endian sections (lengths and counts are int32):
//
//	size   field
//	4      n: length of the DataVersion JSON
//	n      DataVersion JSON {"stateVersion","timestamp","counter"}
//	4      topic count
//	       per topic:
//	4        m: length of the topic text
//	m        "name readQueueNums writeQueueNums perm filterType [attributesJson]"
//	4      k: length of the filter server list JSON
//	k      filter server list JSON array
//	4      static-topic mapping count (5.x; EncodeRegisterBody writes 0)
//	...    per mapping: int32 length + TopicQueueMappingInfo JSON (ignored)
//
// The text form has no topicSysFlag and no order (a NameServer sees them as
// 0 and false, as Java's does). A 4.x NameServer accepts exactly five text
// fields and stops reading after the filter list; a 5.x NameServer accepts
// five or more and reads the mapping count only from brokers that declare
// version 5.0.0 or later. So the encoder writes five fields and a zero
// mapping count, which every version accepts; the decoder accepts both.

// ErrRegisterBody is wrapped by DecodeRegisterBody failures.
var ErrRegisterBody = errors.New("body: malformed register-broker body")

// registerInflatedBytesMax bounds the inflated size of a compressed body. A
// frame is at most 16 MiB; topic text compresses 5 to 10 times, so only a
// zip bomb reaches this.
const registerInflatedBytesMax = 64 << 20

// topicTextFields is the field count of a topic text without attributes:
// name read write perm filterType.
const topicTextFields = 5

// EncodeRegisterBody encodes rb as the compressed REGISTER_BROKER body. The
// topics are written in name order, so equal tables give equal bodies;
// their attributes are left out (see the format above). Compression uses
// zlib's default level: BestCompression (Java's choice) takes about three
// times as long for a body a few percent smaller. rb is not modified; the
// result is new. Safe from any goroutine.
func EncodeRegisterBody(rb *RegisterBrokerBody) []byte {
	w := &rb.TopicConfigSerializeWrapper
	names := slices.Sorted(maps.Keys(w.TopicConfigTable))
	raw := make([]byte, 0, 64+len(names)*48)
	raw = appendChunk(raw, EncodeJSON(w.DataVersion))
	raw = binary.BigEndian.AppendUint32(raw, uint32(len(names)))
	var text []byte
	for _, name := range names {
		tc := w.TopicConfigTable[name]
		text = append(text[:0], name...)
		for _, n := range []int32{tc.ReadQueueNums, tc.WriteQueueNums, tc.Perm} {
			text = strconv.AppendInt(append(text, ' '), int64(n), 10)
		}
		text = append(append(text, ' '), topicFilterType(tc.TopicFilterType)...)
		raw = appendChunk(raw, text)
	}
	raw = appendChunk(raw, EncodeJSON(orEmptySlice(rb.FilterServerList)))
	raw = binary.BigEndian.AppendUint32(raw, 0) // no static-topic mappings

	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	// Writes to a bytes.Buffer cannot fail.
	_, _ = zw.Write(raw)
	_ = zw.Close()
	return z.Bytes()
}

// topicFilterType is Java's TopicFilterType name; an empty one is the
// default SINGLE_TAG (Java's valueOf would reject the empty string).
func topicFilterType(s string) string {
	if s == "" {
		return "SINGLE_TAG"
	}
	return s
}

func appendChunk(dst, b []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(b)))
	return append(dst, b...)
}

// DecodeRegisterBody decodes a REGISTER_BROKER body: JSON, or with
// compressed the zlib form above. An empty body is a body without a topic
// table (TopicConfigTable nil). Errors wrap ErrRegisterBody (and ErrJSON
// for the JSON form). b is not retained. Safe from any goroutine; it never
// panics.
func DecodeRegisterBody(b []byte, compressed bool) (RegisterBrokerBody, error) {
	return decodeRegisterBody(b, compressed, registerInflatedBytesMax)
}

// decodeRegisterBody is DecodeRegisterBody with the inflated size bound
// given (tests use a small one).
func decodeRegisterBody(b []byte, compressed bool, inflatedMax int) (RegisterBrokerBody, error) {
	var rb RegisterBrokerBody
	if len(b) == 0 {
		return rb, nil
	}
	if !compressed {
		if err := DecodeJSON(b, &rb); err != nil {
			return rb, fmt.Errorf("%w: %w", ErrRegisterBody, err)
		}
		return rb, nil
	}
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return rb, fmt.Errorf("%w: %w", ErrRegisterBody, err)
	}
	raw, err := io.ReadAll(io.LimitReader(zr, int64(inflatedMax)+1))
	if err != nil {
		return rb, fmt.Errorf("%w: %w", ErrRegisterBody, err)
	}
	if len(raw) > inflatedMax {
		return rb, fmt.Errorf("%w: inflates beyond %d bytes", ErrRegisterBody, inflatedMax)
	}
	r := sectionReader{b: raw}

	w := &rb.TopicConfigSerializeWrapper
	dv, err := r.chunk("dataVersion")
	if err != nil {
		return rb, err
	}
	if err := DecodeJSON(dv, &w.DataVersion); err != nil {
		return rb, fmt.Errorf("%w: dataVersion: %w", ErrRegisterBody, err)
	}
	count, err := r.int32("topic count")
	if err != nil {
		return rb, err
	}
	// Every topic takes at least its 4-byte length, so a count the data
	// cannot hold is rejected before anything is allocated for it.
	if count < 0 || int(count) > r.remaining()/4 {
		return rb, fmt.Errorf("%w: topic count %d", ErrRegisterBody, count)
	}
	w.TopicConfigTable = make(map[string]TopicConfig, count)
	for range count {
		text, err := r.chunk("topic config")
		if err != nil {
			return rb, err
		}
		tc, err := parseTopicText(string(text))
		if err != nil {
			return rb, err
		}
		w.TopicConfigTable[tc.TopicName] = tc
	}
	filters, err := r.chunk("filter server list")
	if err != nil {
		return rb, err
	}
	if err := DecodeJSON(filters, &rb.FilterServerList); err != nil {
		return rb, fmt.Errorf("%w: filter server list: %w", ErrRegisterBody, err)
	}
	// The static-topic mappings of 5.x brokers, if any, follow; the
	// NameServer does not serve static topics, so they are not read.
	return rb, nil
}

// parseTopicText parses "name read write perm filterType [attributesJson]".
// As in Java, attributes that are empty (5.x writes a separator before
// them even when there are none) or do not parse are dropped, not an
// error: no NameServer uses them.
func parseTopicText(s string) (TopicConfig, error) {
	var tc TopicConfig
	parts := strings.SplitN(s, " ", topicTextFields+1)
	if len(parts) < topicTextFields || parts[0] == "" {
		return tc, fmt.Errorf("%w: topic config %q", ErrRegisterBody, s)
	}
	var nums [3]int32
	for i, p := range parts[1:4] {
		n, err := strconv.ParseInt(p, 10, 32)
		if err != nil {
			return tc, fmt.Errorf("%w: topic config %q", ErrRegisterBody, s)
		}
		nums[i] = int32(n)
	}
	tc = TopicConfig{
		TopicName: parts[0], ReadQueueNums: nums[0], WriteQueueNums: nums[1], Perm: nums[2],
		TopicFilterType: parts[4],
	}
	if len(parts) > topicTextFields && parts[5] != "" {
		var attrs map[string]string
		if DecodeJSON([]byte(parts[5]), &attrs) == nil {
			tc.Attributes = attrs
		}
	}
	return tc, nil
}

// sectionReader walks the inflated body: big-endian int32 lengths and counts.
type sectionReader struct {
	b   []byte
	off int
}

func (r *sectionReader) remaining() int { return len(r.b) - r.off }

func (r *sectionReader) int32(what string) (int32, error) {
	if r.remaining() < 4 {
		return 0, fmt.Errorf("%w: truncated at %s", ErrRegisterBody, what)
	}
	n := int32(binary.BigEndian.Uint32(r.b[r.off:]))
	r.off += 4
	return n, nil
}

func (r *sectionReader) chunk(what string) ([]byte, error) {
	n, err := r.int32(what)
	if err != nil {
		return nil, err
	}
	if n < 0 || int(n) > r.remaining() {
		return nil, fmt.Errorf("%w: %s length %d", ErrRegisterBody, what, n)
	}
	c := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return c, nil
}
