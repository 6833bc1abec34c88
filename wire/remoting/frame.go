package remoting

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// FrameBytesMaxDefault is Java's frame limit (length field included).
const FrameBytesMaxDefault = 16 << 20

// HeaderBytesMax is the largest header the 24-bit headerLen field can carry.
const HeaderBytesMax = 1<<24 - 1

// frameHeadBytes is the length prefix plus the serializeType/headerLen word.
const frameHeadBytes = 8

// ErrFrame is wrapped by every framing/header decode failure. A connection
// that produced one is closed.
var ErrFrame = errors.New("remoting: malformed frame")

// errHeaderTooLargeRemark replaces the remark of a command whose encoded
// header does not fit in 24 bits (see AppendFrameHead).
const errHeaderTooLargeRemark = "remoting: encoded header exceeds 16 MiB, extFields dropped"

// FrameLength reads the 4-byte big-endian length prefix and returns the total
// frame size including the prefix. It fails with ErrFrame when prefix is
// shorter than 4 bytes, when the declared length is below 4 (no room for the
// type word) or when the total exceeds frameBytesMax (<= 0 means
// FrameBytesMaxDefault).
//
// It only reads prefix; safe for concurrent use.
func FrameLength(prefix []byte, frameBytesMax int) (int, error) {
	if frameBytesMax <= 0 {
		frameBytesMax = FrameBytesMaxDefault
	}
	if len(prefix) < 4 {
		return 0, fmt.Errorf("%w: length prefix needs 4 bytes, have %d", ErrFrame, len(prefix))
	}
	// int64 so that a length near 4 GiB cannot overflow int on 32-bit hosts.
	length := int64(binary.BigEndian.Uint32(prefix))
	if length < 4 {
		return 0, fmt.Errorf("%w: length %d is below the 4-byte type word", ErrFrame, length)
	}
	if total := length + 4; total > int64(frameBytesMax) {
		return 0, fmt.Errorf("%w: frame of %d bytes exceeds the %d-byte limit", ErrFrame, total, frameBytesMax)
	}
	return int(length) + 4, nil
}

// DecodeFrame decodes one whole frame (length prefix included): len(frame)
// must equal the prefix's length + 4. It copies everything it keeps (the body
// into a fresh slice, all header strings into one fresh string), so the
// caller may reuse frame as soon as it returns. Every failure wraps ErrFrame.
//
// Safe for concurrent use; the returned Command belongs to the caller.
func DecodeFrame(frame []byte) (*Command, error) {
	if len(frame) < frameHeadBytes {
		return nil, fmt.Errorf("%w: frame of %d bytes is shorter than the 8-byte head", ErrFrame, len(frame))
	}
	length := uint64(binary.BigEndian.Uint32(frame))
	if length+4 != uint64(len(frame)) {
		return nil, fmt.Errorf("%w: length prefix says %d bytes follow, frame has %d", ErrFrame, length, len(frame)-4)
	}
	typeWord := binary.BigEndian.Uint32(frame[4:])
	serializeType := byte(typeWord >> 24)
	headerLen := uint64(typeWord & HeaderBytesMax)
	if headerLen > length-4 {
		return nil, fmt.Errorf("%w: headerLen %d exceeds the %d bytes after the type word", ErrFrame, headerLen, length-4)
	}
	header := frame[frameHeadBytes : frameHeadBytes+headerLen]
	c := &Command{SerializeType: serializeType}
	var err error
	switch serializeType {
	case SerializeJSON:
		err = decodeJSONHeader(header, c)
	case SerializeRocketMQ:
		err = decodeBinaryHeader(header, c)
	default:
		err = fmt.Errorf("%w: unknown serializeType %d", ErrFrame, serializeType)
	}
	if err != nil {
		return nil, err
	}
	c.extDecoded = c.ExtFields != nil
	if body := frame[frameHeadBytes+headerLen:]; len(body) > 0 {
		c.Body = append([]byte(nil), body...)
	}
	return c, nil
}

// AppendFrame appends the whole encoded frame of c (header codec chosen by
// c.SerializeType) to dst and returns the extended slice. See
// AppendFrameHead for the header rules.
//
// It reads c and never retains it or dst; c must not be mutated concurrently.
func AppendFrame(dst []byte, c *Command) []byte {
	dst = AppendFrameHead(dst, c, len(c.Body))
	return append(dst, c.Body...)
}

// AppendFrameHead appends the length prefix, type word and header of c for a
// body of bodyLen bytes that the caller writes separately (zero-copy pull
// bodies); c.Body is ignored.
//
// Header codec: SerializeRocketMQ uses the binary codec when c fits it (code
// and version in int16, language in the table, keys up to 64 KiB); anything
// else, including a binary command that does not fit, is encoded as JSON,
// which every client decodes. An empty Language is written as "GO".
//
// AppendFrame cannot fail, so a header too large for the 24-bit headerLen
// (only possible with megabytes of extFields or remark) is replaced by a
// header with the same code, opaque and flag, no extFields and a remark that
// says so: the peer still gets an answer for its opaque instead of a
// corrupt frame. bodyLen must keep the frame below 4 GiB.
//
// It reads c and never retains it or dst; c must not be mutated concurrently.
func AppendFrameHead(dst []byte, c *Command, bodyLen int) []byte {
	return appendFrameHead(dst, c, nil, bodyLen)
}

// ExtField is one extFields entry for AppendFrameExt: Str, or the decimal
// text of Int when IsInt (still a string on the wire), so that a caller
// needs neither a map nor a formatted string per frame.
type ExtField struct {
	Key   string
	Str   string
	Int   int64
	IsInt bool
}

// AppendFrameExt appends the whole encoded frame of c, body included, as
// AppendFrame does, with the entries of ext added to c.ExtFields; ext must
// not repeat a key of c.ExtFields. It lets a hot path answer from a
// Command and ext array that live on its stack.
//
// It reads c and ext and never retains them or dst.
func AppendFrameExt(dst []byte, c *Command, ext []ExtField) []byte {
	dst = appendFrameHead(dst, c, ext, len(c.Body))
	return append(dst, c.Body...)
}

func appendFrameHead(dst []byte, c *Command, ext []ExtField, bodyLen int) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0)
	headerStart := len(dst)
	serializeType := SerializeJSON
	if c.SerializeType == SerializeRocketMQ && binaryEncodable(c, ext) {
		serializeType = SerializeRocketMQ
		dst = appendBinaryHeader(dst, c, ext)
	} else {
		dst = appendJSONHeader(dst, c, ext)
	}
	if len(dst)-headerStart > HeaderBytesMax {
		dst = dst[:headerStart]
		serializeType = SerializeJSON
		dst = appendJSONHeader(dst, &Command{
			Code:     c.Code,
			Language: c.Language,
			Version:  c.Version,
			Opaque:   c.Opaque,
			Flag:     c.Flag,
			Remark:   errHeaderTooLargeRemark,
		}, nil)
	}
	headerLen := len(dst) - headerStart
	binary.BigEndian.PutUint32(dst[start:], uint32(4+headerLen+bodyLen))
	binary.BigEndian.PutUint32(dst[start+4:], uint32(serializeType)<<24|uint32(headerLen))
	return dst
}
