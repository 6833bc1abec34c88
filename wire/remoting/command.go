// Package remoting owns the RocketMQ remoting frame: the 4-byte length, the
// serialize-type/header-length word, the header (JSON or ROCKETMQ binary codec)
// and the body.
//
//	offset  size       field
//	0       4          length: bytes that follow this field (4 + headerLen + bodyLen)
//	4       1          serializeType: 0 JSON, 1 ROCKETMQ binary
//	5       3          headerLen (24 bit)
//	8       headerLen  header (code, language, version, opaque, flag, remark, extFields)
//	8+hl    rest       body
//
// See shared/docs/wire-protocol.md §1–§3. All integers are big-endian.
package remoting

// Serialize types carried in byte 4 of a frame.
const (
	SerializeJSON     byte = 0
	SerializeRocketMQ byte = 1
)

// Flag bits.
const (
	FlagResponse int32 = 1 << 0
	FlagOneway   int32 = 1 << 1
)

// LanguageGo is the language this broker names in its own commands.
const LanguageGo = "GO"

// Version is the MQVersion ordinal this broker sends (V4_9_4 = 401). It must
// fit in int16 for the Go client.
const Version int32 = 401

// Command is one decoded remoting frame, request or response.
//
// Ownership: a Command is owned by one goroutine at a time. A decoded send
// or pull request's header strings and Body live in a pooled buffer until
// its last owner calls Release (framepool.go); any other decoded Command
// owns plain copies.
//
// A decoded send request keeps its header fields in an array instead of
// ExtFields, which is nil then (sendext.go): read fields with Ext and the
// Required* and Optional* accessors, or walk them with EachExt.
type Command struct {
	Code      int32
	Language  string // enum name, e.g. "JAVA", "GO"; numeric codes are mapped to names
	Version   int32
	Opaque    int32
	Flag      int32
	Remark    string
	ExtFields map[string]string // nil for a decoded send request: see the type's comment
	Body      []byte
	// SerializeType is the header codec the command arrived in (or will be
	// encoded with). Responses are always encoded as JSON unless set otherwise.
	SerializeType byte
	// extDecoded marks ExtFields as made by DecodeFrame, which ReleaseExt
	// may recycle.
	extDecoded bool
	// send holds the extFields of a send header instead of ExtFields
	// (sendext.go); nil otherwise.
	send *sendExt
	// frame is the pooled home of a decoded send request (framepool.go);
	// nil otherwise.
	frame *pooledFrame
}

// IsResponse reports whether the response bit is set.
func (c *Command) IsResponse() bool { return c.Flag&FlagResponse != 0 }

// IsOneway reports whether the requester asked for no reply. Real clients
// never set it (wire doc §2.3), so handlers answer regardless.
func (c *Command) IsOneway() bool { return c.Flag&FlagOneway != 0 }

// NewRequest builds a request command with JSON header encoding.
func NewRequest(code int32, ext map[string]string, body []byte) *Command {
	return &Command{Code: code, Language: LanguageGo, Version: Version, ExtFields: ext, Body: body}
}

// NewResponse builds the response to req with the given code and remark,
// echoing req's opaque. The caller fills ExtFields and Body.
func NewResponse(req *Command, code int32, remark string) *Command {
	c := ResponseTo(req.Opaque, code, remark)
	return &c
}

// ResponseTo is the response header to the request of opaque, as a value:
// for answers encoded from the stack (AppendFrameExt) without a Command on
// the heap.
func ResponseTo(opaque, code int32, remark string) Command {
	return Command{Code: code, Language: LanguageGo, Version: Version, Opaque: opaque, Flag: FlagResponse, Remark: remark}
}

// SetExt sets one extFields entry, allocating the map on first use.
func (c *Command) SetExt(key, value string) {
	if c.send != nil {
		if i, ok := c.send.field(key); ok {
			c.send.put(i, value)
			return
		}
	}
	if c.ExtFields == nil {
		c.ExtFields = make(map[string]string, 8)
	}
	c.ExtFields[key] = value
}
