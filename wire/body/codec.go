package body

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/actormq/actormq/wire/remoting"
)

// ErrJSON is wrapped by every DecodeJSON failure.
var ErrJSON = errors.New("body: malformed JSON body")

// EncodeRouteData encodes a GET_ROUTEINFO_BY_TOPIC body as compact standard
// JSON that every client parses (wire-protocol.md §8.1, client-quirks A2.8):
//
//	{"orderTopicConf":"…","queueDatas":[…],"brokerDatas":[{"cluster":"c",
//	 "brokerName":"b","brokerAddrs":{"0":"ip:port"}}],"filterServerTable":{}}
//
// No whitespace anywhere, because the Go 2.1.2 client cuts the raw
// brokerAddrs text by hand; brokerAddrs is always an object (a missing or
// null one panics that client); queueDatas and brokerDatas are always
// arrays; orderTopicConf is omitted when empty. Output is deterministic:
// both arrays sorted by brokerName (stable), map keys sorted (broker ids
// numerically). r is not modified. Safe from any goroutine.
func EncodeRouteData(r *TopicRouteData) []byte {
	return appendRouteData(make([]byte, 0, 256), r)
}

func appendRouteData(dst []byte, r *TopicRouteData) []byte {
	dst = append(dst, '{')
	if r.OrderTopicConf != "" {
		dst = append(dst, `"orderTopicConf":`...)
		dst = remoting.AppendJSONString(dst, r.OrderTopicConf)
		dst = append(dst, ',')
	}
	qds := slices.Clone(r.QueueDatas)
	slices.SortStableFunc(qds, func(a, b QueueData) int { return cmp.Compare(a.BrokerName, b.BrokerName) })
	dst = append(dst, `"queueDatas":[`...)
	for i, q := range qds {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"brokerName":`...)
		dst = remoting.AppendJSONString(dst, q.BrokerName)
		dst = appendIntField(dst, "readQueueNums", int64(q.ReadQueueNums))
		dst = appendIntField(dst, "writeQueueNums", int64(q.WriteQueueNums))
		dst = appendIntField(dst, "perm", int64(q.Perm))
		dst = appendIntField(dst, "topicSysFlag", int64(q.TopicSysFlag))
		dst = append(dst, '}')
	}
	bds := slices.Clone(r.BrokerDatas)
	slices.SortStableFunc(bds, func(a, b BrokerData) int { return cmp.Compare(a.BrokerName, b.BrokerName) })
	dst = append(dst, `],"brokerDatas":[`...)
	for i := range bds {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendBrokerData(dst, &bds[i])
	}
	dst = append(dst, `],"filterServerTable":{`...)
	for i, addr := range slices.Sorted(maps.Keys(r.FilterServerTable)) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = remoting.AppendJSONString(dst, addr)
		dst = append(dst, ":["...)
		for j, s := range r.FilterServerTable[addr] {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = remoting.AppendJSONString(dst, s)
		}
		dst = append(dst, ']')
	}
	return append(dst, "}}"...)
}

// appendBrokerData writes {"cluster","brokerName","brokerAddrs":{"id":addr}}
// with ids in numeric order and brokerAddrs always an object.
func appendBrokerData(dst []byte, b *BrokerData) []byte {
	dst = append(dst, `{"cluster":`...)
	dst = remoting.AppendJSONString(dst, b.Cluster)
	dst = append(dst, `,"brokerName":`...)
	dst = remoting.AppendJSONString(dst, b.BrokerName)
	dst = append(dst, `,"brokerAddrs":{`...)
	for i, id := range slices.Sorted(maps.Keys(b.BrokerAddrs)) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = strconv.AppendInt(dst, id, 10)
		dst = append(dst, `":`...)
		dst = remoting.AppendJSONString(dst, b.BrokerAddrs[id])
	}
	return append(dst, "}}"...)
}

func appendIntField(dst []byte, name string, v int64) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return strconv.AppendInt(dst, v, 10)
}

// EncodeJSON encodes v as compact standard JSON without HTML escaping. The
// body types of this package marshal their nil maps and slices as {} and []
// where clients expect them present (see marshal.go). v must be
// marshalable by encoding/json (no channels, funcs, NaN); otherwise it
// returns nil. Safe from any goroutine.
func EncodeJSON(v any) []byte {
	b, err := marshalNoEscape(v)
	if err != nil {
		return nil
	}
	return b
}

func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// DecodeJSON decodes standard JSON and the fastjson dialect Java peers write
// (unquoted integer map keys such as {0:"a"} or {"t@g":{0:12}}) into v.
// Errors wrap ErrJSON. b is not modified or retained. It never panics.
func DecodeJSON(b []byte, v any) error {
	if err := json.Unmarshal(quoteBareKeys(b), v); err != nil {
		return fmt.Errorf("%w: %w", ErrJSON, err)
	}
	return nil
}
