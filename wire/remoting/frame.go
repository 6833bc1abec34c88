package remoting

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"
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
// must equal the prefix's length + 4. It copies everything it keeps, so the
// caller may reuse frame as soon as it returns: a send or pull request's
// header and body into one pooled buffer that lives until its owner calls
// Release (framepool.go), any other request's (and a send too large for the
// pool, frameClasses.Max()) body into a fresh slice and its header strings into
// one fresh string. Every failure wraps ErrFrame.
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
	body := frame[frameHeadBytes+headerLen:]
	c, err := decodeCommand(serializeType, header, body, pooledCode(peekCode(serializeType, header), len(body)))
	if err == nil && c.frame != nil && c.IsResponse() {
		// A response whose code is a send's or a pull's (FLUSH_DISK_TIMEOUT
		// is 10, SLAVE_NOT_AVAILABLE 11) took a pooled frame, but nobody
		// releases a response: the frame would be lost to the GC. The flag
		// is known only now (a JSON header may carry it after megabytes of
		// extFields), and such responses are rare, so it is decoded again
		// into plain memory. Rejected: scanning every pooled request's JSON
		// header for its flag first, a second pass on the hot path.
		c.Release()
		c, err = decodeCommand(serializeType, header, body, false)
	}
	return c, err
}

// decodeCommand decodes a frame's header and body into a Command, pooled
// (framepool.go) when pooled and the pool has a class large enough.
func decodeCommand(serializeType byte, header, body []byte, pooled bool) (*Command, error) {
	// A send's header and body live and die together (until the send is
	// answered), so they share one pooled buffer, sized for the header, the
	// JSON arena (at most the header again) and the body; a pull's header
	// lives until its handler returns (pooledCode). Other requests keep
	// header and body apart, since a handler may keep a header string far
	// longer than the body (a NameServer keeps a broker's name, not its
	// megabytes of topics).
	var c *Command
	var inline []byte
	if pooled {
		if c = newPooledCommand(2*len(header) + len(body)); c != nil && len(body) > 0 {
			inline = body
		}
	}
	if c == nil {
		c = &Command{}
	}
	c.SerializeType = serializeType
	var err error
	switch serializeType {
	case SerializeJSON:
		err = decodeJSONHeaderBody(header, inline, c)
	case SerializeRocketMQ:
		err = decodeBinaryHeaderBody(header, inline, c)
	default:
		err = fmt.Errorf("%w: unknown serializeType %d", ErrFrame, serializeType)
	}
	if err != nil {
		c.Release()
		return nil, err
	}
	c.extDecoded = c.ExtFields != nil
	if len(body) > 0 && c.Body == nil {
		c.Body = append([]byte(nil), body...)
	}
	return c, nil
}

// peekCode reads the request code without decoding the header: the binary
// codec's first field, or the JSON header's when it starts with "code", as
// every client writes it. 0 when it cannot tell; the decoders then find
// the code as usual.
func peekCode(serializeType byte, header []byte) int32 {
	if serializeType == SerializeRocketMQ {
		if len(header) < 2 {
			return 0
		}
		return int32(int16(binary.BigEndian.Uint16(header)))
	}
	const prefix = `{"code":`
	if !bytes.HasPrefix(header, []byte(prefix)) {
		return 0
	}
	var code int32
	for _, b := range header[len(prefix):min(len(header), len(prefix)+4)] {
		if b < '0' || b > '9' {
			break
		}
		code = code*10 + int32(b-'0')
	}
	return code
}

// headerCopy copies header, followed by room for an arena of arenaBytes and
// by body, into one buffer: c's pooled one (framepool.go), else a fresh
// allocation. It returns the header as a string (never written again while
// c lives), the empty arena (its capacity ends where the body starts, so
// growing it reallocates) and the body's copy (nil when body is).
func headerCopy(c *Command, header []byte, arenaBytes int, body []byte) (src string, arena, bodyCopy []byte) {
	if len(header) == 0 {
		return "", nil, append([]byte(nil), body...)[:len(body):len(body)]
	}
	hl := len(header)
	n := hl + arenaBytes + len(body)
	var buf []byte
	if f := c.frame; f != nil {
		buf = f.take(n)[:hl]
	} else {
		buf = make([]byte, hl, n)
	}
	copy(buf, header)
	if arenaBytes > 0 {
		arena = buf[hl : hl : hl+arenaBytes]
	}
	if body != nil {
		at := hl + arenaBytes
		bodyCopy = buf[at : at+len(body) : at+len(body)]
		copy(bodyCopy, body)
	}
	return unsafe.String(&buf[0], hl), arena, bodyCopy
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

// ExtField is one extFields entry for AppendFrameExt: Str, the decimal text
// of Int when IsInt (still a string on the wire), or Bytes when not nil, so
// that a caller needs neither a map nor a formatted string per frame (Bytes:
// text built in a scratch buffer, such as a message id).
type ExtField struct {
	Key   string
	Str   string
	Int   int64
	IsInt bool
	Bytes []byte
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

// AppendFrameHeadExt is AppendFrameHead with the entries of ext added to
// c.ExtFields, as AppendFrameExt adds them: the head of a frame whose bodyLen
// body bytes the caller writes separately (zero-copy pull answers), from a
// Command and ext array that can live on the caller's stack.
//
// It reads c and ext and never retains them or dst.
func AppendFrameHeadExt(dst []byte, c *Command, ext []ExtField, bodyLen int) []byte {
	return appendFrameHead(dst, c, ext, bodyLen)
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
