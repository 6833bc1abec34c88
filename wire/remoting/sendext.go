package remoting

import "sync"

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
// the Required*/Optional* accessors, which look in either representation,
// and the encoders write both, so a command decodes, re-encodes and compares
// the same either way. Rejected alternative: a typed SendMessageRequestHeader
// struct filled by the decoder, which would put the send path's field rules
// (required fields, number parsing, Java's error texts) into the codec.

// sendExtFieldsMax is the number of fields a sendExt holds.
const sendExtFieldsMax = 26

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
		return 0, true
	case "topic":
		return 1, true
	case "defaultTopic":
		return 2, true
	case "defaultTopicQueueNums":
		return 3, true
	case "queueId":
		return 4, true
	case "sysFlag":
		return 5, true
	case "bornTimestamp":
		return 6, true
	case "flag":
		return 7, true
	case "properties":
		return 8, true
	case "reconsumeTimes":
		return 9, true
	case "unitMode":
		return 10, true
	case "maxReconsumeTimes":
		return 11, true
	case "batch":
		return 12, true
	case "brokerName":
		return 13, true
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
		"producerGroup", "topic", "defaultTopic", "defaultTopicQueueNums", "queueId", "sysFlag",
		"bornTimestamp", "flag", "properties", "reconsumeTimes", "unitMode", "maxReconsumeTimes", "batch",
		"brokerName",
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
