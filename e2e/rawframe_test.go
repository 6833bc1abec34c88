package e2e

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"time"
)

// A minimal, independent remoting codec (JSON headers only) so the tests do
// not trust the product's own codec to check the product.

type rawRequest struct {
	code int
	ext  map[string]string
	body []byte
}

type rawResponse struct {
	code   int
	opaque int
	flag   int
	remark string
	ext    map[string]string
	body   []byte
}

func encodeRawFrame(req rawRequest, opaque int) []byte {
	header, err := json.Marshal(map[string]any{
		"code": req.code, "language": "GO", "version": 317, "opaque": opaque,
		"flag": 0, "remark": "", "extFields": req.ext,
	})
	if err != nil {
		panic(err)
	}
	frame := make([]byte, 8, 8+len(header)+len(req.body))
	binary.BigEndian.PutUint32(frame[0:4], uint32(4+len(header)+len(req.body)))
	binary.BigEndian.PutUint32(frame[4:8], uint32(len(header))) // serialize type 0 = JSON
	frame = append(frame, header...)
	return append(frame, req.body...)
}

func readRawFrame(r io.Reader) (rawResponse, error) {
	var prefix [8]byte
	if _, err := io.ReadFull(r, prefix[:]); err != nil {
		return rawResponse{}, err
	}
	length := int(binary.BigEndian.Uint32(prefix[0:4]))
	typeAndLen := binary.BigEndian.Uint32(prefix[4:8])
	if typeAndLen>>24 != 0 {
		return rawResponse{}, fmt.Errorf("response uses serialize type %d, want JSON", typeAndLen>>24)
	}
	headerLen := int(typeAndLen & 0xFFFFFF)
	if length < 4+headerLen || length > 64<<20 {
		return rawResponse{}, fmt.Errorf("bad response frame length %d header %d", length, headerLen)
	}
	rest := make([]byte, length-4)
	if _, err := io.ReadFull(r, rest); err != nil {
		return rawResponse{}, err
	}
	var h struct {
		Code      int               `json:"code"`
		Opaque    int               `json:"opaque"`
		Flag      int               `json:"flag"`
		Remark    string            `json:"remark"`
		ExtFields map[string]string `json:"extFields"` // must be all strings (Go client rule)
	}
	if err := json.Unmarshal(rest[:headerLen], &h); err != nil {
		return rawResponse{}, fmt.Errorf("response header %q: %w", rest[:headerLen], err)
	}
	return rawResponse{code: h.Code, opaque: h.Opaque, flag: h.Flag, remark: h.Remark, ext: h.ExtFields, body: rest[headerLen:]}, nil
}

// rawConn is one client connection speaking raw frames.
type rawConn struct {
	c      net.Conn
	opaque int
}

func dialRaw(addr string) (*rawConn, error) {
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		return nil, err
	}
	return &rawConn{c: c}, nil
}

// invoke writes one request and reads frames until its response arrives,
// skipping broker-initiated requests (e.g. NOTIFY_CONSUMER_IDS_CHANGED).
func (rc *rawConn) invoke(req rawRequest) (rawResponse, error) {
	rc.opaque++
	_ = rc.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := rc.c.Write(encodeRawFrame(req, rc.opaque)); err != nil {
		return rawResponse{}, err
	}
	for {
		resp, err := readRawFrame(rc.c)
		if err != nil {
			return rawResponse{}, err
		}
		if resp.flag&1 == 1 && resp.opaque == rc.opaque {
			return resp, nil
		}
	}
}

func (rc *rawConn) close() { rc.c.Close() }

func rawInvoke(addr string, req rawRequest) (rawResponse, error) {
	rc, err := dialRaw(addr)
	if err != nil {
		return rawResponse{}, err
	}
	defer rc.close()
	return rc.invoke(req)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
