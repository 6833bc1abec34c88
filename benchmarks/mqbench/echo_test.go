package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/actormq/actormq/wire/remoting"
)

// echoBroker answers every request as a stored send (SUCCESS unless told
// otherwise), reading only the opaque and flag of each header: a peer that
// costs the generator's benchmarks no allocation and little CPU, so
// -benchmem and profiles show the generator alone. It keeps no state
// between requests.
type echoBroker struct {
	echoAnswers
	ln net.Listener
	wg sync.WaitGroup

	mu       sync.Mutex
	requests []int64 // per connection: requests read (oneway included)
}

// echoAnswers is how an echoBroker answers.
type echoAnswers struct {
	code          int32 // of every answer
	remark        string
	silent        bool // read requests, answer none
	closeAfterOne bool // close each connection after its first request, unanswered
}

// startEcho answers SUCCESS on a loopback port until the test ends.
func startEcho(tb testing.TB) *echoBroker {
	return startEchoWith(tb, echoAnswers{code: remoting.RespSuccess})
}

// startEchoWith starts an echoBroker answering as a tells it.
func startEchoWith(tb testing.TB, a echoAnswers) *echoBroker {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	e := &echoBroker{echoAnswers: a, ln: ln}
	e.wg.Go(e.accept)
	tb.Cleanup(func() {
		_ = ln.Close()
		e.wg.Wait()
	})
	return e
}

func (e *echoBroker) addr() string { return e.ln.Addr().String() }

// total is the number of requests read so far over every connection.
func (e *echoBroker) total() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	var n int64
	for _, r := range e.requests {
		n += r
	}
	return n
}

func (e *echoBroker) accept() {
	var conns []net.Conn
	defer func() {
		for _, nc := range conns {
			_ = nc.Close()
		}
	}()
	for {
		nc, err := e.ln.Accept()
		if err != nil {
			return
		}
		conns = append(conns, nc)
		e.mu.Lock()
		e.requests = append(e.requests, 0)
		i := len(e.requests) - 1
		e.mu.Unlock()
		e.wg.Go(func() { e.serve(nc, i) })
	}
}

// serve answers the requests of one connection, writing the answers of
// everything read with one write each time the read buffer runs dry.
func (e *echoBroker) serve(nc net.Conn, i int) {
	defer nc.Close()
	enc := remoting.NewSendResponseEncoder("DefaultRegion", "true")
	resp := remoting.SendResponse{Code: e.code, Remark: e.remark, MsgID: []byte("7F00000100002A9F0000000000000000"), QueueOffset: 1}
	br := bufio.NewReaderSize(nc, 256<<10)
	var frame, out []byte
	for {
		opaque, flag, err := readRequest(br, &frame)
		if err != nil {
			return
		}
		e.mu.Lock()
		e.requests[i]++
		e.mu.Unlock()
		if e.closeAfterOne {
			return
		}
		if flag&remoting.FlagOneway == 0 && !e.silent {
			resp.Opaque = opaque
			out = enc.Append(out, &resp)
		}
		if br.Buffered() == 0 && len(out) > 0 {
			if _, err := nc.Write(out); err != nil {
				return
			}
			out = out[:0]
		}
	}
}

var errEchoHeader = errors.New("echo: header without opaque or flag")

// readRequest reads one frame into *frame and returns its opaque and flag.
func readRequest(br *bufio.Reader, frame *[]byte) (opaque, flag int32, err error) {
	prefix, err := br.Peek(4) // not a local array: that would escape into io.ReadFull
	if err != nil {
		return 0, 0, err
	}
	size, err := remoting.FrameLength(prefix, 0)
	if err != nil {
		return 0, 0, err
	}
	if cap(*frame) < size {
		*frame = make([]byte, size)
	}
	f := (*frame)[:size]
	if _, err := io.ReadFull(br, f); err != nil {
		return 0, 0, err
	}
	word := binary.BigEndian.Uint32(f[4:])
	header := f[8 : 8+word&remoting.HeaderBytesMax]
	if byte(word>>24) == remoting.SerializeRocketMQ {
		// code 2, language 1, version 2, opaque 4, flag 4 (wire doc §2.2)
		if len(header) < 13 {
			return 0, 0, errEchoHeader
		}
		return int32(binary.BigEndian.Uint32(header[5:])), int32(binary.BigEndian.Uint32(header[9:])), nil
	}
	opaque, ok1 := jsonInt(header, `"opaque":`)
	flag, ok2 := jsonInt(header, `"flag":`)
	if !ok1 || !ok2 {
		return 0, 0, errEchoHeader
	}
	return opaque, flag, nil
}

// jsonInt reads the non-negative integer after key in a JSON header.
func jsonInt(header []byte, key string) (int32, bool) {
	at := bytes.Index(header, []byte(key))
	if at < 0 {
		return 0, false
	}
	var n int32
	digits := 0
	for _, b := range header[at+len(key):] {
		if b < '0' || b > '9' {
			break
		}
		n = n*10 + int32(b-'0')
		digits++
	}
	return n, digits > 0
}
