package body

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/actormq/actormq/wire/remoting"
)

// Admin bodies whose maps are keyed by MessageQueue (wire-protocol.md §8.5,
// §8.7). Java's fastjson writes such a map with the key object itself as the
// key, which is not valid JSON:
//
//	{"consumeTps":0.0,"offsetTable":{{"brokerName":"b","queueId":0,"topic":"t"}:
//	 {"brokerOffset":9,"consumerOffset":7,"lastTimestamp":1700000000000,"pullOffset":7},…}}
//
// Java clients (fastjson) and the Go client (string surgery on "{{", ",{" and
// "}:") read exactly this text, so the encoders below write it byte for byte
// the way fastjson does: compact, fields in alphabetical order, doubles in
// Java's Double.toString form. Entries are sorted by topic, broker name and
// queue id so the output is deterministic.

// OffsetWrapper is one queue of ConsumeStats. Fields are declared in
// fastjson's (alphabetical) order. pullOffset is 5.x; 4.x readers ignore it.
type OffsetWrapper struct {
	BrokerOffset   int64 `json:"brokerOffset"`
	ConsumerOffset int64 `json:"consumerOffset"`
	LastTimestamp  int64 `json:"lastTimestamp"`
	PullOffset     int64 `json:"pullOffset"`
}

// ConsumeStats is the GET_CONSUME_STATS (208) body.
type ConsumeStats struct {
	OffsetTable map[MessageQueue]OffsetWrapper
	ConsumeTps  float64
}

// TopicOffset is one queue of TopicStatsTable, fields in fastjson order.
type TopicOffset struct {
	LastUpdateTimestamp int64 `json:"lastUpdateTimestamp"`
	MaxOffset           int64 `json:"maxOffset"`
	MinOffset           int64 `json:"minOffset"`
}

// TopicStatsTable is the GET_TOPIC_STATS_INFO (202) body (the 4.x shape,
// without 5.x's topicPutTps).
type TopicStatsTable struct {
	OffsetTable map[MessageQueue]TopicOffset
}

// ResetOffsetBody is the body of RESET_CONSUMER_CLIENT_OFFSET (220) and of
// the INVOKE_BROKER_TO_RESET_OFFSET (222) response: the target offset of
// each queue.
type ResetOffsetBody struct {
	OffsetTable map[MessageQueue]int64
}

// Connection is one client connection of a ConsumerConnection body
// (standard JSON, wire-protocol.md §8.5).
type Connection struct {
	ClientID   string `json:"clientId"`
	ClientAddr string `json:"clientAddr"`
	Language   string `json:"language"`
	Version    int32  `json:"version"`
}

// ConsumerConnection is the GET_CONSUMER_CONNECTION_LIST (203) body: a
// consumer group's connections and what it subscribes (standard JSON).
type ConsumerConnection struct {
	ConnectionSet     []Connection                `json:"connectionSet"`
	SubscriptionTable map[string]SubscriptionData `json:"subscriptionTable"`
	ConsumeType       string                      `json:"consumeType"`
	MessageModel      string                      `json:"messageModel"`
	ConsumeFromWhere  string                      `json:"consumeFromWhere"`
}

// GroupList is the QUERY_TOPIC_CONSUME_BY_WHO (300) body `{"groupList":[…]}`
// (standard JSON: its elements are strings).
type GroupList struct {
	GroupList []string `json:"groupList"`
}

// MarshalJSON writes a nil list as [].
func (g GroupList) MarshalJSON() ([]byte, error) {
	type plain GroupList
	g.GroupList = orEmptySlice(g.GroupList)
	return marshalNoEscape(plain(g))
}

// Encode writes the fastjson form. Safe from any goroutine.
func (s *ConsumeStats) Encode() []byte {
	dst := append(make([]byte, 0, 64+len(s.OffsetTable)*160), `{"consumeTps":`...)
	dst = AppendJavaDouble(dst, s.ConsumeTps)
	dst = append(dst, `,"offsetTable":`...)
	dst = appendMQMap(dst, s.OffsetTable, func(dst []byte, w OffsetWrapper) []byte {
		dst = append(dst, `{"brokerOffset":`...)
		dst = strconv.AppendInt(dst, w.BrokerOffset, 10)
		dst = append(dst, `,"consumerOffset":`...)
		dst = strconv.AppendInt(dst, w.ConsumerOffset, 10)
		dst = append(dst, `,"lastTimestamp":`...)
		dst = strconv.AppendInt(dst, w.LastTimestamp, 10)
		dst = append(dst, `,"pullOffset":`...)
		dst = strconv.AppendInt(dst, w.PullOffset, 10)
		return append(dst, '}')
	})
	return append(dst, '}')
}

