package main

import (
	"encoding/binary"
	"math"

	"github.com/actormq/actormq/wire/remoting"
)

// answer is what the generator needs of a response: its code, its opaque
// and, for a failure, the remark.
type answer struct {
	code, opaque int32
	remark       string
}

// readAnswer reads the response in frame (a whole frame, as netio's reader
// hands it over); false when frame is a request or does not decode. A
// SUCCESS in the layout actormq's broker writes, which is nearly every
// answer, is read in place (scanAnswer); anything else, failures with
// their remark included, is decoded whole. Rejected: decoding every answer
// into a Command, whose header map and strings the generator would throw
// away at once.
func readAnswer(frame []byte) (answer, bool) {
	if code, opaque, flag, ok := scanAnswer(frame); ok && code == remoting.RespSuccess {
		return answer{code: code, opaque: opaque}, flag&remoting.FlagResponse != 0
	}
	cmd, err := remoting.DecodeFrame(frame)
	if err != nil || !cmd.IsResponse() {
		return answer{}, false
	}
	a := answer{code: cmd.Code, opaque: cmd.Opaque, remark: cmd.Remark}
	cmd.ReleaseExt()
	return a, true
}

// scanAnswer reads code, opaque and flag from frame's header without
// decoding it: the fixed leading fields of the binary codec, or a JSON
// header that starts {"code":N,"language":"L","version":N,"opaque":N,
// "flag":N as actormq's encoders write it. ok is false for anything else
// (Java's alphabetical keys, spaces, numeric languages), which the full
// decoder then reads; the fields it reads here are top-level ones by their
// position, never keys inside extFields or a remark.
func scanAnswer(frame []byte) (code, opaque, flag int32, ok bool) {
	if len(frame) < 8 {
		return 0, 0, 0, false
	}
	word := binary.BigEndian.Uint32(frame[4:])
	headerLen := int(word & remoting.HeaderBytesMax)
	if headerLen > len(frame)-8 {
		return 0, 0, 0, false
	}
	h := frame[8 : 8+headerLen]
	switch byte(word >> 24) {
	case remoting.SerializeRocketMQ:
		// code int16, language byte, version int16, opaque int32, flag
		// int32 (wire-protocol.md §2.2)
		if len(h) < 13 {
			return 0, 0, 0, false
		}
		be := binary.BigEndian
		return int32(int16(be.Uint16(h))), int32(be.Uint32(h[5:])), int32(be.Uint32(h[9:])), true
	case remoting.SerializeJSON:
		if h, ok = cutPrefix(h, `{"code":`); !ok {
			return 0, 0, 0, false
		}
		if code, h, ok = jsonInt32(h); !ok {
			return 0, 0, 0, false
		}
		if h, ok = cutPrefix(h, `,"language":"`); !ok {
			return 0, 0, 0, false
		}
		if h, ok = skipPlainString(h); !ok {
			return 0, 0, 0, false
		}
		if h, ok = cutPrefix(h, `,"version":`); !ok {
			return 0, 0, 0, false
		}
		if _, h, ok = jsonInt32(h); !ok {
			return 0, 0, 0, false
		}
		if h, ok = cutPrefix(h, `,"opaque":`); !ok {
			return 0, 0, 0, false
		}
		if opaque, h, ok = jsonInt32(h); !ok {
			return 0, 0, 0, false
		}
		if h, ok = cutPrefix(h, `,"flag":`); !ok {
			return 0, 0, 0, false
		}
		if flag, h, ok = jsonInt32(h); !ok || len(h) == 0 || (h[0] != ',' && h[0] != '}') {
			return 0, 0, 0, false
		}
		return code, opaque, flag, true
	}
	return 0, 0, 0, false
}

func cutPrefix(h []byte, prefix string) ([]byte, bool) {
	if len(h) < len(prefix) || string(h[:len(prefix)]) != prefix {
		return nil, false
	}
	return h[len(prefix):], true
}

// skipPlainString skips the rest of a JSON string without escapes and its
// closing quote.
func skipPlainString(h []byte) ([]byte, bool) {
	for i, b := range h {
		switch {
		case b == '"':
			return h[i+1:], true
		case b == '\\' || b < 0x20 || b >= 0x80:
			return nil, false
		}
	}
	return nil, false
}

// jsonInt32 reads a JSON integer (optional minus, no leading zeros) that
// fits int32 from the start of h.
func jsonInt32(h []byte) (int32, []byte, bool) {
	neg := len(h) > 0 && h[0] == '-'
	if neg {
		h = h[1:]
	}
	n, digits := int64(0), 0
	for digits < len(h) && h[digits] >= '0' && h[digits] <= '9' {
		n = n*10 + int64(h[digits]-'0')
		digits++
		if n > math.MaxInt32+1 {
			return 0, nil, false
		}
	}
	if digits == 0 || (digits > 1 && h[0] == '0') {
		return 0, nil, false
	}
	if neg {
		n = -n
	}
	if n > math.MaxInt32 || n < math.MinInt32 {
		return 0, nil, false
	}
	return int32(n), h[digits:], true
}
