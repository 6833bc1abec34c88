package body

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Expression types of a subscription (wire-protocol.md §8.2).
const (
	ExpressionTag   = "TAG"
	ExpressionSQL92 = "SQL92"
	// SubAll is the subString that matches every message.
	SubAll = "*"
)

// IsTagType reports whether s filters by tags: ExpressionType "TAG" or
// absent (ali-ons omits it for tag subscriptions).
func (s SubscriptionData) IsTagType() bool {
	return s.ExpressionType == "" || s.ExpressionType == ExpressionTag
}

// UnmarshalJSON accepts what the clients send (wire-protocol.md §8.2):
// codeSet entries as JSON numbers (Java, ali-ons) or numeric strings (Go
// 2.1.2: ["2598919"]), and subVersion as a number (Go sends nanoseconds,
// which still fit int64) or a numeric string. Other fields decode as usual.
func (s *SubscriptionData) UnmarshalJSON(b []byte) error {
	type plain SubscriptionData
	var aux struct {
		plain
		// Shallower fields shadow the embedded ones of the same JSON name.
		CodeSet    []flexInt32 `json:"codeSet"`
		SubVersion flexInt64   `json:"subVersion"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*s = SubscriptionData(aux.plain)
	s.SubVersion = int64(aux.SubVersion)
	s.CodeSet = nil
	if aux.CodeSet != nil {
		s.CodeSet = make([]int32, len(aux.CodeSet))
		for i, c := range aux.CodeSet {
			s.CodeSet[i] = int32(c)
		}
	}
	return nil
}

// flexInt64 decodes a JSON integer or a string holding one; null leaves it
// unchanged.
type flexInt64 int64

func (f *flexInt64) UnmarshalJSON(b []byte) error {
	v, err := parseFlexInt(b, 64)
	if err == nil && v != nil {
		*f = flexInt64(*v)
	}
	return err
}

// flexInt32 is flexInt64 restricted to the int32 range (Java int hash
// codes).
type flexInt32 int32

func (f *flexInt32) UnmarshalJSON(b []byte) error {
	v, err := parseFlexInt(b, 32)
	if err == nil && v != nil {
		*f = flexInt32(*v)
	}
	return err
}

// parseFlexInt parses b (a JSON value) as a number or numeric string of the
// given bit size; nil for null.
func parseFlexInt(b []byte, bits int) (*int64, error) {
	s := string(b)
	if s == "null" {
		return nil, nil
	}
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, err
		}
	}
	v, err := strconv.ParseInt(s, 10, bits)
	if err != nil {
		return nil, fmt.Errorf("body: integer %s: %w", b, err)
	}
	return &v, nil
}
