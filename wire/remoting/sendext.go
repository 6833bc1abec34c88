package remoting

import (
	"strings"
	"sync"
)

// The send requests (SEND_MESSAGE, SEND_MESSAGE_V2, SEND_BATCH_MESSAGE and
// the two SEND_REPLY_MESSAGE codes, wire doc §6.1) are the busiest requests
// by far, and their headers carry a fixed set of fields: the full names of
// SendMessageRequestHeader, or the one-letter keys a..z of its V2 form. The
// decoders keep such extFields in a sendExt, an array indexed by field,
// instead of a map: no hashing per field on decode and per lookup in the
// handler, and nothing to clear on release. A header of these codes with any
// other key (a client adding a field of its own) is decoded into the map as
// usual.
//
// Such a command has ExtFields == nil: its handlers read fields with Ext and
// the Required*/Optional* accessors, which look in either representation
// (the send handler with SendFields, the same by field index), and the
// encoders write both, so a command decodes, re-encodes and compares
// the same either way. Rejected alternative: a typed SendMessageRequestHeader
// struct filled by the decoder, which would put the send path's field rules
// (required fields, number parsing, Java's error texts) into the codec.

// sendExtFieldsMax is the number of fields a sendExt holds.
const sendExtFieldsMax = 26

// SendField is a field of the send header, its index in the field array:
// V2 key 'a'+SendField, V1 key the name in sendKeysV1.
type SendField uint8

// The send header's fields, in the order of the V2 letters.
const (
	SendProducerGroup         SendField = iota // a
	SendTopic                                  // b
	SendDefaultTopic                           // c
	SendDefaultTopicQueueNums                  // d
	SendQueueID                                // e
	SendSysFlag                                // f
	SendBornTimestamp                          // g
	SendFlag                                   // h
	SendProperties                             // i
	SendReconsumeTimes                         // j
	SendUnitMode                               // k
	SendMaxReconsumeTimes                      // l
	SendBatch                                  // m
	SendBrokerName                             // n
)

// sendKeys is one spelling of the send header's fields.
type sendKeys struct {
	names [sendExtFieldsMax]string // field index → key; "" past the last
	short bool                     // the V2 one-letter keys: 'a'+i is field i
}

// index returns the field index of key in this spelling: sendKeysV2's
// letters, or else sendKeysV1's names, which the switch lists. It runs for
// every field decoded and every field the send handler reads: a method with
// a switch, not the indirect call of a func field per spelling. (The
// compiler's string switch measured fewer instructions than a switch on
// the length with one compare.)
func (k *sendKeys) index(key string) (int, bool) {
	if k.short {
		if len(key) == 1 && key[0] >= 'a' && key[0] <= 'z' {
			return int(key[0] - 'a'), true
		}
		return 0, false
	}
	switch key {
	case "producerGroup":
		return int(SendProducerGroup), true
	case "topic":
		return int(SendTopic), true
	case "defaultTopic":
		return int(SendDefaultTopic), true
	case "defaultTopicQueueNums":
		return int(SendDefaultTopicQueueNums), true
	case "queueId":
		return int(SendQueueID), true
	case "sysFlag":
		return int(SendSysFlag), true
	case "bornTimestamp":
		return int(SendBornTimestamp), true
	case "flag":
		return int(SendFlag), true
	case "properties":
		return int(SendProperties), true
	case "reconsumeTimes":
		return int(SendReconsumeTimes), true
	case "unitMode":
		return int(SendUnitMode), true
	case "maxReconsumeTimes":
		return int(SendMaxReconsumeTimes), true
	case "batch":
		return int(SendBatch), true
	case "brokerName":
		return int(SendBrokerName), true
	}
	return 0, false
}

// sendKeysV2 are the V2 one-letter keys (310, 320, 325).
var sendKeysV2 = sendKeys{
	names: func() (names [sendExtFieldsMax]string) {
		const letters = "abcdefghijklmnopqrstuvwxyz"
		for i := range names {
			names[i] = letters[i : i+1]
		}
		return names
	}(),
	short: true,
}

// sendKeysV1 are SendMessageRequestHeader's full names (10, 324).
var sendKeysV1 = sendKeys{
	names: [sendExtFieldsMax]string{
		SendProducerGroup: "producerGroup", SendTopic: "topic", SendDefaultTopic: "defaultTopic",
		SendDefaultTopicQueueNums: "defaultTopicQueueNums", SendQueueID: "queueId", SendSysFlag: "sysFlag",
		SendBornTimestamp: "bornTimestamp", SendFlag: "flag", SendProperties: "properties",
		SendReconsumeTimes: "reconsumeTimes", SendUnitMode: "unitMode", SendMaxReconsumeTimes: "maxReconsumeTimes",
		SendBatch: "batch", SendBrokerName: "brokerName",
	},
}

// sendKeysFor returns the spelling the decoders use for requests of code,
// nil for codes decoded into a map.
func sendKeysFor(code int32) *sendKeys {
	switch code {
	case ReqSendMessageV2, ReqSendBatchMessage, ReqSendReplyMessageV2:
		return &sendKeysV2
	case ReqSendMessage, ReqSendReplyMessage:
		return &sendKeysV1
	}
	return nil
}

