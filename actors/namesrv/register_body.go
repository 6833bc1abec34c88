package namesrv

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
	"strings"

	"github.com/actormq/actormq/wire/body"
)

// compressedBodyBytesMax bounds the inflated size of a compressed
// REGISTER_BROKER body. A frame is at most 16 MiB; a few MiB of topic text
// inflates far less than this, so only a zip bomb reaches it.
const compressedBodyBytesMax = 64 << 20

// topicTextFieldsMin is the field count of a compressed TopicConfig line
// without attributes: name read write perm filterType.
const topicTextFieldsMin = 5

// decodeRegisterBody decodes a REGISTER_BROKER body, JSON or (compressed)
// the zlib stream documented in the package comment. An empty body means
// the broker sent no topic table at all (topics == nil).
func decodeRegisterBody(b []byte, compressed bool) (body.RegisterBrokerBody, error) {
	var rb body.RegisterBrokerBody
	if len(b) == 0 {
		return rb, nil
	}
	if !compressed {
		if err := body.DecodeJSON(b, &rb); err != nil {
			return rb, fmt.Errorf("%w: %w", ErrBadBody, err)
		}
		return rb, nil
	}
	return decodeCompressedRegisterBody(b)
}

func decodeCompressedRegisterBody(b []byte) (body.RegisterBrokerBody, error) {
	var rb body.RegisterBrokerBody
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return rb, fmt.Errorf("%w: %w", ErrCompressedBody, err)
	}
	raw, err := io.ReadAll(io.LimitReader(zr, compressedBodyBytesMax+1))
	if err != nil {
		return rb, fmt.Errorf("%w: %w", ErrCompressedBody, err)
	}
	if len(raw) > compressedBodyBytesMax {
		return rb, fmt.Errorf("%w: inflates beyond %d bytes", ErrCompressedBody, compressedBodyBytesMax)
	}
	r := sectionReader{b: raw}

	wrapper := &rb.TopicConfigSerializeWrapper
	dv, err := r.chunk("dataVersion")
	if err != nil {
		return rb, err
	}
	if err := body.DecodeJSON(dv, &wrapper.DataVersion); err != nil {
		return rb, fmt.Errorf("%w: dataVersion: %w", ErrCompressedBody, err)
	}
	count, err := r.int32("topic count")
	if err != nil {
		return rb, err
	}
	// Every topic takes at least its 4-byte length, so a count the data
	// cannot hold is rejected before anything is allocated for it.
	if count < 0 || int(count) > r.remaining()/4 {
		return rb, fmt.Errorf("%w: topic count %d", ErrCompressedBody, count)
	}
	wrapper.TopicConfigTable = make(map[string]body.TopicConfig, count)
	for i := int32(0); i < count; i++ {
		text, err := r.chunk("topic config")
		if err != nil {
			return rb, err
		}
		tc, err := parseTopicText(string(text))
		if err != nil {
			return rb, err
		}
		wrapper.TopicConfigTable[tc.TopicName] = tc
	}
	filters, err := r.chunk("filter server list")
	if err != nil {
		return rb, err
	}
	if err := body.DecodeJSON(filters, &rb.FilterServerList); err != nil {
		return rb, fmt.Errorf("%w: filter server list: %w", ErrCompressedBody, err)
	}
	// 5.x brokers append static-topic mapping entries here; the NameServer
	// does not serve static topics, so the rest is ignored.
	return rb, nil
}

// parseTopicText parses "name read write perm filterType [attributesJson]".
// The text form carries neither topicSysFlag nor order; they stay zero.
func parseTopicText(s string) (body.TopicConfig, error) {
	var tc body.TopicConfig
	parts := strings.SplitN(s, " ", topicTextFieldsMin+1)
	if len(parts) < topicTextFieldsMin || parts[0] == "" {
		return tc, fmt.Errorf("%w: topic config %q", ErrCompressedBody, s)
	}
	nums := make([]int32, 3)
	for i, p := range parts[1:4] {
		n, err := strconv.ParseInt(p, 10, 32)
		if err != nil {
			return tc, fmt.Errorf("%w: topic config %q", ErrCompressedBody, s)
		}
		nums[i] = int32(n)
	}
	tc = body.TopicConfig{
		TopicName: parts[0], ReadQueueNums: nums[0], WriteQueueNums: nums[1], Perm: nums[2],
		TopicFilterType: parts[4],
	}
	if len(parts) > topicTextFieldsMin {
		if err := body.DecodeJSON([]byte(parts[5]), &tc.Attributes); err != nil {
			return tc, fmt.Errorf("%w: topic %s attributes: %w", ErrCompressedBody, tc.TopicName, err)
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
		return 0, fmt.Errorf("%w: truncated at %s", ErrCompressedBody, what)
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
		return nil, fmt.Errorf("%w: %s length %d", ErrCompressedBody, what, n)
	}
	c := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return c, nil
}

// crcMatches reports whether want (bodyCrc32, non-zero) matches b. Java's
// UtilAll.crc32 (CRC-32 IEEE with the sign bit cleared) is the reference;
// the unmasked checksum is accepted too so that a peer that forgot the mask
// is not locked out.
func crcMatches(b []byte, want int32) bool {
	sum := crc32.ChecksumIEEE(b)
	return want == int32(sum&0x7FFFFFFF) || want == int32(sum)
}
