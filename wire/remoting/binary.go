package remoting

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// The ROCKETMQ binary header codec (serializeType 1, wire doc §2.2):
//
//	offset  size  field
//	0       2     code (int16)
//	2       1     language code (byte, LanguageCode table §2.4)
//	3       2     version (int16)
//	5       4     opaque (int32)
//	9       4     flag (int32)
//	13      4     remark length R (0 = null/empty)
//	17      R     remark bytes
//	17+R    4     extFields length E (0 = none)
//	21+R    E     repeated: key length (2), key, value length (4), value
//
// Strings are raw bytes (UTF-8 by convention); the decoder keeps them as they
// are. Bytes after the extFields block are ignored, as Java ignores them.

// binaryFixedBytes is the header size with an empty remark and no extFields.
const binaryFixedBytes = 21

// extFieldsSizeHint sizes the map for the binary decoder, which cannot
// cheaply count entries: it covers a SEND_MESSAGE_V2 header (a..k plus a
// few), so the busiest request never regrows the map.
const extFieldsSizeHint = 16

// decodeBinaryHeader fills c from a binary-codec header. Every length is
// checked against the bytes left before it is used, so truncated or hostile
// input fails with ErrFrame and never allocates more than the header size.
func decodeBinaryHeader(header []byte, c *Command) error {
	return decodeBinaryHeaderBody(header, nil, c)
}

// decodeBinaryHeaderBody is decodeBinaryHeader that also copies body, when
// not nil, into the header's allocation and sets c.Body to it (DecodeFrame).
// The header copy goes into c's pooled frame when it has one.
func decodeBinaryHeaderBody(header, body []byte, c *Command) error {
	if len(header) < binaryFixedBytes {
		return fmt.Errorf("%w: binary header of %d bytes is shorter than %d", ErrFrame, len(header), binaryFixedBytes)
	}
	be := binary.BigEndian
	c.Code = int32(int16(be.Uint16(header[0:])))
	c.Language = LanguageName(header[2])
	c.Version = int32(int16(be.Uint16(header[3:])))
	c.Opaque = int32(be.Uint32(header[5:]))
	c.Flag = int32(be.Uint32(header[9:]))

	// One copy of the header; remark, keys and values are substrings of it.
	var src string
	if body != nil || c.frame != nil {
		src, _, c.Body = headerCopy(c, header, 0, body)
	} else {
		src = string(header)
	}
	pos := 13
	remarkLen := uint64(be.Uint32(header[pos:]))
	pos += 4
	if remarkLen > uint64(len(header)-pos-4) {
		return fmt.Errorf("%w: binary header: remark length %d exceeds the %d bytes left", ErrFrame, remarkLen, len(header)-pos-4)
	}
	c.Remark = src[pos : pos+int(remarkLen)]
	pos += int(remarkLen)
	extLen := uint64(be.Uint32(header[pos:]))
	pos += 4
	if extLen > uint64(len(header)-pos) {
		return fmt.Errorf("%w: binary header: extFields length %d exceeds the %d bytes left", ErrFrame, extLen, len(header)-pos)
	}
	if extLen == 0 {
		return nil
	}
	end := pos + int(extLen)
	if keys := sendKeysFor(c.Code); keys != nil {
		sh, ok, err := decodeBinarySendExt(keys, header, src, pos, end)
		if err != nil {
			return err
		}
		if ok {
			c.send = sh
			return nil
		}
	}
	c.ExtFields = newExtFields(extFieldsSizeHint)
	for pos < end {
		key, value, next, err := binaryEntry(header, src, pos, end)
		if err != nil {
			return err
		}
		c.ExtFields[key] = value
		pos = next
	}
	return nil
}

// decodeBinarySendExt decodes the extFields block header[pos:end] into a
// sendExt of keys (sendext.go). ok is false, with nothing kept, when a key
// is not one of keys; the caller then decodes the block into a map.
func decodeBinarySendExt(keys *sendKeys, header []byte, src string, pos, end int) (*sendExt, bool, error) {
	sh := newSendExt(keys)
	for pos < end {
		key, value, next, err := binaryEntry(header, src, pos, end)
		if err != nil {
			sh.release()
			return nil, false, err
		}
		i, ok := keys.index(key)
		if !ok {
			sh.release()
			return nil, false, nil
		}
		sh.put(i, value)
		pos = next
	}
	return sh, true, nil
}

