package namesrv

import (
	"fmt"
	"hash/crc32"

	"github.com/actormq/actormq/wire/body"
)

// decodeRegisterBody decodes a REGISTER_BROKER body, JSON or (compressed)
// the zlib form of body.DecodeRegisterBody, and classifies its errors for
// the response code. An empty body means the broker sent no topic table at
// all (topics == nil).
func decodeRegisterBody(b []byte, compressed bool) (body.RegisterBrokerBody, error) {
	rb, err := body.DecodeRegisterBody(b, compressed)
	switch {
	case err == nil:
		return rb, nil
	case compressed:
		return rb, fmt.Errorf("%w: %w", ErrCompressedBody, err)
	default:
		return rb, fmt.Errorf("%w: %w", ErrBadBody, err)
	}
}

// crcMatches reports whether want (bodyCrc32, non-zero) matches b. Java's
// UtilAll.crc32 (CRC-32 IEEE with the sign bit cleared) is the reference;
// the unmasked checksum is accepted too so that a peer that forgot the mask
// is not locked out.
func crcMatches(b []byte, want int32) bool {
	sum := crc32.ChecksumIEEE(b)
	return want == int32(sum&0x7FFFFFFF) || want == int32(sum)
}