// Encode writes the fastjson form. Safe from any goroutine.
func (t *TopicStatsTable) Encode() []byte {
	dst := append(make([]byte, 0, 32+len(t.OffsetTable)*140), `{"offsetTable":`...)
	dst = appendMQMap(dst, t.OffsetTable, func(dst []byte, o TopicOffset) []byte {
		dst = append(dst, `{"lastUpdateTimestamp":`...)
		dst = strconv.AppendInt(dst, o.LastUpdateTimestamp, 10)
		dst = append(dst, `,"maxOffset":`...)
		dst = strconv.AppendInt(dst, o.MaxOffset, 10)
		dst = append(dst, `,"minOffset":`...)
		dst = strconv.AppendInt(dst, o.MinOffset, 10)
		return append(dst, '}')
	})
	return append(dst, '}')
}

// Encode writes the fastjson form. Safe from any goroutine.
func (r *ResetOffsetBody) Encode() []byte {
	dst := append(make([]byte, 0, 32+len(r.OffsetTable)*80), `{"offsetTable":`...)
	dst = appendMQMap(dst, r.OffsetTable, func(dst []byte, off int64) []byte {
		return strconv.AppendInt(dst, off, 10)
	})
	return append(dst, '}')
}

// appendMQMap writes {key:value,…} with MessageQueue object keys, sorted.
func appendMQMap[V any](dst []byte, m map[MessageQueue]V, value func([]byte, V) []byte) []byte {
	dst = append(dst, '{')
	for i, k := range slices.SortedFunc(maps.Keys(m), CompareQueues) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"brokerName":`...)
		dst = remoting.AppendJSONString(dst, k.BrokerName)
		dst = append(dst, `,"queueId":`...)
		dst = strconv.AppendInt(dst, int64(k.QueueID), 10)
		dst = append(dst, `,"topic":`...)
		dst = remoting.AppendJSONString(dst, k.Topic)
		dst = append(dst, "}:"...)
		dst = value(dst, m[k])
	}
	return append(dst, '}')
}

// CompareQueues orders queues by topic, broker name, then queue id, as
// Java's MessageQueue.compareTo does (tools print queues in this order).
func CompareQueues(a, b MessageQueue) int {
	if c := cmp.Compare(a.Topic, b.Topic); c != 0 {
		return c
	}
	if c := cmp.Compare(a.BrokerName, b.BrokerName); c != 0 {
		return c
	}
	return cmp.Compare(a.QueueID, b.QueueID)
}

// AppendJavaDouble appends v the way Java's Double.toString (and so
// fastjson) writes it: "0.0", "12.5", "1.0E7", "1.0E-4". NaN and infinities,
// which fastjson writes as null, are written as 0.0 so the body stays
// parseable by every client.
func AppendJavaDouble(dst []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	if a := math.Abs(v); a == 0 || (a >= 1e-3 && a < 1e7) {
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return append(dst, s...)
	}
	s := strconv.FormatFloat(v, 'E', -1, 64) // "1.2345E+07"
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	n, _ := strconv.Atoi(exp)
	dst = append(dst, mant...)
	dst = append(dst, 'E')
	return strconv.AppendInt(dst, int64(n), 10)
}

// DecodeConsumeStats parses a ConsumeStats body in the fastjson form (or
// with standard JSON string keys that hold a queue object). Errors wrap
// ErrJSON. It never panics.
func DecodeConsumeStats(b []byte) (ConsumeStats, error) {
	s := ConsumeStats{OffsetTable: map[MessageQueue]OffsetWrapper{}}
	err := DecodeFields(b, map[string]func([]byte) error{
		"consumeTps":  func(v []byte) error { return json.Unmarshal(v, &s.ConsumeTps) },
		"offsetTable": mqMapInto(s.OffsetTable),
	})
	return s, err
}

// DecodeTopicStatsTable parses a TopicStatsTable body. Errors wrap ErrJSON.
// It never panics.
func DecodeTopicStatsTable(b []byte) (TopicStatsTable, error) {
	t := TopicStatsTable{OffsetTable: map[MessageQueue]TopicOffset{}}
	err := DecodeFields(b, map[string]func([]byte) error{"offsetTable": mqMapInto(t.OffsetTable)})
	return t, err
}

// DecodeResetOffsetBody parses a ResetOffsetBody. Errors wrap ErrJSON. It
// never panics.
func DecodeResetOffsetBody(b []byte) (ResetOffsetBody, error) {
	r := ResetOffsetBody{OffsetTable: map[MessageQueue]int64{}}
	err := DecodeFields(b, map[string]func([]byte) error{"offsetTable": mqMapInto(r.OffsetTable)})
	return r, err
}

// mqMapInto returns a field decoder that reads a map keyed by MessageQueue
// into dst, each value with encoding/json.
func mqMapInto[V any](dst map[MessageQueue]V) func([]byte) error {
	return func(b []byte) error {
		return DecodeMQMap(b, func(mq MessageQueue, raw []byte) error {
			var v V
			if err := json.Unmarshal(raw, &v); err != nil {
				return err
			}
			dst[mq] = v
			return nil
		})
	}
}

// DecodeFields walks the top-level object b, which may hold fastjson's
// object keys below it, and hands the raw value of each field named in
// fields to its decoder; other fields are skipped. Errors wrap ErrJSON. The
// values handed out alias b. Safe from any goroutine; it never panics.
func DecodeFields(b []byte, fields map[string]func([]byte) error) error {
	entries, err := objectEntries(b)
	if err != nil {
		return err
	}
	for _, e := range entries {
		var name string
		if json.Unmarshal(e.key, &name) != nil {
			return fmt.Errorf("%w: field name %.40q is not a string", ErrJSON, e.key)
		}
		if dec := fields[name]; dec != nil {
			if err := dec(e.value); err != nil {
				if errors.Is(err, ErrJSON) {
					return fmt.Errorf("field %s: %w", name, err)
				}
				return fmt.Errorf("%w: field %s: %w", ErrJSON, name, err)
			}
		}
	}
	return nil
}

// DecodeMQMap walks b, a map keyed by MessageQueue (each key a queue
// object, or a string holding one; null is an empty map), and calls put
// with each queue and the raw text of its value, which aliases b. Errors of
// its own wrap ErrJSON; put's are returned as they are. Safe from any
// goroutine; it never panics.
func DecodeMQMap(b []byte, put func(MessageQueue, []byte) error) error {
	if string(b) == "null" {
		return nil
	}
	entries, err := objectEntries(b)
	if err != nil {
		return err
	}
	for _, e := range entries {
		key := e.key
		var s string
		if json.Unmarshal(key, &s) == nil {
			key = []byte(s)
		}
		var mq MessageQueue
		if err := json.Unmarshal(key, &mq); err != nil {
			return fmt.Errorf("%w: queue key %.60q: %w", ErrJSON, e.key, err)
		}
		if err := put(mq, e.value); err != nil {
			return err
		}
	}
	return nil
}

// rawEntry is one key:value pair of an object, both as raw JSON text.
type rawEntry struct{ key, value []byte }

// objectEntries splits the object text b into its entries. Keys may be any
// JSON value (fastjson's object keys included); only the structure is
// checked here, each key and value is decoded by the caller.
func objectEntries(b []byte) ([]rawEntry, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, fmt.Errorf("%w: want an object", ErrJSON)
	}
	var out []rawEntry
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return out, checkTrailing(b, i+1)
	}
	for {
		kEnd, err := valueEnd(b, i)
		if err != nil {
			return nil, err
		}
		key := b[i:kEnd]
		i = skipSpace(b, kEnd)
		if i >= len(b) || b[i] != ':' {
			return nil, fmt.Errorf("%w: want ':' at %d", ErrJSON, i)
		}
		i = skipSpace(b, i+1)
		vEnd, err := valueEnd(b, i)
		if err != nil {
			return nil, err
		}
		out = append(out, rawEntry{key: key, value: b[i:vEnd]})
		i = skipSpace(b, vEnd)
		if i >= len(b) {
			return nil, fmt.Errorf("%w: unterminated object", ErrJSON)
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return out, checkTrailing(b, i+1)
		default:
			return nil, fmt.Errorf("%w: want ',' or '}' at %d", ErrJSON, i)
		}
	}
}

func checkTrailing(b []byte, i int) error {
	if skipSpace(b, i) != len(b) {
		return fmt.Errorf("%w: data after the object", ErrJSON)
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// valueEnd returns the index just after the value starting at b[i]: a
// string, an object or array (brackets balanced outside strings), or a bare
// scalar.
func valueEnd(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, fmt.Errorf("%w: value expected at end", ErrJSON)
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := stringEnd(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, fmt.Errorf("%w: unbalanced brackets", ErrJSON)
	}
	j := i
	for j < len(b) && !isSpace(b[j]) && !strings.ContainsRune(",:{}[]\"", rune(b[j])) {
		j++
	}
	if j == i {
		return 0, fmt.Errorf("%w: unexpected %q at %d", ErrJSON, b[i], i)
	}
	return j, nil
}

// stringEnd returns the index after the string starting at b[i] == '"'.
func stringEnd(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("%w: unterminated string", ErrJSON)
}
