package main

import (
	"encoding/binary"
	"strconv"
	"time"
	"unsafe"

	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// requestEncoder writes the generator's send requests straight into the
// caller's buffer: SEND_MESSAGE_V2 (310) or, with --batch > 1,
// SEND_BATCH_MESSAGE (320), with the V2 short header keys a…m
// (wire-protocol.md §6.1) in the --header codec. Single messages carry a
// UNIQ_KEY as clients set it; batch items carry none, as the Go client
// sends them. The header's fields live in a fixed array and the properties
// and bodies in scratch buffers the encoder reuses, so a request costs no
// allocation; it writes in key order what a map-built Command encodes in
// map order (TestRequestFrames). One per sender: it is not safe for
// concurrent use.
type requestEncoder struct {
	opts   *producerOpts
	uniq   string // UNIQ_KEY prefix
	cmd    remoting.Command
	ext    [13]remoting.ExtField
	body   []byte // a -s byte body
	props  []byte // scratch: one message's properties
	batch  []byte // scratch: a batch body
	stamp  []byte // scratch: body with the send time (e2e, mixed)
	stamps bool
}

// Fields of ext that change per request.
const (
	extTopic      = 1
	extQueueID    = 4
	extBorn       = 6
	extProperties = 8
	extBatch      = 12
)

func newRequestEncoder(o *producerOpts, uniq string) *requestEncoder {
	e := &requestEncoder{opts: o, uniq: uniq, stamps: o.stamp}
	e.cmd = remoting.Command{Code: remoting.ReqSendMessageV2, Language: remoting.LanguageGo, Version: remoting.Version}
	if o.batch > 1 {
		e.cmd.Code = remoting.ReqSendBatchMessage
	}
	if o.header == "rocketmq" {
		e.cmd.SerializeType = remoting.SerializeRocketMQ
	}
	if o.mode == modeOneway {
		e.cmd.Flag = remoting.FlagOneway
	}
	e.ext = [13]remoting.ExtField{
		{Key: "a", Str: "mqbench_pg"}, {Key: "b"}, {Key: "c", Str: "TBW102"}, {Key: "d", Str: "4"},
		{Key: "e", IsInt: true}, {Key: "f", Str: "0"}, {Key: "g", IsInt: true}, {Key: "h", Str: "0"},
		{Key: "i"}, {Key: "j", Str: "0"}, {Key: "k", Str: "false"}, {Key: "l", Str: "0"}, {Key: "m", Str: "false"},
	}
	if o.batch > 1 {
		e.ext[extBatch].Str = "true"
	}
	e.body = make([]byte, o.size)
	for i := range e.body {
		e.body[i] = 'a' + byte(i%26)
	}
	return e
}

// append appends the frame of request seq (its messages are seq, or
// seq×batch … seq×batch+batch−1) to queue q with opaque, born at now.
func (e *requestEncoder) append(dst []byte, q queueRef, seq uint64, opaque int32, now time.Time) []byte {
	e.ext[extTopic].Str = q.topic
	e.ext[extQueueID].Int = int64(q.queueID)
	e.ext[extBorn].Int = now.UnixMilli()
	body := e.stamped(now)
	if e.opts.batch == 1 {
		e.props = e.properties(e.props[:0], seq, true, false)
		e.ext[extProperties].Bytes = e.props
		e.cmd.Body = body
	} else {
		e.batch = e.batch[:0]
		for i := range uint64(e.opts.batch) {
			e.props = e.properties(e.props[:0], seq*uint64(e.opts.batch)+i, e.opts.batchUniq, e.opts.batchUniq)
			// The string view of the scratch properties lives only during
			// the call, which copies it: no allocation per item.
			props := unsafe.String(unsafe.SliceData(e.props), len(e.props))
			e.batch = message.AppendBatchItem(e.batch, message.BatchItem{Body: body, Properties: props})
		}
		e.cmd.Body = e.batch
	}
	e.cmd.Opaque = opaque
	dst = remoting.AppendFrameExt(dst, &e.cmd, e.ext[:])
	e.cmd.Body = nil
	return dst
}

// stamped is the body to send at now: with --stamp, the marker and now
// over the start of the body.
func (e *requestEncoder) stamped(now time.Time) []byte {
	if !e.stamps {
		return e.body
	}
	e.stamp = append(e.stamp[:0], e.body...)
	copy(e.stamp, stampMarker[:])
	binary.BigEndian.PutUint64(e.stamp[8:], uint64(now.UnixNano()))
	return e.stamp
}

// properties appends message seq's properties as message.FormatProperties
// writes them: sorted by key (KEYS, TAGS, UNIQ_KEY, WAIT), each followed by
// the separators.
func (e *requestEncoder) properties(dst []byte, seq uint64, uniq, wait bool) []byte {
	if e.opts.keys {
		dst = append(dst, message.PropertyKeys...)
		dst = append(dst, message.NameValueSeparator, 'k')
		dst = strconv.AppendUint(dst, seq, 10)
		dst = append(dst, message.PropertySeparator)
	}
	if e.opts.tags != "" {
		dst = append(dst, message.PropertyTags...)
		dst = append(dst, message.NameValueSeparator)
		dst = append(dst, e.opts.tags...)
		dst = append(dst, message.PropertySeparator)
	}
	if uniq {
		dst = append(dst, message.PropertyUniqKey...)
		dst = append(dst, message.NameValueSeparator)
		dst = append(dst, e.uniq...)
		dst = appendHex12(dst, seq)
		dst = append(dst, message.PropertySeparator)
	}
	if wait {
		dst = append(dst, message.PropertyWait...)
		dst = append(dst, message.NameValueSeparator)
		dst = append(dst, "true"...)
		dst = append(dst, message.PropertySeparator)
	}
	return dst
}

// appendHex12 appends v as lower-case hex, zero-padded to 12 digits
// (fmt's %012x).
func appendHex12(dst []byte, v uint64) []byte {
	var digits [16]byte
	hex := strconv.AppendUint(digits[:0], v, 16)
	for range 12 - len(hex) {
		dst = append(dst, '0')
	}
	return append(dst, hex...)
}