// binaryEntry reads the extFields entry at header[pos:] of a block that ends
// at end; key and value are substrings of src, the header's copy.
func binaryEntry(header []byte, src string, pos, end int) (key, value string, next int, err error) {
	be := binary.BigEndian
	if end-pos < 2 {
		return "", "", 0, fmt.Errorf("%w: binary header: extFields entry at %d cut in its key length", ErrFrame, pos)
	}
	keyLen := int(be.Uint16(header[pos:]))
	pos += 2
	if keyLen > end-pos {
		return "", "", 0, fmt.Errorf("%w: binary header: key length %d exceeds the %d extFields bytes left", ErrFrame, keyLen, end-pos)
	}
	key = src[pos : pos+keyLen]
	pos += keyLen
	if end-pos < 4 {
		return "", "", 0, fmt.Errorf("%w: binary header: extFields entry %q cut in its value length", ErrFrame, key)
	}
	valueLen := uint64(be.Uint32(header[pos:]))
	pos += 4
	if valueLen > uint64(end-pos) {
		return "", "", 0, fmt.Errorf("%w: binary header: value length %d of %q exceeds the %d extFields bytes left", ErrFrame, valueLen, key, end-pos)
	}
	return key, src[pos : pos+int(valueLen)], pos + int(valueLen), nil
}

// binaryEncodable reports whether c fits the binary codec: code and version
// in int16, a language LanguageCode knows, keys shorter than 64 KiB. (Sizes
// beyond the 24-bit header are handled by AppendFrameHead for both codecs.)
func binaryEncodable(c *Command, ext []ExtField) bool {
	if c.Code < math.MinInt16 || c.Code > math.MaxInt16 || c.Version < math.MinInt16 || c.Version > math.MaxInt16 {
		return false
	}
	if _, ok := LanguageCode(c.Language); !ok {
		return false
	}
	for k := range c.ExtFields {
		if len(k) > math.MaxUint16 {
			return false
		}
	}
	for _, f := range ext {
		if len(f.Key) > math.MaxUint16 {
			return false
		}
	}
	return true
}

// appendBinaryHeader appends c's header in the binary codec. The caller has
// checked binaryEncodable. extFields entries come in Go map order, followed
// by the fields of a decoded send header (sendext.go) and the entries of
// ext.
func appendBinaryHeader(dst []byte, c *Command, ext []ExtField) []byte {
	be := binary.BigEndian
	language, _ := LanguageCode(c.Language)
	dst = be.AppendUint16(dst, uint16(c.Code))
	dst = append(dst, language)
	dst = be.AppendUint16(dst, uint16(c.Version))
	dst = be.AppendUint32(dst, uint32(c.Opaque))
	dst = be.AppendUint32(dst, uint32(c.Flag))
	dst = be.AppendUint32(dst, uint32(len(c.Remark)))
	dst = append(dst, c.Remark...)
	extLenAt := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	for k, v := range c.ExtFields {
		dst = be.AppendUint16(dst, uint16(len(k)))
		dst = append(dst, k...)
		dst = be.AppendUint32(dst, uint32(len(v)))
		dst = append(dst, v...)
	}
	if sh := c.send; sh != nil {
		for i, v := range sh.vals {
			if sh.set&(1<<i) != 0 {
				k := sh.keys.names[i]
				dst = be.AppendUint16(dst, uint16(len(k)))
				dst = append(dst, k...)
				dst = be.AppendUint32(dst, uint32(len(v)))
				dst = append(dst, v...)
			}
		}
	}
	for _, f := range ext {
		dst = be.AppendUint16(dst, uint16(len(f.Key)))
		dst = append(dst, f.Key...)
		valueLenAt := len(dst)
		dst = append(dst, 0, 0, 0, 0)
		switch {
		case f.IsInt:
			dst = strconv.AppendInt(dst, f.Int, 10)
		case f.Bytes != nil:
			dst = append(dst, f.Bytes...)
		default:
			dst = append(dst, f.Str...)
		}
		be.PutUint32(dst[valueLenAt:], uint32(len(dst)-valueLenAt-4))
	}
	be.PutUint32(dst[extLenAt:], uint32(len(dst)-extLenAt-4))
	return dst
}
