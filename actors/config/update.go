package config

import (
	"errors"
	"fmt"
)

// ErrUnknownKey is wrapped when a key names no broker property.
var ErrUnknownKey = errors.New("config: unknown key")

// ParseProperties parses Java .properties text (the UPDATE_BROKER_CONFIG
// body) into pairs in text order.
func ParseProperties(text []byte) ([]KV, error) {
	kvs, err := parseProperties(text)
	if err != nil {
		return nil, fmt.Errorf("%w: properties: %v", ErrInvalid, err)
	}
	return kvs, nil
}

// With returns a copy of b with kvs applied, then validated as at load.
// An unknown key fails with ErrUnknownKey and a bad value with ErrInvalid;
// b itself never changes. Whether a key may change while the broker runs is
// the caller's decision.
func (b Broker) With(kvs []KV) (Broker, error) {
	known := make(map[string]bool)
	for _, f := range b.fields() {
		known[f.key] = true
		for _, a := range f.aliases {
			known[a] = true
		}
	}
	for _, kv := range kvs {
		if !known[kv.Key] {
			return Broker{}, fmt.Errorf("%w %q", ErrUnknownKey, kv.Key)
		}
	}
	next := b
	if _, err := apply(next.fields(), kvs); err != nil {
		return Broker{}, err
	}
	if err := next.Validate(); err != nil {
		return Broker{}, err
	}
	return next, nil
}