// sendExt holds the extFields of a send header, by field index.
type sendExt struct {
	keys *sendKeys
	vals [sendExtFieldsMax]string
	set  uint32 // bit i: field i is present (a null value is absent)
}

// sendExts recycles sendExts between decodes (ReleaseExt).
var sendExts = sync.Pool{New: func() any { return new(sendExt) }}

func newSendExt(keys *sendKeys) *sendExt {
	s := sendExts.Get().(*sendExt)
	s.keys = keys
	return s
}

// field returns the index of key in s's spelling.
func (s *sendExt) field(key string) (int, bool) { return s.keys.index(key) }

func (s *sendExt) put(i int, v string) {
	s.vals[i] = v
	s.set |= 1 << i
}

func (s *sendExt) remove(i int) {
	s.vals[i] = ""
	s.set &^= 1 << i
}

func (s *sendExt) get(i int) (string, bool) {
	return s.vals[i], s.set&(1<<i) != 0
}

// each calls f for every field present, in index order.
func (s *sendExt) each(f func(key, value string)) {
	for i := range sendExtFieldsMax {
		if s.set&(1<<i) != 0 {
			f(s.keys.names[i], s.vals[i])
		}
	}
}

// release clears s and hands it back for a later decode.
func (s *sendExt) release() {
	*s = sendExt{}
	sendExts.Put(s)
}

// SendFields reads the fields of a send header by SendField instead of by
// key. The send handler reads about 16 fields per request, and Ext maps each
// key to its index with a string switch; here a field of a decoded send
// header is an array index. Each accessor answers from the array only what
// it can answer alone (a present value, a number that parses, an absent
// optional field); everything else (a missing required field, a bad number,
// a command without the array: built with an ExtFields map, decoded into
// the map because of a key of its own, or in the other spelling) goes to
// the key-based accessor with the field's key, so answers and error texts
// are those of Ext and the Required*/Optional* accessors. Rejected
// alternative: SendField variants of the accessors on Command, each call
// passing the spelling.
type SendFields struct {
	c    *Command
	keys *sendKeys
	s    *sendExt // c's field array when it has keys' spelling, else nil
}

// SendFields returns the reader of c's send header in the V2 one-letter
// spelling (short) or the V1 full names.
func (c *Command) SendFields(short bool) SendFields {
	r := SendFields{c: c, keys: &sendKeysV1}
	if short {
		r.keys = &sendKeysV2
	}
	if c.send != nil && c.send.keys == r.keys {
		r.s = c.send
	}
	return r
}

// Key returns the key of f in r's spelling.
func (r SendFields) Key(f SendField) string { return r.keys.names[f] }

// value returns f's value from r's field array and whether it is present
// (non-empty, as Ext counts it); known is false when r has no array and the
// caller must ask c by key. Small enough to inline into each accessor.
func (r SendFields) value(f SendField) (v string, ok, known bool) {
	if r.s == nil {
		return "", false, false
	}
	v = r.s.vals[f]
	return v, v != "", true
}

// Ext is Ext(r.Key(f)).
func (r SendFields) Ext(f SendField) (string, bool) {
	if v, ok, known := r.value(f); known {
		return v, ok
	}
	return r.c.Ext(r.Key(f))
}

// RequiredString is RequiredString(r.Key(f)).
func (r SendFields) RequiredString(f SendField) (string, error) {
	if v, ok, _ := r.value(f); ok {
		return v, nil
	}
	return r.c.RequiredString(r.Key(f))
}

// RequiredInt32 is RequiredInt32(r.Key(f)).
func (r SendFields) RequiredInt32(f SendField) (int32, error) {
	if v, ok, _ := r.value(f); ok {
		if n, err := parseDecimal(v, 32); err == nil {
			return int32(n), nil
		}
	}
	return r.c.RequiredInt32(r.Key(f))
}

// RequiredInt64 is RequiredInt64(r.Key(f)).
func (r SendFields) RequiredInt64(f SendField) (int64, error) {
	if v, ok, _ := r.value(f); ok {
		if n, err := parseDecimal(v, 64); err == nil {
			return n, nil
		}
	}
	return r.c.RequiredInt64(r.Key(f))
}

// OptionalInt32 is OptionalInt32(r.Key(f), def).
func (r SendFields) OptionalInt32(f SendField, def int32) (int32, error) {
	v, ok, known := r.value(f)
	if known && !ok {
		return def, nil
	}
	if ok {
		if n, err := parseDecimal(v, 32); err == nil {
			return int32(n), nil
		}
	}
	return r.c.OptionalInt32(r.Key(f), def)
}

// OptionalBool is OptionalBool(r.Key(f), def).
func (r SendFields) OptionalBool(f SendField, def bool) bool {
	if v, ok, known := r.value(f); known {
		if !ok {
			return def
		}
		return strings.EqualFold(v, "true")
	}
	return r.c.OptionalBool(r.Key(f), def)
}
