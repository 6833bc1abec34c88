package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/actormq/actormq/wire/body"
)

// ErrBody is wrapped by every body decoding failure.
var ErrBody = errors.New("admin: malformed body")

// Java writes Map<MessageQueue, V> with the MessageQueue object itself as
// the key (wire-protocol.md §8.7), which is not JSON:
//
//	{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"t"}:{"maxOffset":5,...},...},"consumeTps":0.0}
//
// encoding/json cannot read that, so objectEntries cuts an object into raw
// key and value texts with a small scanner (strings, nesting and fastjson's
// bare keys respected), and the callers decode each piece with encoding/json.
// A key may also arrive as a JSON string holding the object (a standard-JSON
// encoder's choice); mqKey accepts both.

// entry is one key:value pair of an object, both as raw JSON-ish text.
type entry struct{ key, value []byte }

// objectEntries splits the object b into its entries without validating the
// values. Trailing whitespace is allowed, anything else after the object is
// an error. It never panics.
func objectEntries(b []byte) ([]entry, error) {
	s := scanner{b: b}
	s.skipSpace()
	if !s.eat('{') {
		return nil, fmt.Errorf("%w: want an object at byte %d", ErrBody, s.i)
	}
	var out []entry
	s.skipSpace()
	if !s.eat('}') {
		for {
			k, err := s.value()
			if err != nil {
				return nil, err
			}
			s.skipSpace()
			if !s.eat(':') {
				return nil, fmt.Errorf("%w: want ':' at byte %d", ErrBody, s.i)
			}
			v, err := s.value()
			if err != nil {
				return nil, err
			}
			out = append(out, entry{key: k, value: v})
			s.skipSpace()
			if s.eat(',') {
				continue
			}
			if s.eat('}') {
				break
			}
			return nil, fmt.Errorf("%w: want ',' or '}' at byte %d", ErrBody, s.i)
		}
	}
	s.skipSpace()
	if s.i != len(b) {
		return nil, fmt.Errorf("%w: data after the object at byte %d", ErrBody, s.i)
	}
	return out, nil
}

// field returns the value of the object entry whose key is the JSON string
// name, or nil.
func field(entries []entry, name string) []byte {
	for _, e := range entries {
		var k string
		if json.Unmarshal(e.key, &k) == nil && k == name {
			return e.value
		}
	}
	return nil
}

// mqKey decodes a MessageQueue map key: an object, or a string holding one.
func mqKey(raw []byte) (body.MessageQueue, error) {
	var mq body.MessageQueue
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return mq, fmt.Errorf("%w: queue key %.40q: %w", ErrBody, raw, err)
		}
		raw = []byte(s)
	}
	if err := json.Unmarshal(raw, &mq); err != nil {
		return mq, fmt.Errorf("%w: queue key %.40q: %w", ErrBody, raw, err)
	}
	return mq, nil
}

// mqTable decodes a Map<MessageQueue, V> object into a map; a null or
// absent table is empty.
func mqTable[V any](raw []byte) (map[body.MessageQueue]V, error) {
	out := map[body.MessageQueue]V{}
	if len(raw) == 0 || string(raw) == "null" {
		return out, nil
	}
	entries, err := objectEntries(raw)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		mq, err := mqKey(e.key)
		if err != nil {
			return nil, err
		}
		var v V
		if err := json.Unmarshal(e.value, &v); err != nil {
			return nil, fmt.Errorf("%w: value of %s/%s/%d: %w", ErrBody, mq.Topic, mq.BrokerName, mq.QueueID, err)
		}
		out[mq] = v
	}
	return out, nil
}

// SortQueues orders queues as Java's MessageQueue.compareTo does: topic,
// then broker name, then queue id.
func SortQueues(mqs []body.MessageQueue) {
	sort.Slice(mqs, func(i, j int) bool { return lessQueue(mqs[i], mqs[j]) })
}

func lessQueue(a, b body.MessageQueue) bool {
	if a.Topic != b.Topic {
		return a.Topic < b.Topic
	}
	if a.BrokerName != b.BrokerName {
		return a.BrokerName < b.BrokerName
	}
	return a.QueueID < b.QueueID
}

// scanner walks JSON-like text; it only finds where values end.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) skipSpace() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// value returns the text of the value at the cursor: a string, an object or
// array (balanced, strings skipped), or a bare token (number, literal,
// fastjson key) running up to a delimiter.
func (s *scanner) value() ([]byte, error) {
	s.skipSpace()
	start := s.i
	if s.i >= len(s.b) {
		return nil, fmt.Errorf("%w: value missing at end", ErrBody)
	}
	switch s.b[s.i] {
	case '"':
		if err := s.skipString(); err != nil {
			return nil, err
		}
	case '{', '[':
		depth := 0
		for {
			if s.i >= len(s.b) {
				return nil, fmt.Errorf("%w: unterminated object or array from byte %d", ErrBody, start)
			}
			switch s.b[s.i] {
			case '"':
				if err := s.skipString(); err != nil {
					return nil, err
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.i++
			if depth == 0 {
				break
			}
		}
	default:
		for s.i < len(s.b) {
			c := s.b[s.i]
			if c == ',' || c == ':' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
				break
			}
			s.i++
		}
	}
	if s.i == start {
		return nil, fmt.Errorf("%w: value missing at byte %d", ErrBody, start)
	}
	return s.b[start:s.i], nil
}

// skipString moves past the string starting at the cursor.
func (s *scanner) skipString() error {
	start := s.i
	s.i++
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			s.i += 2
			continue
		case '"':
			s.i++
			return nil
		}
		s.i++
	}
	return fmt.Errorf("%w: unterminated string from byte %d", ErrBody, start)
}
